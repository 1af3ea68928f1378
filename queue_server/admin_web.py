"""The admin's pages: settings, reports, the live view; admins edit, supervisors read.

Each page is a template that draws itself from the JSON API with the signed-in session; these
views only check who may open it and hand the template the user and the sections it may see.
"""
from __future__ import annotations

import os

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for

from .domain.model import Role
from .identity import session_user
from .services.auth import Principal

bp = Blueprint("admin", __name__, url_prefix="/admin")

# (endpoint, text key, who may open it): the navigation and the permission check read the same table.
SECTIONS: list[tuple[str, str, frozenset[Role]]] = [
    ("admin.settings", "admin_settings", frozenset({Role.ADMIN, Role.SUPERVISOR})),
    ("admin.reports", "admin_reports", frozenset({Role.ADMIN, Role.SUPERVISOR})),
    ("admin.live", "admin_live", frozenset({Role.ADMIN, Role.SUPERVISOR})),
    ("admin.audit", "admin_audit", frozenset({Role.ADMIN, Role.SUPERVISOR})),
]
ALLOWED = {endpoint: roles for endpoint, _, roles in SECTIONS}


def signed_in() -> Principal | None:
    return session_user()


def page(template: str, **context):  # noqa: ANN003, ANN201
    """Renders an admin page for a user allowed to see it: else sign-in, or 403 with a clear page."""
    user = signed_in()
    if user is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if user.role not in ALLOWED[request.endpoint]:
        return render_template("admin/forbidden.html", user=user, sections=[]), 403
    sections = [(endpoint, key) for endpoint, key, roles in SECTIONS if user.role in roles]
    return render_template(template, user=user, sections=sections, can_edit=user.role is Role.ADMIN, **context)


@bp.get("/vendor/chart.min.js")
def chart_js():  # noqa: ANN201
    """Chart.js from Debian's libjs-chart.js, served by this server so report charts work offline."""
    path = current_app.config.get("CHART_JS", "/usr/share/javascript/chart.js/chart.min.js")
    if not os.path.isfile(path):
        abort(404)
    return send_file(path, mimetype="text/javascript", max_age=86400)


@bp.get("")
@bp.get("/")
def home():  # noqa: ANN201
    return redirect(url_for("admin.settings"))


@bp.get("/settings")
def settings():  # noqa: ANN201
    return page("admin/settings.html")


@bp.get("/reports")
def reports():  # noqa: ANN201
    return page("admin/reports.html")


@bp.get("/live")
def live():  # noqa: ANN201
    return page("admin/live.html")


@bp.get("/audit")
def audit():  # noqa: ANN201
    return page("admin/audit.html")
