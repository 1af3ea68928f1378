"""The board notice set by the admin, and what boards and the server report wrong about the voice."""
import sqlalchemy as sa

from queue_server.persistence.tables import audit_log
from queue_server.sockets import socketio
from tests import socket_events


def received(sio) -> list[tuple[str, dict]]:  # noqa: ANN001
    return [(m["name"], m["args"][0]) for m in socket_events.received(sio)]


def test_the_notice_reaches_boards_live_and_in_the_snapshot(app, client, api) -> None:  # noqa: ANN001
    board = socketio.test_client(app)
    (_, snap), = received(board)
    assert snap["notice"] is None
    r = client.put("/api/v1/office/notice", headers=api.headers("admin"),
                   json={"vi": "  Chiều thứ Sáu nghỉ làm việc từ 16 giờ. ", "en": "Closed from 4 pm on Friday."})
    assert r.status_code == 200 and r.json["notice"] == {"vi": "Chiều thứ Sáu nghỉ làm việc từ 16 giờ.",
                                                         "en": "Closed from 4 pm on Friday."}
    (name, event), = received(board)
    assert name == "notice_changed" and event["notice"] == r.json["notice"] and event["seq"] == snap["seq"] + 1
    assert client.get("/api/v1/display/state").json["notice"]["vi"].startswith("Chiều thứ Sáu")
    cleared = client.put("/api/v1/office/notice", headers=api.headers("admin"), json={"vi": "", "en": " "})
    assert cleared.json["notice"] is None
    assert received(board)[0][1]["notice"] is None
    with app.extensions["motcua"].db.read() as conn:
        entries = conn.execute(sa.select(audit_log.c.username, audit_log.c.entity_key, audit_log.c.after)
                               .order_by(audit_log.c.id)).all()
    assert [(u, k) for u, k, _ in entries] == [("admin", "notice"), ("admin", "notice")]
    assert entries[1].after is None


def test_only_admins_set_the_notice_and_bad_notices_change_nothing(app, client, api) -> None:  # noqa: ANN001
    r = client.put("/api/v1/office/notice", headers=api.headers("staff1"), json={"vi": "x"})
    assert r.status_code == 403 and r.json["error"]["code"] == "admin_only"
    assert client.put("/api/v1/office/notice", json={"vi": "x"}).status_code == 401
    for body in ({"vi": "x" * 301}, {"vi": 5}, {"text": "x"}, ["x"]):
        r = client.put("/api/v1/office/notice", headers=api.headers("admin"), json=body)
        assert r.status_code == 422, body
    assert client.get("/api/v1/display/state").json["notice"] is None


def test_a_board_falling_back_is_reported_and_cleared_when_it_recovers(app, client, api) -> None:  # noqa: ANN001
    staff = socketio.test_client(app, auth={"token": api.token("admin")})
    board = socketio.test_client(app, auth={"board": True})
    received(staff)
    fallback = {"wanted": "clips", "engine": "browser", "reason": "clip_missing", "detail": "mươi"}
    assert board.emit("sound_status", fallback, callback=True) == {"ok": True}
    assert board.emit("sound_status", fallback, callback=True) == {"ok": True}
    (report,) = client.get("/api/v1/health/reports", headers=api.headers("admin")).json["reports"]
    assert report["kind"] == "voice_fallback" and report["source"].startswith("board ")
    assert report["detail"] == {"wanted": "clips", "engine": "browser", "reason": "clip_missing", "detail": "mươi"}
    assert report["count"] == 2
    assert [n for n, _ in received(staff)] == ["health_changed"]          # the repeat changed nothing to show
    board.emit("sound_status", {"wanted": "clips", "engine": "clips"}, callback=True)
    assert client.get("/api/v1/health/reports", headers=api.headers("admin")).json["reports"] == []
    assert received(staff)[0][1]["detail"] is None


def test_only_boards_report_sound_and_nonsense_is_ignored(app, client, api) -> None:  # noqa: ANN001
    kiosk_page = socketio.test_client(app)                   # connected without saying it is a board
    assert kiosk_page.emit("sound_status", {"wanted": "clips", "engine": "chime"}, callback=True) == {"ok": False}
    board = socketio.test_client(app, auth={"board": True})
    for bad in (None, "x", {"wanted": "clips"}, {"wanted": 1, "engine": "chime"}, {"wanted": "c" * 65, "engine": "x"}):
        assert board.emit("sound_status", bad, callback=True) == {"ok": False}
    assert client.get("/api/v1/health/reports", headers=api.headers("admin")).json["reports"] == []
    assert client.get("/api/v1/health/reports", headers=api.headers("staff1")).status_code == 403
    assert client.get("/api/v1/health/reports").status_code == 401


def test_a_missing_clip_is_reported_by_the_server_and_cleared_once_clips_are_back(app, client, api) -> None:  # noqa: ANN001
    from queue_server.services.voice import generate_clips
    svc = app.extensions["motcua"]
    r = client.get("/api/v1/announcements/audio?number=A025&counter=3")
    assert r.status_code == 409 and r.json["error"]["code"] == "clip_missing"
    (report,) = client.get("/api/v1/health/reports", headers=api.headers("admin")).json["reports"]
    assert report["source"] == "server" and report["kind"] == "clip_missing" and report["detail"]["words"]
    generate_clips(svc.voice.folder)
    svc.voice.forget_clips()
    assert client.get("/api/v1/announcements/audio?number=A025&counter=3").status_code == 200
    assert client.get("/api/v1/health/reports", headers=api.headers("admin")).json["reports"] == []
