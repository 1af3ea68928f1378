"""The only module that touches Flask-SocketIO: bus events out to rooms, snapshots on connect.

Rooms: `office:<id>` (public: boards, kiosk pages, phones), `office:<id>:staff` (signed-in staff),
`ticket:<token>` (a phone tracking one ticket), `kiosk:<office>:<code>` (one kiosk page's print
status), `agent:<office>:<code>` (the hardware agent that prints for that kiosk). What one action
published reaches each room as one `events_published` message (a lone event as itself).
"""
from __future__ import annotations

import logging

from flask import current_app, request
from flask_socketio import ConnectionRefusedError as Refused
from flask_socketio import SocketIO, join_room

from .domain import errors as de
from .domain import events as ev
from .domain.events import Event
from .domain.model import DeviceKind
from .identity import session_user
from .services import health
from .services.auth import ANONYMOUS, Principal
from .services.bus import Handoff
from .services.container import QueueServices
from .services.display import board_of
from .services.printing import KioskRef

log = logging.getLogger(__name__)
socketio = SocketIO()

SNAPSHOT = "snapshot"
AGENTS: dict[str, KioskRef] = {}   # socket id → the kiosk whose printer that agent serves
BOARDS: dict[str, dict] = {}       # socket id → what that display board is limited to
SOUND_SOURCES: dict[str, tuple[int, str]] = {}   # socket id of a board → (office, name in health reports)
PRESENT: dict[str, tuple[int, int, str]] = {}     # socket id of a board or tablet → (office, device id, code)


def office_room(office_id: int) -> str:
    return f"office:{office_id}"


def staff_room(office_id: int) -> str:
    return f"office:{office_id}:staff"


def ticket_room(token: str) -> str:
    return f"ticket:{token}"


def kiosk_room(office_id: int, code: str) -> str:
    return f"kiosk:{office_id}:{code}"


def agent_room(office_id: int, code: str) -> str:
    return f"agent:{office_id}:{code}"


def rooms_of(event: Event) -> list[str]:
    """Staff see every event of their office once (their sockets sit in the staff room only)."""
    if event.audience == ev.AGENT:
        return [agent_room(event.office_id, event.device)]
    if event.audience == ev.STAFF:
        return [staff_room(event.office_id)]
    if event.audience == ev.KIOSK:
        return [staff_room(event.office_id), kiosk_room(event.office_id, event.device)]
    rooms = [staff_room(event.office_id), office_room(event.office_id)]
    token = (event.data.get("ticket") or {}).get("track_token") if event.name == ev.TICKET_CALLED else None
    if token:
        rooms.append(ticket_room(token))
    return rooms


def publish(events: list[Event]) -> None:
    """One message per room for what one action published. Writing a frame to a client costs the
    server far more than the bytes in it, and a call is four events: sent together, a hall of
    1,000 boards and phones costs a quarter of the writes. Rooms that get the same events get them
    in one emit (a socket in several of them still gets one copy): one packet to encode, and with
    several processes one message through Redis instead of one per room."""
    wire = [[event.name, event.payload()] for event in events]
    picked: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        for room in rooms_of(event):
            picked.setdefault(room, []).append(index)
    together: dict[tuple[int, ...], list[str]] = {}
    for room, indexes in picked.items():
        together.setdefault(tuple(indexes), []).append(room)
    for indexes, rooms in together.items():
        to = rooms[0] if len(rooms) == 1 else rooms
        if len(indexes) == 1:
            socketio.emit(*wire[indexes[0]], to=to)
        else:
            socketio.emit(ev.EVENTS_PUBLISHED, [wire[i] for i in indexes], to=to)


def _principal(svc: QueueServices, auth: dict) -> Principal:
    token = auth.get("token")
    if token:
        return svc.auth.principal_from_token(token)
    return session_user(required=True) or ANONYMOUS


