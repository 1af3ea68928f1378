"""Dossier endpoints: integrators and staff feed them in; anyone looks one up, masked."""
from __future__ import annotations

from flask import request

from ..domain.errors import Forbidden
from ..domain.model import DeviceKind
from ..i18n import request_lang
from ..identity import current_principal
from ..services.dossiers import DossierInput, StepInput
from . import acting_office_id, endpoint, services
from .schemas import (
    DossierBatch,
    DossierCodeRequest,
    DossierIn,
    DossierLookup,
    DossierPublic,
    DossierRegister,
    DossierReschedule,
    DossierSlipRequest,
    Error,
    OfficeQuery,
    PrintJob,
)
from .tickets import public_base


def _writer() -> str:
    """Integrator devices and signed-in staff may write dossiers; returns the source name."""
    principal = current_principal()
    if principal.is_device and principal.device_kind is DeviceKind.INTEGRATOR:
        return "api"
    if principal.is_user:
        return "counter"
    raise Forbidden("Chỉ hệ thống một cửa hoặc cán bộ được ghi hồ sơ.",
                    "Only the one-stop system or staff may write dossiers.", code="integrator_only")


def to_input(item: DossierIn, office_id: int | None) -> DossierInput:
    data = item.model_dump()
    data["steps"] = tuple(StepInput(**s) for s in data["steps"])
    return DossierInput(office_id=office_id, **data)


@endpoint("/dossiers", "POST", "Create or update a dossier by its code (integrator or staff)", "dossiers",
          access="any", body=DossierIn,
          responses={200: ("Updated, or unchanged", None), 201: ("Created", None), 401: ("Not signed in", Error),
                     403: ("Not an integrator", Error), 409: ("Return date already moved once", Error),
                     422: ("Invalid dossier", Error)})
def upsert_dossier(body: DossierIn):  # noqa: ANN201
    source = _writer()
    result = services().dossiers.upsert(to_input(body, current_principal().office_id), source)
    return result, 201 if result["created"] else 200


@endpoint("/dossiers/batch", "POST", "Create or update up to 1,000 dossiers in one transaction", "dossiers",
          access="any", body=DossierBatch, max_body=2 * 1024 * 1024,
          responses={200: ("Per-dossier outcome", None), 401: ("Not signed in", Error),
                     403: ("Not an integrator", Error), 409: ("Return date already moved once", Error),
                     422: ("Invalid dossier; nothing was written", Error)})
def upsert_batch(body: DossierBatch):  # noqa: ANN201
    source = _writer()
    office_id = current_principal().office_id
    results = services().dossiers.upsert_many([to_input(i, office_id) for i in body.items], source)
    return {"results": results, "created": sum(r["created"] for r in results), "count": len(results)}


@endpoint("/dossiers/register", "POST", "Register a dossier received at the counter (staff)", "dossiers",
          access="staff", body=DossierRegister,
          responses={201: ("Registered; the staff view", None), 401: ("Not signed in", Error),
                     409: ("The code already exists", Error), 422: ("Invalid dossier", Error)})
def register_dossier(body: DossierRegister):  # noqa: ANN201
    fields = body.model_dump(exclude={"code"})
    return services().dossiers.register(acting_office_id(), fields, body.code, request_lang()), 201


@endpoint("/dossiers/find", "POST", "A dossier as the officer sees it: full name, no rate limit (staff)", "dossiers",
          access="staff", body=DossierCodeRequest,
          responses={200: ("The staff view", None), 401: ("Not signed in", Error), 404: ("Unknown dossier", Error),
                     422: ("Not a dossier code", Error)})
def find_dossier(body: DossierCodeRequest):  # noqa: ANN201
    return services().dossiers.staff_view(body.code, acting_office_id(), request_lang())


@endpoint("/dossiers/reschedule", "POST", "Give a late dossier its apology's new return date, once (staff)",
          "dossiers", access="staff", body=DossierReschedule,
          responses={200: ("The staff view", None), 401: ("Not signed in", Error), 404: ("Unknown dossier", Error),
                     409: ("Already moved once, or finished", Error), 422: ("Invalid date", Error)})
def reschedule_dossier(body: DossierReschedule):  # noqa: ANN201
    return services().dossiers.reschedule(body.code, body.new_date, body.reason, acting_office_id(), request_lang())


def _lookup(text: str, kiosk: str | None, lang: str):  # noqa: ANN202
    principal = current_principal()
    if principal.is_device and principal.device_kind is DeviceKind.KIOSK:
        kiosk = principal.device_code
    return services().dossiers.lookup(text, lang, "kiosk" if kiosk else "web", request.remote_addr, kiosk)


@endpoint("/dossiers/lookup", "POST", "Look up a dossier from what was scanned or typed (public, masked)",
          "dossiers", body=DossierLookup,
          responses={200: ("Public status view", DossierPublic), 404: ("Unknown dossier", Error),
                     422: ("Not a dossier code", Error), 429: ("Too many lookups", Error)})
def lookup_dossier(body: DossierLookup):  # noqa: ANN201
    return _lookup(body.text, body.kiosk, body.lang)


@endpoint("/dossiers/<path:code>", "GET", "Public status view of a dossier (masked owner name)", "dossiers",
          query=OfficeQuery,
          responses={200: ("Public status view", DossierPublic), 404: ("Unknown dossier", Error),
                     422: ("Not a dossier code", Error), 429: ("Too many lookups", Error)})
def get_dossier(code: str, query: OfficeQuery):  # noqa: ANN201
    # A lookup URL pasted into the path arrives split: put its query string back before parsing.
    text = code + ("?" + request.query_string.decode("utf-8", "replace") if request.query_string else "")
    return _lookup(text, None, query.lang or "vi")


@endpoint("/dossier-slips", "POST", "Print a dossier's receipt, or its apology slip, on a printer (staff)",
          "dossiers", access="staff", body=DossierSlipRequest,
          responses={201: ("The print job", PrintJob), 401: ("Not signed in", Error),
                     404: ("Unknown dossier or printer", Error), 409: ("No apology to print", Error),
                     422: ("Invalid request", Error)})
def print_dossier_slip(body: DossierSlipRequest):  # noqa: ANN201
    job = services().dossiers.print_slip(body.code, body.kind, body.printer, acting_office_id(), public_base(),
                                         body.reason, tuple(body.documents), body.sets, body.processing_time)
    return job, 201
