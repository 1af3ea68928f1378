"""Printing endpoints: a kiosk's printer state, and reprinting a ticket."""
from __future__ import annotations

from ..domain.errors import Forbidden
from ..identity import current_principal
from ..services.printing import KioskRef
from . import acting_office_id, endpoint, services
from .schemas import Error, KioskState, PrinterList, PrintJob, Reprint


def _office_for_kiosk() -> int:
    principal = current_principal()
    if principal.office_id is not None:
        return principal.office_id
    office_id = services().default_office_id()
    if office_id is None:
        raise Forbidden("Chưa cấu hình cơ quan.", "No office is configured.", code="office_not_found")
    return office_id


@endpoint("/kiosks/<code>", "GET", "A kiosk's agent and printer state", "printing",
          responses={200: ("State", KioskState), 404: ("No such kiosk", Error)})
def kiosk_state(code: str):  # noqa: ANN201
    return services().printing.kiosk_state(KioskRef(_office_for_kiosk(), code[:64]))


@endpoint("/printers", "GET", "Printers of the office (kiosks and counter printers) and their state (staff)",
          "printing", access="staff", responses={200: ("Printers", PrinterList), 401: ("Not signed in", Error)})
def list_printers():  # noqa: ANN201
    return {"printers": services().printing.printers(acting_office_id())}


@endpoint("/tickets/<int:ticket_id>/reprint", "POST", "Print a ticket again (staff)", "printing",
          access="staff", body=Reprint,
          responses={201: ("The new print job", PrintJob), 401: ("Not signed in", Error),
                     404: ("No such ticket or kiosk", Error), 409: ("Never printed", Error)})
def reprint(ticket_id: int, body: Reprint):  # noqa: ANN201
    office_id = acting_office_id()
    services().tickets.get(ticket_id, office_id)   # 404 for another office's ticket
    return services().printing.reprint(ticket_id, office_id, body.kiosk), 201


@endpoint("/tickets/<int:ticket_id>/print-jobs", "GET", "Print jobs of a ticket and their state (staff)",
          "printing", access="staff", responses={200: ("Jobs", None), 401: ("Not signed in", Error)})
def ticket_print_jobs(ticket_id: int):  # noqa: ANN201
    services().tickets.get(ticket_id, acting_office_id())   # 404 for another office's ticket
    return {"jobs": services().printing.jobs_for_ticket(ticket_id)}


@endpoint("/print-jobs/<int:job_id>", "GET", "One print job and its state (staff)", "printing", access="staff",
          responses={200: ("The job", PrintJob), 401: ("Not signed in", Error), 404: ("No such job", Error)})
def print_job(job_id: int):  # noqa: ANN201
    return services().printing.job(job_id, acting_office_id())
