"""Dossiers at the counter: registering with the office's next code, the officer's view, the one apology."""
import sqlalchemy as sa

from queue_server.persistence.tables import dossier_steps, dossiers
from tests.socket_events import received

NEW = {"procedure_name": "Đăng ký khai sinh", "field_name": "Hộ tịch", "owner_name": "Trần Thị Bích",
       "owner_id": "079190001234", "appointment_at": "2026-11-25T16:00:00+07:00", "return_counter": 2}


def register(client, api, user: str = "staff1", **changes) -> object:  # noqa: ANN001, ANN003
    return client.post("/api/v1/dossiers/register", json={**NEW, **changes}, headers=api.headers(user))


def counts(app) -> tuple[int, int]:  # noqa: ANN001
    with app.extensions["motcua"].db.read() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(dossiers)).scalar(),
                conn.execute(sa.select(sa.func.count()).select_from(dossier_steps)).scalar())


def test_registering_takes_the_offices_next_code_of_the_day(client, api) -> None:  # noqa: ANN001
    first = register(client, api)
    second = register(client, api, "staff2", owner_name="Lê Văn Cường")
    assert first.status_code == 201 and second.status_code == 201
    # The demo office's agency code, the business date 2026-11-23, then 0001, 0002.
    assert first.json["code"] == "000.00.12.H56-261123-0001"
    assert second.json["code"] == "000.00.12.H56-261123-0002"
    assert first.json["status"] == 2 and first.json["owner_name"] == "Trần Thị Bích"
    assert first.json["owner"] == "Tr*** T** B" and "079190001234" not in str(first.json)
    assert first.json["steps"][0]["action"] == "Tiếp nhận hồ sơ"
    public = client.get(f"/api/v1/dossiers/{first.json['code']}").json
    assert public["status_text"] == "Đang giải quyết" and "owner_name" not in public


def test_a_given_code_is_kept_and_never_registered_twice(client, app, api) -> None:  # noqa: ANN001
    r = register(client, api, code=" 000.00.12.h56-261120-0042 ")
    assert r.status_code == 201 and r.json["code"] == "000.00.12.H56-261120-0042"
    before = counts(app)
    again = register(client, api, code="000.00.12.H56-261120-0042", owner_name="Ai Đó")
    assert again.status_code == 409 and again.json["error"]["code"] == "dossier_exists"
    assert counts(app) == before
    found = client.post("/api/v1/dossiers/find", json={"code": "000.00.12.H56-261120-0042"},
                        headers=api.headers("staff1")).json
    assert found["owner_name"] == "Trần Thị Bích"


def test_bad_registrations_change_nothing(client, app, api) -> None:  # noqa: ANN001
    before = counts(app)
    cases = [
        ({"appointment_at": "2026-11-23T08:00:00+07:00"}, 422, "appointment_in_past"),
        ({"appointment_at": "2026-11-25T16:00:00"}, 422, None),             # no time zone
        ({"procedure_name": ""}, 422, None),
        ({"owner_name": ""}, 422, None),
        ({"owner_id": "12-34"}, 422, None),
        ({"channel": 4}, 422, None),
        ({"code": "not a code"}, 422, None),
        ({"code": "000.00.12.H56-261332-0001"}, 422, None),                 # no 32nd of December… of month 13
        ({"return_counter": 0}, 422, None),
        ({"unknown": 1}, 422, None),
    ]
    for change, status, code in cases:
        r = register(client, api, **change)
        assert r.status_code == status, (change, r.json)
        if code:
            assert r.json["error"]["code"] == code
    assert client.post("/api/v1/dossiers/register", json=NEW).status_code == 401
    assert counts(app) == before


def test_without_an_agency_code_the_officer_types_the_code(client, app, api) -> None:  # noqa: ANN001
    from queue_server.persistence.tables import offices
    with app.extensions["motcua"].db.write() as conn:
        conn.execute(sa.update(offices).values(agency_code=None))
    r = register(client, api)
    assert r.status_code == 422 and r.json["error"]["code"] == "no_agency_code"
    assert register(client, api, code="000.00.12.H56-261123-0009").status_code == 201


