"""The only module that touches Flask-SocketIO: bus events out to rooms, snapshots on connect.

Rooms: `office:<id>` (public: boards, kiosks), `office:<id>:staff` (signed-in staff),
`ticket:<token>` (a citizen's phone tracking one ticket).
"""
from __future__ import annotations

import logging

from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError as Refused
from flask_socketio import SocketIO, join_room

from .domain import errors as de
from .domain import events as ev
from .domain.events import Event
from .services.auth import ANONYMOUS, Principal
from .services.container import QueueServices

log = logging.getLogger(__name__)
socketio = SocketIO()

SNAPSHOT = "snapshot"


def office_room(office_id: int) -> str:
    return f"office:{office_id}"


def staff_room(office_id: int) -> str:
    return f"office:{office_id}:staff"


def ticket_room(token: str) -> str:
    return f"ticket:{token}"


def publish(event: Event) -> None:
    payload = event.payload()
    socketio.emit(event.name, payload, to=staff_room(event.office_id))
    if not event.staff_only:
        socketio.emit(event.name, payload, to=office_room(event.office_id))
    token = (event.data.get("ticket") or {}).get("track_token") if event.name == ev.TICKET_CALLED else None
    if token:
        socketio.emit(event.name, payload, to=ticket_room(token))


def _principal(svc: QueueServices, auth: dict) -> Principal:
    token = auth.get("token")
    if token:
        return svc.auth.principal_from_token(token)
    if session.get("user_id"):
        return svc.auth.user_principal(session["user_id"])
    return ANONYMOUS


def init_app(app, svc: QueueServices) -> None:  # noqa: ANN001
    socketio.init_app(app, async_mode=app.config["ASYNC_MODE"], message_queue=app.config.get("MESSAGE_QUEUE_URL"),
                      cors_allowed_origins=[], logger=False, engineio_logger=False)
    svc.bus.subscribe(publish)

    @socketio.on("connect")
    def on_connect(auth=None):  # noqa: ANN001, ANN202
        auth = auth if isinstance(auth, dict) else {}
        services: QueueServices = current_app.extensions["motcua"]
        try:
            principal = _principal(services, auth)
            office_id = principal.office_id
            if office_id is None:
                code = auth.get("office")
                office_id = services.office_id_by_code(code) if isinstance(code, str) else services.default_office_id()
        except de.DomainError as exc:
            raise Refused({"code": exc.code, "message": exc.message_vi, "message_en": exc.message_en}) from exc
        if office_id is None:
            raise Refused({"code": "office_not_found", "message": "Chưa cấu hình cơ quan.",
                           "message_en": "No office is configured."})
        # Staff sockets sit in the staff room only: it receives every event exactly once.
        join_room(staff_room(office_id) if principal.is_user else office_room(office_id))
        track = auth.get("track")
        if isinstance(track, str) and 0 < len(track) <= 64:
            join_room(ticket_room(track))
        _send_snapshot(services, office_id)

    @socketio.on("resync")
    def on_resync(data=None):  # noqa: ANN001, ANN202
        services: QueueServices = current_app.extensions["motcua"]
        office_id = _office_of(request.sid)
        if office_id is not None:
            _send_snapshot(services, office_id)


def _office_of(sid: str) -> int | None:
    for room in socketio.server.rooms(sid, namespace="/"):
        if room.startswith("office:"):
            return int(room.split(":")[1])
    return None


def _send_snapshot(services: QueueServices, office_id: int) -> None:
    socketio.emit(SNAPSHOT, services.display.state(office_id), to=request.sid)
