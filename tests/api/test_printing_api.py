"""Print jobs through the API and Socket.IO, with the agent played by a Socket.IO test client."""

import pytest

from queue_server.sockets import socketio
from tests.socket_events import received


@pytest.fixture
def agent_token(client, api) -> str:  # noqa: ANN001
    r = client.post("/api/v1/devices/token", json={"kind": "agent", "code": "agent-1"}, headers=api.headers("admin"))
    assert r.status_code == 201
    return r.json["token"]


def events(sio, name: str) -> list[dict]:  # noqa: ANN001
    return [m["args"][0] for m in received(sio) if m["name"] == name]


def issue(client, **extra) -> dict:  # noqa: ANN001, ANN003
    r = client.post("/api/v1/tickets", json={"service": "HOTICH", "kiosk": "kiosk-1", **extra})
    assert r.status_code == 201, r.json
    return r.json


def test_ticket_from_a_kiosk_comes_with_a_print_job(client, app, agent_token) -> None:  # noqa: ANN001
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "kiosk-1"})
    assert agent.is_connected()
    received(agent)
    ticket = issue(client)
    assert ticket["print_job"]["status"] == "pending" and ticket["print_job"]["kiosk"] == "kiosk-1"
    (job_event,) = events(agent, "print_job_created")
    job = job_event["job"]
    assert job["ticket_id"] == ticket["id"] and job["kind"] == "ticket"
    texts = [b.get("text") for b in job["slip"]["blocks"]]
    assert "PHIẾU SỐ THỨ TỰ" in texts and "Hộ tịch" in texts
    assert job["slip"]["kind"] == "ticket"
    assert next(b for b in job["slip"]["blocks"] if b["type"] == "number")["text"] == "A001"
    assert any(b.get("data") == ticket["track_url"] for b in job["slip"]["blocks"] if b["type"] == "qr")
    assert "seq" not in job_event                    # device events never open gaps in the office sequence


def test_a_prefix_with_d_stroke_prints_the_number_as_it_is(client, app, api, agent_token) -> None:  # noqa: ANN001
    body = {**api.service_settings("HOTICH"), "prefix": "Đ"}
    assert client.put("/api/v1/admin/services/HOTICH", headers=api.headers("admin"), json=body).status_code == 200
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "kiosk-1"})
    received(agent)
    ticket = issue(client)
    assert ticket["number"] == "Đ001"
    (job_event,) = events(agent, "print_job_created")
    slip = job_event["job"]["slip"]
    assert next(b for b in slip["blocks"] if b["type"] == "number")["text"] == "Đ001"
    assert slip["id"] == f"{ticket['business_date']}-D001-{ticket['id']}"      # the preview's file name


def test_an_english_ticket_says_its_priority_and_its_qr_in_english_too(client, app, agent_token) -> None:  # noqa: ANN001
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "kiosk-1"})
    received(agent)
    ticket = issue(client, lang="en", priority="NCT")
    (job_event,) = events(agent, "print_job_created")
    blocks = job_event["job"]["slip"]["blocks"]
    texts = [b.get("text") for b in blocks]
    assert "Ưu tiên: Người cao tuổi" in texts and "Priority: Elderly people" in texts
    assert "Scan the QR code to follow your turn." in texts
    assert [b["data"] for b in blocks if b["type"] == "qr"] == [ticket["track_url"] + "?lang=en"]


def test_no_print_job_without_a_kiosk_printer(client) -> None:  # noqa: ANN001
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"})
    assert r.status_code == 201 and r.json.get("print_job") is None
    r = client.post("/api/v1/tickets", json={"service": "HOTICH", "kiosk": "no-such-kiosk"})
    assert r.status_code == 201 and r.json.get("print_job") is None


def test_results_reach_the_kiosk_page_and_repeat_harmlessly(client, app, agent_token) -> None:  # noqa: ANN001
    page = socketio.test_client(app, auth={"kiosk": "kiosk-1"})
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "kiosk-1"})
    ticket = issue(client)
    job_id = ticket["print_job"]["id"]
    received(page)
    assert agent.emit("print_result", {"job_id": job_id, "status": "printed"}, callback=True)["ok"] is True
    (changed,) = events(page, "print_status_changed")
    assert changed["job"]["status"] == "printed" and changed["fault"] is None
    again = agent.emit("print_result", {"job_id": job_id, "status": "failed", "error_code": "offline"},
                       callback=True)
    assert again["job"]["status"] == "printed"       # settled: a late or repeated report changes nothing


def test_paper_out_fault_then_retry_on_refill(client, app, agent_token) -> None:  # noqa: ANN001
    page = socketio.test_client(app, auth={"kiosk": "kiosk-1", "lang": "vi"})
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "kiosk-1"})
    assert agent.emit("printer_status", {"online": True, "paper": "out"}, callback=True)["ok"]
    ticket = issue(client)
    job_id = ticket["print_job"]["id"]
    received(page)
    agent.emit("print_result", {"job_id": job_id, "status": "failed", "error_code": "paper_out"}, callback=True)
    (changed,) = events(page, "print_status_changed")
    assert changed["fault"]["code"] == "paper_out" and "hết giấy" in changed["fault"]["message_vi"]
    received(agent)
    answer = agent.emit("printer_status", {"online": True, "paper": "ok"}, callback=True)
    assert answer["retried"] == 1
    (resent,) = events(agent, "print_job_created")
    assert resent["job"]["id"] == job_id
    assert agent.emit("printer_status", {"online": True, "paper": "ok"}, callback=True)["retried"] == 0
    state = client.get("/api/v1/kiosks/kiosk-1").json
    assert state == {"kiosk": "kiosk-1", "agent_online": True,
                     "printer": {"online": True, "paper": "ok", "detail": None}}