def test_the_return_date_moves_once_and_the_apology_prints(client, app, api) -> None:  # noqa: ANN001
    code = register(client, api).json["code"]
    h = api.headers("staff1")
    r = client.post("/api/v1/dossier-slips", json={"code": code, "printer": "kiosk-1", "kind": "apology"}, headers=h)
    assert r.status_code == 409 and r.json["error"]["code"] == "no_apology"
    early = client.post("/api/v1/dossiers/reschedule", json={"code": code, "new_date": "2026-11-24T16:00:00+07:00"},
                        headers=h)
    assert early.status_code == 422 and early.json["error"]["code"] == "new_date_too_early"
    moved = client.post("/api/v1/dossiers/reschedule", headers=h, json={
        "code": code, "new_date": "2026-11-30T16:00:00+07:00", "reason": "Chờ xác minh."})
    assert moved.status_code == 200 and moved.json["apology_new_date"].startswith("2026-11-30T09:00:00")
    assert moved.json["steps"][0]["action"] == "Xin lỗi và hẹn lại ngày trả. Chờ xác minh."
    twice = client.post("/api/v1/dossiers/reschedule", headers=h, json={
        "code": code, "new_date": "2026-12-02T16:00:00+07:00"})
    assert twice.status_code == 409 and twice.json["error"]["code"] == "apology_already_given"
    job = client.post("/api/v1/dossier-slips", json={"code": code, "printer": "kiosk-1", "kind": "apology"},
                      headers=h)
    assert job.status_code == 201 and job.json["kind"] == "apology"
    state = client.get(f"/api/v1/print-jobs/{job.json['id']}", headers=h)
    assert state.status_code == 200 and state.json["status"] == "pending" and state.json["fault"] is None
    assert client.get("/api/v1/print-jobs/999999", headers=h).status_code == 404
    assert client.get(f"/api/v1/print-jobs/{job.json['id']}").status_code == 401


def test_finished_dossiers_are_not_rescheduled_and_unknown_ones_are_not_found(client, api) -> None:  # noqa: ANN001
    h = api.headers("staff1")
    r = client.post("/api/v1/dossiers/find", json={"code": "000.00.12.H56-261123-0777"}, headers=h)
    assert r.status_code == 404
    r = client.post("/api/v1/dossiers/find", json={"code": "<script>"}, headers=h)
    assert r.status_code == 422
    r = client.post("/api/v1/dossiers/reschedule", json={"code": "000.00.12.H56-261123-0777",
                                                         "new_date": "2026-12-30T16:00:00+07:00"}, headers=h)
    assert r.status_code == 404


def test_the_apology_reason_is_kept_for_reprints_and_the_staff_view_follows_the_language(app, client,  # noqa: ANN001
                                                                                        api) -> None:
    from queue_server.sockets import socketio
    h = api.headers("staff1")
    code = register(client, api).json["code"]
    moved = client.post("/api/v1/dossiers/reschedule", headers=h, json={
        "code": code, "new_date": "2026-11-30T16:00:00+07:00", "reason": "Chờ ý kiến của Sở Tư pháp."})
    assert moved.json["apology_reason"] == "Chờ ý kiến của Sở Tư pháp."
    agent_token = client.post("/api/v1/devices/token", json={"kind": "agent", "code": "agent-1"},
                              headers=api.headers("admin")).json["token"]
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "kiosk-1"})
    received(agent)
    job = client.post("/api/v1/dossier-slips", json={"code": code, "printer": "kiosk-1", "kind": "apology"}, headers=h)
    assert job.status_code == 201
    (created,) = [m["args"][0] for m in received(agent) if m["name"] == "print_job_created"]
    printed = " ".join(b.get("text") or "" for b in created["job"]["slip"]["blocks"])
    assert "Chờ ý kiến của Sở Tư pháp." in printed                   # a reprint without a reason keeps it
    english = client.post("/api/v1/dossiers/find?lang=en", json={"code": code}, headers=h).json
    assert english["status_text"] == english["status_text_en"] and english["channel_text"] != moved.json["channel_text"]


def test_a_receipt_that_failed_is_worded_for_the_officer(app, client, api) -> None:  # noqa: ANN001
    from queue_server.sockets import socketio
    h = api.headers("staff1")
    code = register(client, api).json["code"]
    agent_token = client.post("/api/v1/devices/token", json={"kind": "agent", "code": "agent-1"},
                              headers=api.headers("admin")).json["token"]
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "kiosk-1"})
    job = client.post("/api/v1/dossier-slips", json={"code": code, "printer": "kiosk-1"}, headers=h).json
    agent.emit("print_result", {"job_id": job["id"], "status": "failed", "error_code": "paper_out"}, callback=True)
    fault = client.get(f"/api/v1/print-jobs/{job['id']}", headers=h).json["fault"]
    assert fault["code"] == "paper_out" and "quý vị" not in fault["message_vi"]
    assert fault["message_vi"].startswith("Máy in hết giấy. Lệnh in được giữ")
