"""Sign-in for API clients, and device tokens for kiosks, displays and agents."""
from __future__ import annotations

from flask import request

from ..domain.errors import InvalidInput
from ..domain.model import DeviceKind
from ..identity import current_principal, staff_principal
from . import acting_office_id, endpoint, services
from .schemas import DeviceTokenRequest, DeviceTokenResponse, Error, TokenRequest, TokenResponse


def user_json(principal) -> dict:  # noqa: ANN001
    return {"username": principal.username, "full_name": principal.full_name,
            "role": principal.role.value if principal.role else None, "office_id": principal.office_id,
            "counters": sorted(principal.counter_ids)}


@endpoint("/auth/token", "POST", "Exchange a username and password for a bearer token", "auth",
          body=TokenRequest, responses={200: ("A bearer token", TokenResponse), 401: ("Wrong credentials", Error),
                                        429: ("Too many failed attempts", Error)})
def token(body: TokenRequest):  # noqa: ANN201
    auth = services().auth
    principal = auth.login(body.username, body.password, request.remote_addr or "?")
    value, ttl = auth.issue_user_token(principal)
    return {"token": value, "expires_in": ttl, "user": user_json(principal)}


@endpoint("/auth/me", "GET", "Who the token or session belongs to", "auth", access="any",
          responses={200: ("The caller", None), 401: ("Invalid token", Error)})
def me():  # noqa: ANN201
    principal = current_principal()
    if principal.is_device:
        return {"device": {"kind": principal.device_kind.value, "code": principal.device_code,
                           "office_id": principal.office_id}}
    return {"user": user_json(staff_principal())}


@endpoint("/devices/token", "POST", "Issue a token for a kiosk, display, agent or rating device (admin)",
          "auth", access="admin", body=DeviceTokenRequest,
          responses={201: ("The device token, shown once", DeviceTokenResponse), 401: ("Not signed in", Error),
                     403: ("Not an admin", Error)})
def device_token(body: DeviceTokenRequest):  # noqa: ANN201
    staff_principal()
    office_id = acting_office_id()
    settings = {"board": body.board.model_dump()} if body.board is not None else None
    if body.counter is not None:
        if body.kind not in ("printer", "kiosk", "rating", "agent"):
            raise InvalidInput("Chỉ máy in, thiết bị đánh giá và tác tử phần cứng mới gắn với quầy.",
                               "Only printers, rating devices and hardware agents belong to a counter.",
                               code="not_a_printer")
        settings = {**(settings or {}), "counter": body.counter}
    value = services().auth.issue_device_token(office_id, DeviceKind(body.kind), body.code, body.name, settings)
    return {"token": value, "kind": body.kind, "code": body.code}, 201
