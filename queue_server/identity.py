"""Resolving who makes the current request: bearer token, session cookie, or nobody.

CSRF is checked exactly where it matters: an unsafe request authenticated by the
session cookie. Bearer-token clients (API, agents, kiosks) cannot be forged by a page.
"""
from __future__ import annotations

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFProtect

from .domain.errors import DomainError, Forbidden
from .domain.model import DeviceKind
from .services.auth import ANONYMOUS, Principal, require_user

csrf = CSRFProtect()
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def current_principal() -> Principal:
    cached = getattr(g, "principal", None)
    if cached is not None:
        return cached
    auth = current_app.extensions["motcua"].auth
    token = bearer_token()
    if token is not None:
        principal = auth.principal_from_token(token)
    elif session.get("user_id"):
        if request.method in UNSAFE:
            csrf.protect()
        principal = session_user(required=True)
    else:
        principal = ANONYMOUS
    g.principal = principal
    return principal


def sign_in(principal: Principal) -> None:
    """This browser is `principal` until it signs out, the account is locked or its password changes."""
    session.clear()
    session["user_id"] = principal.user_id
    session["stamp"] = current_app.extensions["motcua"].auth.session_stamp(principal.user_id)
    session.permanent = False


def session_user(required: bool = False) -> Principal | None:
    """The user this browser signed in as, while that sign-in holds; else the session is cleared, and
    None comes back (or, when `required`, the refusal: 401)."""
    user_id = session.get("user_id")
    if not user_id:
        return None
    try:
        return current_app.extensions["motcua"].auth.session_principal(user_id, session.get("stamp"))
    except DomainError:
        session.clear()
        if required:
            raise
        return None


def staff_principal() -> Principal:
    principal = current_principal()
    require_user(principal)
    return principal


def require_device_kind(principal: Principal, *allowed: DeviceKind) -> None:
    if principal.is_device and principal.device_kind not in allowed:
        raise Forbidden("Thiết bị này không được phép thực hiện thao tác này.",
                        "This device is not allowed to do this.", code="device_scope")