def test_stale_jobs_expire_instead_of_printing_late(client, app, clock, agent_token) -> None:  # noqa: ANN001
    ticket = issue(client)
    clock.advance(minutes=11)
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "kiosk-1"})
    assert events(agent, "print_job_created") == []
    jobs = client.get(f"/api/v1/tickets/{ticket['id']}/print-jobs",
                      headers={"Authorization": f"Bearer {agent_token}"})
    assert jobs.status_code == 401                   # a device may not read staff endpoints


def test_agent_scope(client, app, api) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    display = client.post("/api/v1/devices/token", json={"kind": "display", "code": "b1"}, headers=admin).json["token"]
    kiosk = client.post("/api/v1/devices/token", json={"kind": "kiosk", "code": "kiosk-2"}, headers=admin).json["token"]
    assert not socketio.test_client(app, auth={"token": display, "agent_for": "kiosk-1"}).is_connected()
    assert not socketio.test_client(app, auth={"token": kiosk, "agent_for": "kiosk-1"}).is_connected()
    assert socketio.test_client(app, auth={"token": kiosk, "agent_for": "kiosk-2"}).is_connected()
    assert not socketio.test_client(app, auth={"agent_for": "kiosk-1"}).is_connected()


def test_print_results_from_non_agents_are_ignored(client, app) -> None:  # noqa: ANN001
    ticket = issue(client)
    page = socketio.test_client(app, auth={"kiosk": "kiosk-1"})
    answer = page.emit("print_result", {"job_id": ticket["print_job"]["id"], "status": "printed"}, callback=True)
    assert answer["ok"] is False


def test_unknown_kiosk(client, app) -> None:  # noqa: ANN001
    assert client.get("/api/v1/kiosks/nope").status_code == 404
    assert not socketio.test_client(app, auth={"kiosk": "nope"}).is_connected()


def test_reprint_rules(client, app, api, agent_token) -> None:  # noqa: ANN001
    h = api.headers("staff1")
    plain = client.post("/api/v1/tickets", json={"service": "HOTICH"}).json
    r = client.post(f"/api/v1/tickets/{plain['id']}/reprint", json={}, headers=h)
    assert r.status_code == 409 and r.json["error"]["code"] == "nothing_to_reprint"
    printed = issue(client)
    r = client.post(f"/api/v1/tickets/{printed['id']}/reprint", json={"kiosk": "nope"}, headers=h)
    assert r.status_code == 404
    r = client.post(f"/api/v1/tickets/{printed['id']}/reprint", json={}, headers=h)
    assert r.status_code == 201 and r.json["kind"] == "reprint" and r.json["status"] == "pending"
    assert client.post("/api/v1/tickets/9999/reprint", json={}, headers=h).status_code == 404
    jobs = client.get(f"/api/v1/tickets/{printed['id']}/print-jobs", headers=h).json["jobs"]
    assert [j["kind"] for j in jobs] == ["ticket", "reprint"]


def test_staff_see_the_offices_printers_with_the_counter_each_stands_at(client, api) -> None:  # noqa: ANN001
    r = client.post("/api/v1/devices/token", json={"kind": "printer", "code": "printer-q3", "counter": 3},
                    headers=api.headers("admin"))
    assert r.status_code == 201
    r = client.get("/api/v1/printers", headers=api.headers("staff3"))
    assert r.status_code == 200
    by_code = {p["code"]: p for p in r.json["printers"]}
    assert by_code["printer-q3"]["counter"] == 3 and by_code["printer-q3"]["kind"] == "printer"
    assert by_code["printer-q3"]["agent_online"] is False and by_code["printer-q3"]["printer"] is None
    assert by_code["kiosk-1"]["kind"] == "kiosk" and by_code["kiosk-1"]["counter"] is None


def test_printers_are_for_signed_in_staff_and_only_printers_stand_at_counters(client, api) -> None:  # noqa: ANN001
    assert client.get("/api/v1/printers").status_code == 401
    r = client.post("/api/v1/devices/token", json={"kind": "display", "code": "board-9", "counter": 2},
                    headers=api.headers("admin"))
    assert r.status_code == 422 and r.json["error"]["code"] == "not_a_printer"
    r = client.post("/api/v1/devices/token", json={"kind": "printer", "code": "printer-x", "counter": 0},
                    headers=api.headers("admin"))
    assert r.status_code == 422
    r = client.get("/api/v1/printers", headers=api.headers("staff1"))
    assert "board-9" not in {p["code"] for p in r.json["printers"]}
