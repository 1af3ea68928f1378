"""Admin endpoints: the office, its services, counters, staff, devices and settings (admin edits).

Admins and supervisors read; only admins change. Everything is scoped to the caller's own office
(the default office for an account without one): another office's services, counters or staff
are not found. Refused changes answer 422 with `details.field` naming the field and
`details.fields` listing every problem, each in Vietnamese and English.
"""
from __future__ import annotations

from flask import Response

from ..identity import staff_principal
from ..services.admin import AdminService
from . import acting_office_id, endpoint, services
from .schemas import (
    AdminCounterCreate,
    AdminCounterUpdate,
    AdminDeviceCreate,
    AdminDeviceUpdate,
    AdminOffice,
    AdminPassword,
    AdminPriority,
    AdminRating,
    AdminServiceCreate,
    AdminServiceOrder,
    AdminServiceUpdate,
    AdminTicketTemplate,
    AdminUserCreate,
    AdminUserUpdate,
    AdminVoice,
    AuditLog,
    AuditQuery,
    Error,
)
from .tickets import public_base

READ = {401: ("Not signed in", Error), 403: ("Not an admin or supervisor", Error)}
WRITE = {401: ("Not signed in", Error), 403: ("Not an admin", Error), 422: ("Invalid: details.field names it", Error)}
FOUND = {404: ("Not in this office", Error)}


def admin() -> AdminService:
    return services().admin


def actor_and_office():  # noqa: ANN201
    return staff_principal(), acting_office_id()


def office_id() -> int:
    return acting_office_id()


# the office ------------------------------------------------------------------------------------
@endpoint("/admin/office", "GET", "The office: names, address, time zone, agency code, board notice", "admin",
          access="manager", responses={200: ("The office", None), **READ})
def admin_get_office():  # noqa: ANN201
    return admin().office(office_id())


@endpoint("/admin/office", "PUT", "Change the office's names, address, time zone, agency code (admin)", "admin",
          access="admin", body=AdminOffice, responses={200: ("The office", None), **WRITE})
def admin_put_office(body: AdminOffice):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().update_office(actor, office, body.model_dump())


# services --------------------------------------------------------------------------------------
@endpoint("/admin/services", "GET", "Every service with its numbering, limit, opening hours and counters", "admin",
          access="manager", responses={200: ("Services in kiosk order", None), **READ})
def admin_list_services():  # noqa: ANN201
    return {"services": admin().services(office_id())}


@endpoint("/admin/services", "POST", "Add a service (admin)", "admin", access="admin", body=AdminServiceCreate,
          responses={201: ("The service", None), **WRITE})
