"""Ticket endpoints: issue one, read one."""
from __future__ import annotations

import re

from flask import request

from ..domain.errors import Forbidden, InvalidInput
from ..domain.model import DeviceKind
from ..identity import current_principal, require_device_kind
from ..services.tickets import IssueRequest, track_url
from . import endpoint, services
from .schemas import Error, Ticket, TicketCreate

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")


def public_base() -> str:
    """Where citizens' phones reach this server: PUBLIC_URL, else the address this request used."""
    return services().config.get("PUBLIC_URL") or request.host_url


def with_track_url(view: dict) -> dict:
    out = dict(view)
    out["track_url"] = track_url(public_base(), out.pop("track_token", None))
    out.pop("waiting", None)
    return out


def resolve_office(code: str | None) -> int | None:
    """The office a request acts on: the caller's own, or the one named, or the default."""
    principal = current_principal()
    svc = services()
    if principal.office_id is not None:
        if code is not None and svc.office_id_by_code(code) != principal.office_id:
            raise Forbidden("Không được thao tác trên cơ quan khác.", "You may not act on another office.",
                            code="other_office")
        return principal.office_id
    return svc.office_id_by_code(code) if code else None


@endpoint("/tickets", "POST", "Issue a ticket (số thứ tự) for a service", "tickets", body=TicketCreate,
          responses={201: ("The new ticket", Ticket), 200: ("Replay of an earlier request with the same "
                                                             "Idempotency-Key", Ticket),
                     404: ("Unknown service or priority group", Error), 409: ("Closed or limit reached", Error),
                     422: ("Invalid input", Error)},
          headers={"Idempotency-Key": "Optional; repeating a request with the same key returns the same ticket"})
def issue_ticket(body: TicketCreate):  # noqa: ANN201
    principal = current_principal()
    require_device_kind(principal, DeviceKind.KIOSK)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput("Idempotency-Key không hợp lệ (8–80 ký tự chữ, số, _.:-).",
                           "Invalid Idempotency-Key (8–80 characters of letters, digits, _.:-).",
                           code="invalid_idempotency_key")
    kiosk = principal.device_code if principal.is_device else body.kiosk
    view = services().tickets.issue(IssueRequest(
        service=body.service, office_id=resolve_office(body.office), priority=body.priority, kiosk=kiosk,
        lang=body.lang, idempotency_key=key, authenticated=principal.kind != "anonymous",
        track_url_base=public_base()))
    return with_track_url(view), 200 if view.get("replayed") else 201


@endpoint("/tickets/<int:ticket_id>", "GET", "Read a ticket, with its counter once called", "tickets",
          responses={200: ("The ticket", Ticket), 404: ("No such ticket", Error)})
def get_ticket(ticket_id: int):  # noqa: ANN201
    principal = current_principal()
    return with_track_url(services().tickets.get(ticket_id, principal.office_id))
