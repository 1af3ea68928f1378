import pytest


def issue(client, service: str = "HOTICH") -> dict:  # noqa: ANN001
    r = client.post("/api/v1/tickets", json={"service": service})
    assert r.status_code == 201
    return r.json


def test_whole_visit_over_the_api(client, api) -> None:  # noqa: ANN001
    h = api.headers("staff1")
    ticket = issue(client)
    r = client.post("/api/v1/counters/1/call-next", headers=h)
    assert r.status_code == 200 and r.json["number"] == ticket["number"] and r.json["counter"] == 1
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["status"] == "called"
    assert client.post("/api/v1/counters/1/recall", headers=h).json["recall_count"] == 1
    finished = client.post("/api/v1/counters/1/finish", headers=h)
    assert finished.status_code == 200 and finished.json["status"] == "finished"
    state = client.get("/api/v1/counters/1", headers=h).json
    assert state["current"] is None and state["counter"]["state"] == "active"


def test_call_when_nothing_waits_is_204(client, api) -> None:  # noqa: ANN001
    r = client.post("/api/v1/counters/1/call-next", headers=api.headers("staff1"))
    assert r.status_code == 204 and r.data == b""


def test_finishing_twice_is_409_and_changes_nothing(client, api) -> None:  # noqa: ANN001
    h = api.headers("staff1")
    ticket = issue(client)
    client.post("/api/v1/counters/1/call-next", headers=h)
    assert client.post("/api/v1/counters/1/finish", headers=h).status_code == 200
    r = client.post("/api/v1/counters/1/finish", headers=h)
    assert r.status_code == 409 and r.json["error"]["code"] == "no_current_ticket"
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["status"] == "finished"


def test_two_screens_at_one_counter_never_end_a_visit_the_other_has_not_seen(client, api) -> None:  # noqa: ANN001
    """Each screen says which ticket it shows as current; the one that is behind is refused and nothing changes."""
    h = api.headers("staff1")
    first, second = issue(client), issue(client)
    screen_a = client.post("/api/v1/counters/1/call-next", headers={**h, "X-Counter-Current": "none"})
    assert screen_a.json["number"] == first["number"]
    for path, body in (("call-next", None), ("finish", None), ("no-show", None), ("recall", None),
                       ("transfer", {"service": "CHUNGTHUC"}), ("call", {"number": second["number"]})):
        late = client.post(f"/api/v1/counters/1/{path}", json=body, headers={**h, "X-Counter-Current": "none"})
        assert late.status_code == 409, (path, late.json)
        error = late.json["error"]
        assert error["code"] == "counter_moved_on" and error["details"]["current"] == first["number"]
        assert first["number"] in error["message_vi"] and first["number"] in error["message_en"]
    assert client.get(f"/api/v1/tickets/{first['id']}").json["status"] == "called"      # nothing changed
    assert client.get(f"/api/v1/tickets/{second['id']}").json["status"] == "waiting"
    assert client.get(f"/api/v1/tickets/{first['id']}").json["recall_count"] == 0
    # The screen that shows the truth goes on.
    screen_b = client.post("/api/v1/counters/1/call-next", headers={**h, "X-Counter-Current": str(first["id"])})
    assert screen_b.status_code == 200 and screen_b.json["number"] == second["number"]
    done = client.post("/api/v1/counters/1/finish", headers={**h, "X-Counter-Current": str(second["id"])})
    assert done.status_code == 200 and done.json["status"] == "finished"
    stale = client.post("/api/v1/counters/1/finish", headers={**h, "X-Counter-Current": str(second["id"])})
    assert stale.status_code == 409 and stale.json["error"]["details"]["current"] is None


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "１２", "9" * 19])
def test_a_malformed_current_ticket_header_is_422_and_changes_nothing(client, api, value: str) -> None:  # noqa: ANN001
    ticket = issue(client)
    r = client.post("/api/v1/counters/1/call-next", headers={**api.headers("staff1"), "X-Counter-Current": value})
    assert r.status_code == 422 and r.json["error"]["code"] == "bad_expected_current"
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["status"] == "waiting"


