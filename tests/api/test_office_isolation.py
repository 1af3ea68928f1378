"""Two offices in one installation: nothing of office B reaches a user, board or kiosk of office A.

Office A is the demo office (id 1); office B is built beside it with its own services, counter,
staff, admin, kiosk and board. Every channel is tried: REST answers, Socket.IO rooms, tokens.
"""
import pytest

from queue_server.domain.model import DeviceKind, Role
from queue_server.sockets import socketio
from tests.factories import make_office
from tests.socket_events import received

PASSWORD = "password-123"


@pytest.fixture
def office_b(app) -> int:  # noqa: ANN001
    svc = app.extensions["motcua"]
    office_id = make_office(svc.db, "HCC-B", services_spec=[{"code": "HOTICH", "prefix": "H"}],
                            counters_spec=[(1, ["HOTICH"])])
    svc.auth.create_user("staff-b", PASSWORD, Role.STAFF, office_id, counter_numbers=[1])
    svc.auth.create_user("admin-b", PASSWORD, Role.ADMIN, office_id)
    return office_id


def token(client, username: str, password: str = PASSWORD) -> dict:  # noqa: ANN001
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['token']}"}


def names(sio) -> list[str]:  # noqa: ANN001
    return [m["name"] for m in received(sio)]


def test_boards_and_staff_hear_only_their_own_office(app, client, api, office_b) -> None:  # noqa: ANN001
    board_a = socketio.test_client(app)                                  # the default office: A
    board_b = socketio.test_client(app, auth={"office": "HCC-B"})
    staff_a = socketio.test_client(app, auth={"token": api.token("staff1")})
    for sio in (board_a, board_b, staff_a):
        received(sio)
    issued = client.post("/api/v1/tickets", json={"service": "HOTICH", "office": "HCC-B"})
    assert issued.status_code == 201 and issued.json["number"] == "H001"
    r = client.post(f"/api/v1/counters/{_counter(app, office_b)}/call-next", headers=token(client, "staff-b"))
    assert r.status_code == 200 and r.json["number"] == "H001"
    assert names(board_a) == [] and names(staff_a) == []
    assert "ticket_called" in names(board_b)


def test_staff_and_admins_of_one_office_cannot_act_in_the_other(app, client, api, office_b) -> None:  # noqa: ANN001
    b_counter = _counter(app, office_b)
    r = client.post(f"/api/v1/counters/{b_counter}/call-next", headers=api.headers("staff1"))
    assert r.status_code == 403
    r = client.post("/api/v1/counters/1/call-next", headers=token(client, "staff-b"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/counters/{b_counter}/call-next", headers=api.headers("admin"))   # A's admin
    assert r.status_code == 403
    assert [c["number"] for c in client.get("/api/v1/counters", headers=token(client, "staff-b")).json["counters"]] \
        == [1]
    r = client.post("/api/v1/tickets", json={"service": "HOTICH", "office": "HCC-B"}, headers=api.headers("staff1"))
    assert r.status_code == 403 and r.json["error"]["code"] == "other_office"


def test_admin_views_show_only_their_office(app, client, api, office_b) -> None:  # noqa: ANN001
    svc = app.extensions["motcua"]
    svc.auth.issue_device_token(office_b, DeviceKind.KIOSK, "kiosk-b", "Ki-ốt B")
    client.post("/api/v1/tickets", json={"service": "HOTICH"})                # in A
    live_b = client.get("/api/v1/live", headers=token(client, "admin-b")).json
    assert [d["code"] for d in live_b["devices"]] == ["kiosk-b"]
    assert [s["code"] for s in live_b["services"]] == ["HOTICH"] and live_b["services"][0]["waiting"] == 0
    assert len(live_b["counters"]) == 1
    live_a = client.get("/api/v1/live", headers=api.headers("admin")).json
    assert "kiosk-b" not in [d["code"] for d in live_a["devices"]]
    printers_b = client.get("/api/v1/printers", headers=token(client, "staff-b")).json["printers"]
    assert [p["code"] for p in printers_b] == ["kiosk-b"]


def test_a_kiosk_token_of_office_b_issues_in_office_b_only(app, client, office_b) -> None:  # noqa: ANN001
    svc = app.extensions["motcua"]
    kiosk = {"Authorization": "Bearer " + svc.auth.issue_device_token(office_b, DeviceKind.KIOSK, "kiosk-b")}
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers=kiosk)
    assert r.status_code == 201 and r.json["number"] == "H001"
    r = client.post("/api/v1/tickets", json={"service": "HOTICH", "office": "demo"}, headers=kiosk)
    assert r.status_code == 403 and r.json["error"]["code"] == "other_office"
    page = socketio.test_client(app, auth={"token": kiosk["Authorization"][7:]})
    (snapshot,) = [m["args"][0] for m in received(page) if m["name"] == "snapshot"]
    assert snapshot["office"]["code"] == "HCC-B" and [c["number"] for c in snapshot["counters"]] == [1]


def _counter(app, office_id: int) -> int:  # noqa: ANN001
    from tests.factories import counter_id
    return counter_id(app.extensions["motcua"].db, office_id, 1)


def test_a_province_admin_sees_every_office_by_naming_it(app, client, api, office_b) -> None:  # noqa: ANN001
    app.extensions["motcua"].auth.create_user("tinh", PASSWORD, Role.ADMIN, None, "Quản trị cấp tỉnh")
    province = token(client, "tinh")
    client.post("/api/v1/tickets", json={"service": "HOTICH", "office": "HCC-B"})
    live_b = client.get("/api/v1/live?office=HCC-B", headers=province).json
    assert live_b["services"][0]["waiting"] == 1 and len(live_b["counters"]) == 1
    live_a = client.get("/api/v1/live?office=demo", headers=province).json
    assert len(live_a["counters"]) == 5
    assert client.get("/api/v1/live?office=nowhere", headers=province).status_code == 404
    # An office admin naming another office is refused, not quietly shown their own.
    r = client.get("/api/v1/live?office=demo", headers=token(client, "admin-b"))
    assert r.status_code == 403 and r.json["error"]["code"] == "other_office"
