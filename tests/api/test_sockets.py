"""Socket.IO: snapshot first, events to the right rooms, sequence numbers without gaps."""
from queue_server.sockets import socketio
from tests import socket_events


def received(sio) -> list[tuple[str, dict]]:  # noqa: ANN001
    return [(m["name"], m["args"][0]) for m in socket_events.received(sio)]


def test_snapshot_on_connect(app, client) -> None:  # noqa: ANN001
    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    sio = socketio.test_client(app)
    assert sio.is_connected()
    (name, snap), = received(sio)
    assert name == "snapshot"
    assert snap["seq"] == 2 and len(snap["counters"]) == 5
    assert next(w for w in snap["waiting"] if w["service"] == "HOTICH")["waiting"] == 1


def test_events_reach_public_clients_in_order(app, client, api) -> None:  # noqa: ANN001
    board = socketio.test_client(app)
    received(board)
    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    client.post("/api/v1/counters/1/call-next", headers=api.headers("staff1"))
    events = received(board)
    assert [n for n, _ in events] == ["ticket_issued", "queue_changed", "ticket_called", "queue_changed",
                                      "counter_changed"]
    assert [p["seq"] for _, p in events] == [1, 2, 3, 4, 5]
    called = events[2][1]
    assert called["ticket"]["number"] == "A001" and called["counter"] == 1 and called["office"] == 1


def test_what_one_call_published_reaches_each_room_as_one_message(app, client, api) -> None:  # noqa: ANN001
    mine = client.post("/api/v1/tickets", json={"service": "HOTICH"}).json
    board = socketio.test_client(app)
    staff = socketio.test_client(app, auth={"token": api.token("staff2")})
    phone = socketio.test_client(app, auth={"track": mine["track_url"].rsplit("/", 1)[1]})
    for sio in (board, staff, phone):
        sio.get_received()
    client.post("/api/v1/counters/1/call-next", headers=api.headers("staff1"))

    (message,) = board.get_received()
    assert message["name"] == "events_published"
    assert [(name, payload["seq"]) for name, payload in message["args"][0]] == [
        ("ticket_called", 3), ("queue_changed", 4), ("counter_changed", 5)]
    (message,) = staff.get_received()
    assert message["name"] == "events_published"
    assert [name for name, _ in message["args"][0]] == ["ticket_called", "queue_changed", "counter_changed"]
    # The phone is in the hall's room (the batch) and its ticket's room (the call alone).
    assert [m["name"] for m in phone.get_received()] == ["events_published", "ticket_called"]

    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    assert [m["name"] for m in board.get_received()] == ["events_published"]    # issued + queue changed
    client.put("/api/v1/office/notice", json={"vi": "Nghỉ trưa 11:30–13:30", "en": "Lunch 11:30–13:30"},
               headers=api.headers("admin"))
    assert [m["name"] for m in board.get_received()] == ["notice_changed"]      # a lone event goes as itself


def test_staff_clients_get_each_event_once(app, client, api) -> None:  # noqa: ANN001
    staff = socketio.test_client(app, auth={"token": api.token("staff1")})
    received(staff)
    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    assert [n for n, _ in received(staff)] == ["ticket_issued", "queue_changed"]


def test_resync_sends_a_fresh_snapshot(app, client) -> None:  # noqa: ANN001
    board = socketio.test_client(app)
    received(board)
    client.post("/api/v1/tickets", json={"service": "DATDAI"})
    received(board)
    board.emit("resync")
    (name, snap), = received(board)
    assert name == "snapshot" and snap["seq"] == 2


def test_tracking_room_gets_only_its_ticket(app, client, api) -> None:  # noqa: ANN001
    mine = client.post("/api/v1/tickets", json={"service": "HOTICH"}).json
    other = client.post("/api/v1/tickets", json={"service": "HOTICH"}).json
    token = mine["track_url"].rsplit("/", 1)[1]
    phone = socketio.test_client(app, auth={"track": token})
    received(phone)
    h = api.headers("staff1")
    client.post("/api/v1/counters/1/call-next", headers=h)
    calls = [p for n, p in received(phone) if n == "ticket_called"]
    # The phone sits in the public room too (one copy) and in its ticket room (one copy).
    assert {c["ticket"]["id"] for c in calls} == {mine["id"]}
    client.post("/api/v1/counters/1/call-next", headers=h)
    calls = [p for n, p in received(phone) if n == "ticket_called"]
    assert [c["ticket"]["id"] for c in calls] == [other["id"]]


