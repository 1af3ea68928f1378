"""The admin's live view: counters, queues and their longest wait, devices, alerts — and who may see it."""
from queue_server.sockets import socketio
from tests.socket_events import received


def device_token(client, api, kind: str, code: str, **extra) -> str:  # noqa: ANN001, ANN003
    r = client.post("/api/v1/devices/token", json={"kind": kind, "code": code, **extra}, headers=api.headers("admin"))
    assert r.status_code == 201, r.json
    return r.json["token"]


def live(client, api) -> dict:  # noqa: ANN001
    r = client.get("/api/v1/live", headers=api.headers("admin"))
    assert r.status_code == 200, r.json
    return r.json


def test_queues_show_their_longest_wait_and_a_long_one_raises_an_alert(client, api, clock) -> None:  # noqa: ANN001
    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    clock.advance(minutes=10)
    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    state = live(client, api)
    hotich = next(s for s in state["services"] if s["code"] == "HOTICH")
    assert hotich["waiting"] == 2 and hotich["longest_wait_s"] == 600
    assert next(s for s in state["services"] if s["code"] == "DATDAI")["longest_wait_s"] is None
    assert state["alerts"] == [] and state["thresholds"] == {"wait_minutes": 30, "offline_grace_s": 60}
    clock.advance(minutes=21)
    (alert,) = live(client, api)["alerts"]
    assert alert["code"] == "long_wait" and alert["subject"] == "HOTICH" and "31 phút" in alert["message_vi"]


def test_a_printer_out_of_paper_and_an_agent_gone_raise_alerts(app, client, api, clock) -> None:  # noqa: ANN001
    staff = socketio.test_client(app, auth={"token": api.token("admin")})
    agent = socketio.test_client(app, auth={"token": device_token(client, api, "agent", "agent-1"),
                                            "agent_for": "kiosk-1"})
    received(staff)
    assert agent.emit("printer_status", {"online": True, "paper": "out"}, callback=True)["ok"] is True
    assert "printer_status_changed" in [m["name"] for m in received(staff)]     # the live page refreshes
    kiosk = next(d for d in live(client, api)["devices"] if d["code"] == "kiosk-1")
    assert kiosk["online"] is True and kiosk["printer"]["paper"] == "out"
    assert [a["code"] for a in live(client, api)["alerts"]] == ["paper_out"]
    agent.disconnect()
    assert live(client, api)["alerts"] == []                       # gone, but not for a minute yet
    clock.advance(seconds=61)
    alerts = live(client, api)["alerts"]
    assert {(a["code"], a["subject"]) for a in alerts} == {("device_offline", "kiosk-1"), ("device_offline", "agent-1")}


def test_boards_and_tablets_with_a_token_show_as_online_while_connected(app, client, api) -> None:  # noqa: ANN001
    token = device_token(client, api, "display", "board-hall", board={"counters": [1, 2], "services": []})
    staff = socketio.test_client(app, auth={"token": api.token("admin")})
    received(staff)
    board = socketio.test_client(app, auth={"token": token, "board": True})
    assert next(d for d in live(client, api)["devices"] if d["code"] == "board-hall")["online"] is True
    assert "health_changed" in [m["name"] for m in received(staff)]
    board.disconnect()
    device = next(d for d in live(client, api)["devices"] if d["code"] == "board-hall")
    assert device["online"] is False and device["last_seen"]


def test_only_admins_and_supervisors_see_the_live_view(client, api) -> None:  # noqa: ANN001
    assert client.get("/api/v1/live").status_code == 401
    r = client.get("/api/v1/live", headers=api.headers("staff1"))
    assert r.status_code == 403 and r.json["error"]["code"] == "manager_only"