def _code(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def _refuse(exc: de.DomainError) -> Refused:
    """The client's connect_error carries {message, data: {code, message_en}}."""
    return Refused(exc.message_vi, {"code": exc.code, "message_en": exc.message_en})


def init_app(app, svc: QueueServices) -> None:  # noqa: ANN001
    socketio.init_app(app, async_mode=app.config["ASYNC_MODE"], message_queue=app.config.get("MESSAGE_QUEUE_URL"),
                      channel=app.config.get("MESSAGE_QUEUE_CHANNEL", "motcua"),
                      cors_allowed_origins=[], logger=False, engineio_logger=False,
                      ping_interval=app.config["PING_INTERVAL_S"], ping_timeout=app.config["PING_TIMEOUT_S"])
    if app.config["ASYNC_MODE"] == "gevent":
        from .websocket import GeventWebSocket, ping_by_timers
        eio = socketio.server.eio    # this server's own copy of its driver table, not the module's
        eio._async = {**eio._async, "websocket": GeventWebSocket}
        ping_by_timers()
        # The request that published answers without waiting for the writes (or for Redis).
        svc.bus.subscribe_batches(Handoff(publish, socketio.start_background_task, socketio.server.eio.create_queue))
    else:
        svc.bus.subscribe_batches(publish)
    from . import sockets_ratings
    sockets_ratings.register()

    @socketio.on("connect")
    def on_connect(auth=None):  # noqa: ANN001, ANN202
        auth = auth if isinstance(auth, dict) else {}
        services: QueueServices = current_app.extensions["motcua"]
        if "motcua.collector" in current_app.extensions:
            current_app.extensions["motcua.collector"].activity(connect=True)
        try:
            principal = _principal(services, auth)
            if _code(auth.get("agent_for")):
                return _connect_agent(services, principal, _code(auth.get("agent_for")))
            office_id = principal.office_id
            if office_id is None:
                code = auth.get("office")
                office_id = services.office_id_by_code(code) if isinstance(code, str) else services.default_office_id()
            if office_id is None:
                raise de.NotFound("Chưa cấu hình cơ quan.", "No office is configured.", code="office_not_found")
            kiosk = _code(auth.get("kiosk"))
            if kiosk:
                services.printing.kiosk_state(KioskRef(office_id, kiosk))   # raises for an unknown kiosk
        except de.DomainError as exc:
            raise _refuse(exc) from exc
        # Staff sockets sit in the staff room only: it receives every event exactly once.
        join_room(staff_room(office_id) if principal.is_user else office_room(office_id))
        track = _code(auth.get("track"))
        if track:
            join_room(ticket_room(track))
        board = board_of(principal)
        try:
            _send_snapshot(services, office_id, board)
        except de.DomainError as exc:
            raise _refuse(exc) from exc
        if board is not None:
            BOARDS[request.sid] = board
        if principal.is_device and principal.device_kind in (DeviceKind.DISPLAY, DeviceKind.RATING):
            PRESENT[request.sid] = (office_id, principal.device_id, principal.device_code)
            services.health.device_presence(office_id, principal.device_id, principal.device_code, +1)
        if auth.get("board") is True and not principal.is_user:
            name = principal.device_code if principal.is_device else f"board {request.remote_addr or '?'}"
            SOUND_SOURCES[request.sid] = (office_id, name)
        if kiosk:
            ref = KioskRef(office_id, kiosk)
            join_room(kiosk_room(office_id, kiosk))
            socketio.emit(ev.PRINTER_STATUS_CHANGED, services.printing.kiosk_state(ref), to=request.sid)
            # A page that was offline may have missed how its last tickets printed: say it again.
            for change in services.printing.recent_results(ref):
                socketio.emit(ev.PRINT_STATUS_CHANGED, change, to=request.sid)
        return None

    def _connect_agent(services: QueueServices, principal: Principal, kiosk_code: str) -> None:
        if not principal.is_device:
            raise de.Unauthorized("Tác tử phần cứng cần mã thiết bị.", "A hardware agent needs a device token.",
                                  code="device_token_required")
        kiosk = services.printing.check_agent(principal.office_id, principal.device_kind, principal.device_code,
                                              kiosk_code)
        if principal.device_kind is DeviceKind.AGENT:     # the agent's own row shows it present as well
            PRESENT[request.sid] = (kiosk.office_id, principal.device_id, principal.device_code)
            services.health.device_presence(kiosk.office_id, principal.device_id, principal.device_code, +1)
        join_room(agent_room(kiosk.office_id, kiosk.code))
        join_room(office_room(kiosk.office_id))      # calls, for the counter LED displays it may drive
        AGENTS[request.sid] = kiosk
        for job in services.printing.agent_connected(kiosk):
            socketio.emit(ev.PRINT_JOB_CREATED, {"office": kiosk.office_id, "device": kiosk.code, "job": job},
                          to=request.sid)

    @socketio.on("disconnect")
    def on_disconnect(reason=None):  # noqa: ANN001, ANN202
        BOARDS.pop(request.sid, None)
        SOUND_SOURCES.pop(request.sid, None)
        present = PRESENT.pop(request.sid, None)
        if present is not None:
            current_app.extensions["motcua"].health.device_presence(*present, -1)
        kiosk = AGENTS.pop(request.sid, None)
        if kiosk is not None:
            current_app.extensions["motcua"].printing.agent_disconnected(kiosk)

    @socketio.on("resync")
    def on_resync(data=None):  # noqa: ANN001, ANN202
        services: QueueServices = current_app.extensions["motcua"]
        office_id = _office_of(request.sid)
        if office_id is None:
            return
        if request.sid in PRESENT:       # a device: the board an admin gives it now (only displays have one)
            board = services.display.board_settings(PRESENT[request.sid][1])
            if board is None:
                BOARDS.pop(request.sid, None)
            else:
                BOARDS[request.sid] = board
        _send_snapshot(services, office_id, BOARDS.get(request.sid))

    @socketio.on("print_result")
    def on_print_result(data=None):  # noqa: ANN001, ANN202
        kiosk = AGENTS.get(request.sid)
        if kiosk is None or not isinstance(data, dict) or not isinstance(data.get("job_id"), int):
            return {"ok": False, "error": "not an agent, or no job_id"}
        try:
            job = current_app.extensions["motcua"].printing.record_result(
                kiosk, data["job_id"], str(data.get("status")), _code(data.get("error_code")),
                str(data.get("error") or "")[:300] or None)
        except (de.DomainError, ValueError) as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "job": job}

    @socketio.on("scan")
    def on_scan(data=None):  # noqa: ANN001, ANN202
        """A receipt scanned at the kiosk box: look it up and show the answer on that kiosk's page."""
        kiosk = AGENTS.get(request.sid)
        text = data.get("text") if isinstance(data, dict) else None
        if kiosk is None or not isinstance(text, str) or not 0 < len(text) <= 2000:
            return {"ok": False}
        services: QueueServices = current_app.extensions["motcua"]
        try:
            result = {"ok": True, "dossier": services.dossiers.lookup(text, "vi", "scan", None, kiosk.code)}
        except de.DomainError as exc:
            result = {"ok": False, "error": {"code": exc.code, "message_vi": exc.message_vi,
                                             "message_en": exc.message_en}}
        services.bus.publish([ev.device_event(ev.DOSSIER_SCANNED, kiosk.office_id, kiosk.code, result, ev.KIOSK)])
        return {"ok": True}

    @socketio.on(ev.SOUND_STATUS)
    def on_sound_status(data=None):  # noqa: ANN001, ANN202
        """A board says which engine spoke its last call; a fallback is reported to the admin, a recovery clears it."""
        source = SOUND_SOURCES.get(request.sid)
        if source is None or not isinstance(data, dict):
            return {"ok": False}
        wanted, engine = _code(data.get("wanted")), _code(data.get("engine"))
        if wanted is None or engine is None:
            return {"ok": False}
        detail = None if engine == wanted else {
            "wanted": wanted, "engine": engine, "reason": _code(data.get("reason")),
            "detail": str(data.get("detail") or "")[:200] or None}
        services: QueueServices = current_app.extensions["motcua"]
        services.health.report(source[0], source[1], health.VOICE_FALLBACK, detail)
        return {"ok": True}

    @socketio.on("printer_status")
    def on_printer_status(data=None):  # noqa: ANN001, ANN202
        kiosk = AGENTS.get(request.sid)
        if kiosk is None or not isinstance(data, dict):
            return {"ok": False}
        online = data.get("online") if isinstance(data.get("online"), bool) else None
        paper = data.get("paper") if data.get("paper") in ("ok", "near_end", "out") else None
        retry = current_app.extensions["motcua"].printing.record_printer_status(
            kiosk, online, paper, str(data.get("detail") or "")[:300] or None)
        for job in retry:
            socketio.emit(ev.PRINT_JOB_CREATED, {"office": kiosk.office_id, "device": kiosk.code, "job": job},
                          to=request.sid)
        return {"ok": True, "retried": len(retry)}


def _office_of(sid: str) -> int | None:
    for room in socketio.server.rooms(sid, namespace="/"):
        if room.startswith("office:"):
            return int(room.split(":")[1])
    return None


def _send_snapshot(services: QueueServices, office_id: int, board: dict | None = None) -> None:
    socketio.emit(SNAPSHOT, services.display.state(office_id, board=board), to=request.sid)