def test_bad_token_is_refused(app) -> None:  # noqa: ANN001
    sio = socketio.test_client(app, auth={"token": "not-a-token"})
    assert not sio.is_connected()


def test_unknown_office_is_refused(app) -> None:  # noqa: ANN001
    sio = socketio.test_client(app, auth={"office": "nowhere"})
    assert not sio.is_connected()


def test_one_broken_listener_does_not_stop_the_others(app, client) -> None:  # noqa: ANN001
    bus = app.extensions["motcua"].bus

    def broken(event) -> None:  # noqa: ANN001
        raise RuntimeError("listener failure")

    unsubscribe = bus.subscribe(broken)
    board = socketio.test_client(app)
    received(board)
    try:
        assert client.post("/api/v1/tickets", json={"service": "HOTICH"}).status_code == 201
        assert [n for n, _ in received(board)] == ["ticket_issued", "queue_changed"]
    finally:
        unsubscribe()


def test_a_board_limited_to_some_counters(app, client, api) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    token = client.post("/api/v1/devices/token", json={"kind": "display", "code": "board-12",
                                                       "board": {"counters": [1, 2]}}, headers=admin).json["token"]
    for service in ("HOTICH", "DATDAI"):
        client.post("/api/v1/tickets", json={"service": service})
    client.post("/api/v1/counters/1/call-next", headers=api.headers("staff1"))
    client.post("/api/v1/counters/3/call-next", headers=api.headers("staff3"))
    state = client.get("/api/v1/display/state", headers={"Authorization": f"Bearer {token}"}).json
    assert [c["number"] for c in state["counters"]] == [1, 2]
    assert [r["counter"] for r in state["recent_calls"]] == [1]
    assert "DATDAI" not in {w["service"] for w in state["waiting"]}
    assert state["board"]["counters"] == [1, 2]
    board = socketio.test_client(app, auth={"token": token})
    (name, snap), = received(board)
    assert [c["number"] for c in snap["counters"]] == [1, 2]
    whole = client.get("/api/v1/display/state").json
    assert len(whole["counters"]) == 5 and "board" not in whole


def test_an_open_board_follows_its_new_limits_after_the_admin_changes_them(app, client, api) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    token = client.post("/api/v1/devices/token", json={"kind": "display", "code": "board-3",
                                                       "board": {"counters": [3]}}, headers=admin).json["token"]
    board = socketio.test_client(app, auth={"token": token})
    (_, snap), = received(board)
    assert [c["number"] for c in snap["counters"]] == [3]
    kiosk = socketio.test_client(app)
    received(kiosk)
    r = client.put("/api/v1/admin/devices/board-3", json={"board": {"counters": [1]}}, headers=admin)
    assert r.status_code == 200, r.json
    assert [name for name, _ in received(board)] == ["settings_changed"]      # the page asks to read again
    board.emit("resync")
    (name, snap), = received(board)
    assert name == "snapshot" and [c["number"] for c in snap["counters"]] == [1] and snap["board"]["counters"] == [1]
    assert [name for name, _ in received(kiosk)] == ["settings_changed"]
    assert client.put("/api/v1/admin/devices/board-3", json={"name": "Bảng quầy 1"},
                      headers=admin).status_code == 200
    assert received(kiosk) == []                     # a rename changes no board: kiosks are not told to reload


def test_a_board_limited_to_nothing_is_refused(app, client, api) -> None:  # noqa: ANN001
    token = client.post("/api/v1/devices/token", json={"kind": "display", "code": "board-0", "board": {}},
                        headers=api.headers("admin")).json["token"]
    r = client.get("/api/v1/display/state", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and r.json["error"]["code"] == "empty_board"
    assert not socketio.test_client(app, auth={"token": token}).is_connected()