@pytest.mark.parametrize("action", ["call-next", "recall", "finish", "no-show", "resume"])
def test_acting_on_another_counter_is_403(client, api, action: str) -> None:  # noqa: ANN001
    issue(client)
    r = client.post(f"/api/v1/counters/2/{action}", headers=api.headers("staff1"))
    assert r.status_code == 403 and r.json["error"]["code"] == "not_your_counter"
    assert client.get("/api/v1/services").json["services"][0]["waiting"] == 1


def test_admin_may_act_at_any_counter_of_the_office(client, api) -> None:  # noqa: ANN001
    issue(client, "DATDAI")
    r = client.post("/api/v1/counters/3/call-next", headers=api.headers("admin"))
    assert r.status_code == 200 and r.json["number"] == "D001"


@pytest.mark.parametrize("action", ["call-next", "recall", "call", "no-show", "transfer", "finish", "pause",
                                    "resume"])
def test_counter_actions_need_sign_in(client, action: str) -> None:  # noqa: ANN001
    r = client.post(f"/api/v1/counters/1/{action}", json={})
    assert r.status_code in (401, 422)
    if r.status_code == 422:  # body validation comes first for actions with a body; still nothing happened
        assert r.json["error"]["code"] == "invalid_input"
    r = client.post(f"/api/v1/counters/1/{action}", json={"number": "A001", "service": "TUPHAP", "reason": "x"})
    assert r.status_code == 401 and r.json["error"]["code"] == "login_required"


def test_unknown_counter_is_404(client, api) -> None:  # noqa: ANN001
    r = client.post("/api/v1/counters/999/call-next", headers=api.headers("admin"))
    assert r.status_code == 404 and r.json["error"]["code"] == "counter_not_found"


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    ("call", {"number": "DROP TABLE"}, 422, "invalid_input"),
    ("call", {"number": 25}, 422, "invalid_input"),
    ("call", {}, 422, "invalid_input"),
    ("call", {"number": "Z999"}, 404, "ticket_not_found"),
    ("transfer", {"service": "<img src=x>"}, 422, "invalid_input"),
    ("transfer", {"service": "KHONGCO"}, 409, "no_current_ticket"),
    ("pause", {"reason": ""}, 422, "invalid_input"),
    ("pause", {"reason": "x" * 500}, 422, "invalid_input"),
    ("recall", None, 409, "no_current_ticket"),
    ("no-show", None, 409, "no_current_ticket"),
])
def test_bad_counter_requests(client, api, path: str, body, status: int, code: str) -> None:  # noqa: ANN001
    h = api.headers("staff1")
    r = client.post(f"/api/v1/counters/1/{path}", json=body, headers=h) if body is not None \
        else client.post(f"/api/v1/counters/1/{path}", headers=h)
    assert r.status_code == status, r.json
    assert r.json["error"]["code"] == code
    state = client.get("/api/v1/counters/1", headers=h).json
    assert state["counter"]["state"] == "active" and state["current"] is None


def test_transfer_call_number_no_show_pause(client, api) -> None:  # noqa: ANN001
    h1, h5 = api.headers("staff1"), api.headers("staff5")
    first = issue(client, "CHUNGTHUC")
    second = issue(client, "CHUNGTHUC")
    assert client.post("/api/v1/counters/1/call-next", headers=h1).json["number"] == "B001"
    moved = client.post("/api/v1/counters/1/transfer", json={"service": "TRAKETQUA"}, headers=h1)
    assert moved.status_code == 200 and moved.json["status"] == "transferred"
    called = client.post("/api/v1/counters/5/call-next", headers=h5).json   # counter 5 serves TRAKETQUA first
    assert called["number"] == "B001" and called["service"] == "TRAKETQUA"
    assert client.post("/api/v1/counters/5/no-show", headers=h5).json["status"] == "no_show"
    back = client.post("/api/v1/counters/5/call", json={"number": "B001"}, headers=h5)
    assert back.status_code == 200 and back.json["status"] == "called"
    paused = client.post("/api/v1/counters/1/pause", json={"reason": "Họp giao ban"}, headers=h1).json
    assert paused["counter"]["state"] == "paused" and paused["counter"]["reason"] == "Họp giao ban"
    r = client.post("/api/v1/counters/1/call-next", headers=h1)
    assert r.status_code == 409 and r.json["error"]["code"] == "counter_paused"
    assert client.post("/api/v1/counters/1/resume", headers=h1).json["counter"]["state"] == "active"
    assert client.post("/api/v1/counters/1/call-next", headers=h1).json["id"] == second["id"]
    assert first["id"] != second["id"]


