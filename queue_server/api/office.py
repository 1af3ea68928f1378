"""The office's own settings that the hall shows, and what its devices report wrong."""
from __future__ import annotations

from ..identity import staff_principal
from . import acting_office_id, endpoint, services
from .schemas import Error, HealthReports, Notice


@endpoint("/office/notice", "PUT", "Set the notice that scrolls along the bottom of the boards (admin)", "office",
          access="admin", body=Notice,
          responses={200: ("The notice now shown (null: none)", None), 401: ("Not signed in", Error),
                     403: ("Not an admin", Error), 422: ("Invalid notice", Error)})
def put_notice(body: Notice):  # noqa: ANN201
    notice = services().settings.set_notice(staff_principal(), acting_office_id(), body.vi, body.en)
    return {"notice": notice}


@endpoint("/health/reports", "GET", "Problems devices reported: voice fallbacks, missing clips (admin, supervisor)",
          "office", access="manager",
          responses={200: ("Current reports, newest first", HealthReports), 401: ("Not signed in", Error),
                     403: ("Not an admin or supervisor", Error)})
def health_reports():  # noqa: ANN201
    return {"reports": services().health.reports(acting_office_id())}


@endpoint("/live", "GET", "The admin's live view: counters, queues, devices, alerts (admin, supervisor)", "office",
          access="manager", responses={200: ("The hall now", None), 401: ("Not signed in", Error),
                                       403: ("Not an admin or supervisor", Error)})
def live_state():  # noqa: ANN201
    return services().live.state(acting_office_id())
