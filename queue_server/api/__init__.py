"""The JSON API: thin views that parse with declared schemas, call one service, serialize."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, request
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from ..domain.errors import Forbidden, NotFound, Unauthorized
from ..domain.model import Role

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass
class Operation:
    """One documented endpoint; the OpenAPI document is built from these."""
    path: str
    method: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    access: str
    name: str
    headers: dict[str, str] = field(default_factory=dict)


OPERATIONS: list[Operation] = []


def parse_body(model: type[BaseModel]) -> BaseModel:
    data = request.get_data(cache=True) or b"{}"
    return model.model_validate_json(data)


def parse_query(model: type[BaseModel]) -> BaseModel:
    return model.model_validate(request.args.to_dict())


def endpoint(rule: str, method: str, summary: str, tag: str, *, body: type[BaseModel] | None = None,
             query: type[BaseModel] | None = None,
             responses: dict[int, tuple[str, type[BaseModel] | None]] | None = None,
             access: str = "none", headers: dict[str, str] | None = None,
             max_body: int = 64 * 1024) -> Callable:
    """Registers a view on the API blueprint and records its schemas for the OpenAPI document."""
    def decorate(fn: Callable) -> Callable:
        OPERATIONS.append(Operation(bp.url_prefix + rule, method.lower(), summary, tag, body, query,
                                    responses or {}, access, fn.__name__, headers or {}))

        @functools.wraps(fn)
        def view(**kwargs):  # noqa: ANN003, ANN202
            if request.content_length is not None and request.content_length > max_body:
                raise RequestEntityTooLarge()
            if access != "none":   # who is asking comes before what they ask
                authorize(access)
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            return fn(**kwargs)

        bp.add_url_rule(rule, fn.__name__, view, methods=[method])
        return view
    return decorate


def authorize(level: str) -> None:
    from ..identity import current_principal, staff_principal
    if level == "any":
        if current_principal().kind == "anonymous":
            raise Unauthorized("Cần đăng nhập.", "Sign-in required.", code="login_required")
        return
    principal = staff_principal()
    if level == "manager" and principal.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise Forbidden("Chỉ quản trị viên hoặc lãnh đạo được xem nội dung này.",
                        "Only admins and supervisors may see this.", code="manager_only")
    if level == "admin" and principal.role is not Role.ADMIN:
        raise Forbidden("Chỉ quản trị viên được thực hiện thao tác này.", "Only admins may do this.",
                        code="admin_only")


def services():  # noqa: ANN201
    from flask import current_app
    return current_app.extensions["motcua"]


def acting_office_id() -> int:
    """The office a staff request acts on: the user's own; a province-wide account (an admin with no
    office) names one with `?office=CODE`, else acts on the first office."""
    from .tickets import resolve_office
    office_id = resolve_office(request.args.get("office") or None) or services().default_office_id()
    if office_id is None:
        raise NotFound("Chưa cấu hình cơ quan.", "No office is configured.", code="office_not_found")
    return office_id


from . import (  # noqa: E402,F401
    admin,  # noqa: E402,F401
    announcements,
    auth,
    counters,
    display,
    dossiers,
    office,
    printing,
    ratings,  # noqa: E402,F401
    reports,  # noqa: E402,F401
    tickets,
)
