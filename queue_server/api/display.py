"""Public read endpoints: services for the kiosk, the board's state."""
from __future__ import annotations

from ..domain.model import DeviceKind
from ..identity import current_principal, require_device_kind
from ..services.display import board_of
from . import endpoint, services
from .schemas import DisplayState, Error, OfficeQuery, ServiceList
from .tickets import resolve_office


@endpoint("/services", "GET", "Services with waiting counts and whether issuing is open now", "public",
          query=OfficeQuery, responses={200: ("Services", ServiceList), 404: ("Unknown office", Error)})
def list_services(query: OfficeQuery):  # noqa: ANN201
    return services().display.services(resolve_office(query.office))


@endpoint("/display/state", "GET", "Board snapshot: counters, recent calls, waiting counts", "public",
          query=OfficeQuery, responses={200: ("Snapshot", DisplayState), 404: ("Unknown office", Error)})
def display_state(query: OfficeQuery):  # noqa: ANN201
    principal = current_principal()
    require_device_kind(principal, DeviceKind.DISPLAY, DeviceKind.KIOSK, DeviceKind.AGENT)
    return services().display.state(resolve_office(query.office), board=board_of(principal))