def test_counters_listing_is_per_user(client, api) -> None:  # noqa: ANN001
    assert [c["number"] for c in client.get("/api/v1/counters", headers=api.headers("staff3")).json["counters"]] == [3]
    assert len(client.get("/api/v1/counters", headers=api.headers("admin")).json["counters"]) == 5
    assert client.get("/api/v1/counters").status_code == 401


def test_display_state_shows_calls(client, api) -> None:  # noqa: ANN001
    issue(client)
    client.post("/api/v1/counters/1/call-next", headers=api.headers("staff1"))
    state = client.get("/api/v1/display/state").json
    counter1 = next(c for c in state["counters"] if c["number"] == 1)
    assert counter1["current"] == "A001" and counter1["current_service"] == "HOTICH"
    assert state["recent_calls"][0]["number"] == "A001" and state["recent_calls"][0]["counter"] == 1
    assert state["seq"] >= 5


def test_no_transfer_to_a_service_no_counter_serves(client, api) -> None:  # noqa: ANN001
    admin, h = api.headers("admin"), api.headers("staff1")
    hours = api.service_settings("HOTICH")["opening_hours"]
    created = client.post("/api/v1/admin/services", headers=admin, json={
        "code": "MOI", "prefix": "M", "name_vi": "Dịch vụ mới", "name_en": "New service", "opening_hours": hours})
    assert created.status_code == 201, created.json
    ticket = issue(client)
    client.post("/api/v1/counters/1/call-next", headers=h)
    offered = [s["code"] for s in client.get("/api/v1/counters/1", headers=h).json["services"]]
    assert "MOI" not in offered and "TRAKETQUA" in offered          # the console offers only served services
    r = client.post("/api/v1/counters/1/transfer", json={"service": "MOI"}, headers=h)
    assert r.status_code == 409 and r.json["error"]["code"] == "service_not_served"
    assert "Dịch vụ mới" in r.json["error"]["message_vi"] and "New service" in r.json["error"]["message_en"]
    assert client.get(f"/api/v1/tickets/{ticket['id']}").json["status"] == "called"    # still at the counter


def test_calling_the_number_already_at_this_counter_says_so(client, api) -> None:  # noqa: ANN001
    h = api.headers("staff1")
    ticket = issue(client)
    client.post("/api/v1/counters/1/call-next", headers=h)
    r = client.post("/api/v1/counters/1/call", json={"number": ticket["number"].lower()}, headers=h)
    assert r.status_code == 409 and r.json["error"]["code"] == "already_current"
    assert r.json["error"]["message_vi"] == f"Số {ticket['number']} đang ở quầy này."


def test_a_closed_service_stays_on_the_board_while_people_still_wait_for_it(client, api) -> None:  # noqa: ANN001
    ticket = issue(client, "XAYDUNG")
    body = {**api.service_settings("XAYDUNG"), "active": False}
    assert client.put("/api/v1/admin/services/XAYDUNG", json=body, headers=api.headers("admin")).status_code == 200
    assert client.post("/api/v1/tickets", json={"service": "XAYDUNG"}).status_code == 409     # no new tickets
    listed = {w["service"]: w["waiting"] for w in client.get("/api/v1/display/state").json["waiting"]}
    assert listed["XAYDUNG"] == 1                      # the citizen already waiting still sees the queue
    called = client.post("/api/v1/counters/2/call-next", headers=api.headers("staff2")).json
    assert called["id"] == ticket["id"]
    assert "XAYDUNG" not in {w["service"] for w in client.get("/api/v1/display/state").json["waiting"]}
