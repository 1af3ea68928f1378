"""Một Cửa Queue server: the application factory is the composition root."""
from __future__ import annotations

import logging
import os

from flask import Flask, jsonify
from werkzeug.routing import IntegerConverter

from . import config as settings
from . import logs
from .domain.clock import Clock, SystemClock
from .services.container import QueueServices
from .startup import StartupError, check_message_queue, open_database

__version__ = "0.1.0"


class RowIdConverter(IntegerConverter):
    """`<int:…>` in every route. Ids and numbers are 64-bit in the database (SQLite raises OverflowError past
    2**63 - 1, a 500), so the address itself takes at most 18 digits: a longer number matches no route and
    routing answers 404. A bound in the pattern, not `max=`: werkzeug checks `max` only after picking a rule,
    and a path with rules for other methods (GET and PUT of one address) would then answer 405."""

    regex = r"\d{1,18}"


def create_app(overrides: dict | None = None, clock: Clock | None = None) -> Flask:
    app = Flask(__name__)
    app.url_map.converters["int"] = RowIdConverter   # before any route is added
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment())
    app.config.update(overrides or {})
    if overrides and "VAR_DIR" in overrides and "VOICE_DIR" not in overrides and not os.environ.get("VOICE_DIR"):
        app.config["VOICE_DIR"] = os.path.join(overrides["VAR_DIR"], "voice")   # var/ moved: its voice moves too
    try:
        logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    except ValueError as exc:
        raise StartupError(str(exc)) from exc

    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    db = open_database(app.config["DATABASE_URL"])
    check_message_queue(app.config.get("MESSAGE_QUEUE_URL"))
    svc = QueueServices(db, clock or SystemClock(), app.config)
    app.extensions["motcua"] = svc

    from display import bp as display_bp
    from kiosk import bp as kiosk_bp
    from rating import bp as rating_bp

    from . import errors, metrics, sockets
    from .admin_web import bp as admin_bp
    from .api import bp as api_bp
    from .api import openapi
    from .identity import csrf
    from .web import bp as web_bp

    csrf.init_app(app)
    errors.init_app(app)
    metrics.init_app(app, svc.bus)
    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(display_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(rating_bp)
    sockets.init_app(app, svc)

    document = openapi.build(__version__)

    @app.get("/api/openapi.json")
    def openapi_json():  # noqa: ANN202
        return jsonify(document)

    @app.get("/healthz")
    def healthz():  # noqa: ANN202
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__, "database": db.url.get_backend_name()}

    @app.get("/metrics")
    def metrics_text():  # noqa: ANN202
        return metrics.render()

    @app.context_processor
    def _inject() -> dict:
        from .i18n import both, request_lang, t
        return {"lang": request_lang(), "t": t, "both": both, "version": __version__}

    if app.config["ASYNC_MODE"] == "gevent":
        import gevent

        from .collector import Settler
        settler = app.extensions["motcua.collector"] = Settler()

        @app.before_request
        def _take_turns() -> None:
            # A keep-alive client whose next request is already buffered would otherwise be
            # served again and again before anyone else: yield once per request.
            settler.activity()
            gevent.sleep(0)

    if app.config["BACKGROUND_TASKS"]:
        if not app.config.get("MESSAGE_QUEUE_URL"):
            svc.printing.reset_presence()   # a lone fresh process has no agents yet; with several, others may
        svc.voice.warm()                # read the clips once, not during the first call of the day
        _start_background(app, svc)
        if "motcua.collector" in app.extensions:
            from .sockets import socketio
            socketio.start_background_task(app.extensions["motcua.collector"].run, socketio.sleep)
    return app


def _start_background(app: Flask, svc: QueueServices) -> None:
    """Once a minute: expires tickets left from earlier days (numbers already reset by date), then, once
    per business day and office, stores the report tallies of its newly closed days (after the expiry,
    which still changes yesterday), so the day's first report only reads them."""
    from datetime import date

    from .sockets import socketio

    def sweep() -> None:
        log = logging.getLogger("motcua.sweeper")
        summarised: dict[int, date] = {}     # office id → the business date its closed days were stored on
        while True:
            try:
                expired = svc.tickets.expire_past_days()
                if expired:
                    log.info("expired %d tickets from earlier days", expired)
            except Exception:  # noqa: BLE001 - keep sweeping after a database hiccup
                log.exception("expiry sweep failed")
            try:
                for office_id, today in svc.reports.office_dates().items():
                    if summarised.get(office_id) != today:
                        stored = svc.reports.summarise_closed_days(office_id, pause=lambda: socketio.sleep(0))
                        summarised[office_id] = today
                        log.info("report tallies of %d closed days stored for office %d", stored, office_id,
                                 extra={"office": office_id})
            except Exception:  # noqa: BLE001 - tried again next minute; reports count what is missing
                log.exception("report summary failed")
            socketio.sleep(60)

    socketio.start_background_task(sweep)
