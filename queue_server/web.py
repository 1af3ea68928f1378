"""Server-rendered pages: sign-in, the counter console, ticket tracking, the start page, the icon."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, current_app, redirect, render_template, request, send_from_directory, session, url_for
from flask_wtf.csrf import CSRFError

from .domain.errors import DomainError
from .errors import status_of, wants_json
from .i18n import request_lang, t
from .identity import csrf, session_user, sign_in

bp = Blueprint("web", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("web.counter")


@bp.after_app_request
def _remember_lang(response):  # noqa: ANN001, ANN202
    if request.args.get("lang") in ("vi", "en"):
        response.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
    return response


@bp.get("/")
def index():  # noqa: ANN201
    return render_template("index.html")


@bp.get("/favicon.ico")
def favicon():  # noqa: ANN201
    """Browsers ask every site for this; without it each page logs a 404 in the console."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 86400)


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    error = t("session_ended") if request.method == "GET" and request.args.get("ended") else None
    status = 200
    username = request.form.get("username", "")[:64]
    if request.method == "POST":
        try:
            csrf.protect()
        except CSRFError:
            if wants_json():
                raise
            # A form left open across a sign-out, or from before the cookies were cleared: the fresh form
            # below carries a new token, so the person only has to sign in again.
            return render_template("login.html", error=t("login_expired"), username=username), 400
        svc = current_app.extensions["motcua"]
        try:
            principal = svc.auth.login(username, request.form.get("password", "")[:200], request.remote_addr or "?")
        except DomainError as exc:
            error = exc.message(request_lang())
            status = status_of(exc)
        else:
            sign_in(principal)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, username=username), status


@bp.post("/logout")
def logout():  # noqa: ANN201
    csrf.protect()
    session.clear()
    return redirect(url_for("web.login"))


@bp.get("/counter")
def counter():  # noqa: ANN201
    principal = session_user()
    if principal is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return render_template("counter.html", user=principal)


@bp.get("/t/<token>")
def track(token: str):  # noqa: ANN201
    svc = current_app.extensions["motcua"]
    if len(token) > 64:
        return render_template("track.html", ticket=None), 404
    try:
        ticket = svc.tickets.get_by_token(token)
    except DomainError:
        return render_template("track.html", ticket=None), 404
    return render_template("track.html", ticket=ticket, token=token)


@bp.get("/tra-cuu/<path:code>")
def dossier(code: str):  # noqa: ANN201
    """The page a receipt's QR opens on a phone: the same masked view as the kiosk."""
    svc = current_app.extensions["motcua"]
    lang = request_lang()
    try:
        view = svc.dossiers.lookup(code, lang, "web", request.remote_addr, None)
    except DomainError as exc:
        status = {"dossier_not_found": 404, "too_many_lookups": 429}.get(exc.code, 422)
        return render_template("dossier.html", dossier=None, error=exc.message(lang)), status
    return render_template("dossier.html", dossier=view, error=None)