def admin_create_service(body: AdminServiceCreate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().create_service(actor, office, body.model_dump()), 201


@endpoint("/admin/services/order", "PUT", "Set the order the kiosk shows services in (admin)", "admin",
          access="admin", body=AdminServiceOrder, responses={200: ("Services in the new order", None), **WRITE})
def admin_order_services(body: AdminServiceOrder):  # noqa: ANN201
    actor, office = actor_and_office()
    return {"services": admin().order_services(actor, office, body.codes)}


@endpoint("/admin/services/<code>", "PUT", "Change a service (admin)", "admin", access="admin",
          body=AdminServiceUpdate, responses={200: ("The service", None), **WRITE, **FOUND})
def admin_update_service(code: str, body: AdminServiceUpdate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().update_service(actor, office, code, body.model_dump())


@endpoint("/admin/services/<code>", "DELETE", "Delete a service never used; one with tickets is deactivated (admin)",
          "admin", access="admin",
          responses={200: ("deleted, or only deactivated", None), 409: ("A counter serves only it", Error),
                     **WRITE, **FOUND})
def admin_delete_service(code: str):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().delete_service(actor, office, code)


# counters --------------------------------------------------------------------------------------
@endpoint("/admin/counters", "GET", "Every counter with its ordered services and LED address", "admin",
          access="manager", responses={200: ("Counters by number", None), **READ})
def admin_list_counters():  # noqa: ANN201
    return {"counters": admin().counters(office_id())}


@endpoint("/admin/counters", "POST", "Add a counter (admin)", "admin", access="admin", body=AdminCounterCreate,
          responses={201: ("The counter", None), **WRITE})
def admin_create_counter(body: AdminCounterCreate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().create_counter(actor, office, body.model_dump()), 201


@endpoint("/admin/counters/<int:number>", "PUT", "Change a counter's names, services, LED address (admin)",
          "admin", access="admin", body=AdminCounterUpdate, responses={200: ("The counter", None), **WRITE, **FOUND})
def admin_update_counter(number: int, body: AdminCounterUpdate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().update_counter(actor, office, number, body.model_dump())


@endpoint("/admin/counters/<int:number>", "DELETE", "Delete a counter that never served (admin)", "admin",
          access="admin", responses={200: ("Deleted", None), 409: ("It has served tickets", Error),
                                     **WRITE, **FOUND})
def admin_delete_counter(number: int):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().delete_counter(actor, office, number)


# staff -----------------------------------------------------------------------------------------
@endpoint("/admin/users", "GET", "The office's staff: roles, counters, whether they have a photo", "admin",
          access="manager", responses={200: ("Users by username", None), **READ})
def admin_list_users():  # noqa: ANN201
    return {"users": admin().users(office_id())}


@endpoint("/admin/users", "POST", "Add a staff account (admin); without a password a random one is returned once",
          "admin", access="admin", body=AdminUserCreate, responses={201: ("The user (and its password)", None),
                                                                   **WRITE})
def admin_create_user(body: AdminUserCreate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().create_user(actor, office, body.model_dump()), 201


@endpoint("/admin/users/<username>", "PUT", "Change a user's name, role, counters, or lock the account (admin)",
          "admin", access="admin", body=AdminUserUpdate, responses={200: ("The user", None), **WRITE, **FOUND})
def admin_update_user(username: str, body: AdminUserUpdate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().update_user(actor, office, username, body.model_dump())


@endpoint("/admin/users/<username>/password", "POST", "Reset a password (admin): the given one, or a random one "
          "returned once; the user's earlier sign-ins end", "admin", access="admin", body=AdminPassword,
          responses={200: ("username, and password when generated", None), **WRITE, **FOUND})
def admin_reset_password(username: str, body: AdminPassword):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().reset_password(actor, office, username, body.password)


# devices ---------------------------------------------------------------------------------------
@endpoint("/admin/devices", "GET", "Kiosks, boards, agents, printers, rating devices: last seen, live tokens",
          "admin", access="manager", responses={200: ("Devices", None), **READ})
def admin_list_devices():  # noqa: ANN201
    return {"devices": admin().devices(office_id())}


@endpoint("/admin/devices", "POST", "Issue a token for a device, registering it on first use (admin); the token "
          "and the address to open are shown once", "admin", access="admin", body=AdminDeviceCreate,
          responses={201: ("The device, token and open_url", None), **WRITE})
def admin_issue_device(body: AdminDeviceCreate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().issue_device(actor, office, body.model_dump(exclude_unset=True)), 201


@endpoint("/admin/devices/<code>", "PUT", "Change a device's name, board (counters, services) or counter (admin)",
          "admin", access="admin", body=AdminDeviceUpdate, responses={200: ("The device", None), **WRITE, **FOUND})
def admin_update_device(code: str, body: AdminDeviceUpdate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().update_device(actor, office, code, body.model_dump(exclude_unset=True))


@endpoint("/admin/devices/<code>/revoke", "POST", "Revoke every token of a device (admin)", "admin",
          access="admin", responses={200: ("The device, with no live token", None), **WRITE, **FOUND})
def admin_revoke_device(code: str):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().revoke_device(actor, office, code)


# priority, voice, ticket, rating ---------------------------------------------------------------
@endpoint("/admin/priority", "GET", "The priority policy and groups", "admin", access="manager",
          responses={200: ("policy, interleave, groups", None), **READ})
def admin_get_priority():  # noqa: ANN201
    return admin().priority(office_id())


@endpoint("/admin/priority", "PUT", "Set the priority policy and groups (admin)", "admin", access="admin",
          body=AdminPriority, responses={200: ("policy, interleave, groups", None), **WRITE})
def admin_put_priority(body: AdminPriority):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().put_priority(actor, office, body.model_dump())


@endpoint("/admin/voice", "GET", "How calls are announced: phrase, dialect, reading, repeat, engine", "admin",
          access="manager", responses={200: ("The voice settings and a sample sentence", None), **READ})
def admin_get_voice():  # noqa: ANN201
    return admin().voice(office_id())


@endpoint("/admin/voice", "PUT", "Set how calls are announced (admin)", "admin", access="admin", body=AdminVoice,
          responses={200: ("The voice settings and a sample sentence", None), **WRITE})
def admin_put_voice(body: AdminVoice):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().put_voice(actor, office, body.model_dump())


@endpoint("/admin/ticket-template", "GET", "The ticket template: header lines, footer, QR, paper width", "admin",
          access="manager", responses={200: ("The template (custom: saved by the office)", None), **READ})
def admin_get_ticket_template():  # noqa: ANN201
    return admin().ticket_template(office_id())


@endpoint("/admin/ticket-template", "PUT", "Set the ticket template (admin)", "admin", access="admin",
          body=AdminTicketTemplate, responses={200: ("The template", None), **WRITE})
def admin_put_ticket_template(body: AdminTicketTemplate):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().put_ticket_template(actor, office, body.model_dump())


@endpoint("/admin/ticket-template/preview", "POST", "A sample ticket with this template (not saved), as the "
          "printer draws it: image/png", "admin", access="manager", body=AdminTicketTemplate,
          responses={200: ("image/png", None), **READ, 422: ("Invalid template", Error)})
def admin_preview_ticket(body: AdminTicketTemplate):  # noqa: ANN201
    png = admin().preview_ticket(office_id(), body.model_dump(), public_base())
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


@endpoint("/admin/rating", "GET", "The rating scale and question the tablets show", "admin", access="manager",
          responses={200: ("levels, question, windows", None), **READ})
def admin_get_rating():  # noqa: ANN201
    return admin().rating(office_id())


@endpoint("/admin/rating", "PUT", "Set the rating scale, question or windows (admin)", "admin", access="admin",
          body=AdminRating, responses={200: ("levels, question, windows", None), **WRITE})
def admin_put_rating(body: AdminRating):  # noqa: ANN201
    actor, office = actor_and_office()
    return admin().put_rating(actor, office, body.model_dump(exclude_none=True))


# the change log --------------------------------------------------------------------------------
@endpoint("/admin/audit", "GET", "The change log: who changed what, when, before and after", "admin",
          access="manager", query=AuditQuery, responses={200: ("Newest first", AuditLog), **READ})
def admin_audit(query: AuditQuery):  # noqa: ANN201
    return {"entries": admin().audit(office_id(), query.entity or None, query.limit)}
