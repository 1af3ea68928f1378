"""Dossiers in through the API, out through the public lookup: masked, append-only, rate-limited."""
import copy

import pytest
import sqlalchemy as sa

from queue_server.persistence.tables import dossier_lookups, dossier_steps, dossiers
from tests.socket_events import received

CODE = "000.00.12.H56-250915-0007"
DOSSIER = {
    "code": CODE, "procedure_name": "Đăng ký khai sinh", "field_name": "Hộ tịch", "owner_name": "Nguyễn Văn An",
    "owner_id": "001203004567", "received_at": "2025-09-15T08:10:00+07:00",
    "appointment_at": "2026-11-25T17:00:00+07:00", "status": 2, "status_at": "2025-09-15T08:10:00+07:00",
    "unit": "Bộ phận một cửa", "action": "Tiếp nhận hồ sơ",
}


@pytest.fixture
def integrator(client, api) -> dict:  # noqa: ANN001
    r = client.post("/api/v1/devices/token", json={"kind": "integrator", "code": "mot-cua-tinh"},
                    headers=api.headers("admin"))
    return {"Authorization": f"Bearer {r.json['token']}"}


def put(client, headers, **changes) -> object:  # noqa: ANN001, ANN003
    body = copy.deepcopy(DOSSIER)
    body.update(changes)
    return client.post("/api/v1/dossiers", json=body, headers=headers)


def history(app) -> list[tuple]:  # noqa: ANN001
    with app.extensions["motcua"].db.read() as conn:
        return [tuple(r) for r in conn.execute(sa.select(dossier_steps.c.status, dossier_steps.c.action)
                                               .order_by(dossier_steps.c.id))]


def test_upsert_is_idempotent_and_history_only_grows(client, app, integrator) -> None:  # noqa: ANN001
    assert put(client, integrator).status_code == 201
    again = put(client, integrator)
    assert again.status_code == 200 and again.json == {"code": CODE, "created": False, "steps_added": 0}
    put(client, integrator, status=4, status_at="2025-09-16T09:00:00+07:00", action="Chuyển phòng chuyên môn")
    put(client, integrator, status=9, status_at="2025-09-20T15:00:00+07:00", action="Có kết quả", return_counter=5)
    put(client, integrator, status=9, status_at="2025-09-20T15:00:00+07:00", action="Có kết quả", return_counter=5)
    assert history(app) == [(2, "Tiếp nhận hồ sơ"), (4, "Chuyển phòng chuyên môn"), (9, "Có kết quả")]
    view = client.get(f"/api/v1/dossiers/{CODE}").json
    assert view["status_text"] == "Đã có kết quả — mời nhận tại quầy số 5" and view["overdue"] is False
    assert [s["status"] for s in view["steps"]] == [9, 4, 2]          # newest first


def test_public_view_never_shows_personal_data(client, app, integrator) -> None:  # noqa: ANN001
    put(client, integrator)
    for response in (client.get(f"/api/v1/dossiers/{CODE}"), client.get(f"/api/v1/dossiers/{CODE}?lang=en"),
                     client.post("/api/v1/dossiers/lookup", json={"text": f"Mã hồ sơ: {CODE}"})):
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "001203004567" not in text and "Nguyễn Văn An" not in text and "Nguy" not in text
        assert response.json["owner"] == "Ng*** V** A"
    with app.extensions["motcua"].db.read() as conn:
        row = conn.execute(sa.select(dossiers)).mappings().one()
    assert "001203004567" not in str(dict(row)) and len(row["owner_id_hash"]) == 64


def test_lookup_forms(client, integrator) -> None:  # noqa: ANN001
    put(client, integrator)
    assert client.get(f"/api/v1/dossiers/{CODE.lower()}").status_code == 200
    assert client.get(f"/api/v1/dossiers/https://dvc.example.vn/tra-cuu?ma={CODE}").status_code == 200
    r = client.post("/api/v1/dossiers/lookup", json={"text": f"https://dvc.example.vn/hs/{CODE}", "lang": "en"})
    assert r.status_code == 200 and r.json["status_text"] == "Being processed"


def test_unknown_and_malformed(client, app) -> None:  # noqa: ANN001
    r = client.get("/api/v1/dossiers/000.00.12.H56-250915-0008")
    assert r.status_code == 404 and r.json["error"]["code"] == "dossier_not_found"
    r = client.get("/api/v1/dossiers/not-a-code")
    assert r.status_code == 422 and r.json["error"]["code"] == "malformed_code"
    r = client.post("/api/v1/dossiers/lookup", json={"text": "000.00.12.H56-250230-0001"})
    assert r.status_code == 422 and r.json["error"]["code"] == "bad_date"
    with app.extensions["motcua"].db.read() as conn:
        logged = conn.execute(sa.select(dossier_lookups.c.outcome, dossier_lookups.c.code)
                              .order_by(dossier_lookups.c.id)).all()
    assert [tuple(r) for r in logged] == [("unknown", "000.00.12.H56-250915-0008"), ("malformed", None),
                                          ("malformed", None)]


def test_lookups_are_rate_limited_per_address(client) -> None:  # noqa: ANN001
    codes = [client.get(f"/api/v1/dossiers/000.00.12.H56-250915-{n:04d}").status_code for n in range(1, 32)]
    assert codes[:30] == [404] * 30 and codes[30] == 429


@pytest.mark.parametrize(("changes", "status"), [
    ({"code": "not-a-code"}, 422),
    ({"code": "000.00.12.H56-250231-0001"}, 422),
    ({"status": 11}, 422),
    ({"status": "4"}, 422),
    ({"received_at": "2025-09-15T08:10:00"}, 422),       # no time zone: ambiguous
    ({"channel": 4}, 422),
    ({"owner_id": "12 34"}, 422),
    ({"procedure_name": ""}, 422),
    ({"unexpected": 1}, 422),
])
def test_bad_dossiers_change_nothing(client, app, integrator, changes: dict, status: int) -> None:  # noqa: ANN001
    assert put(client, integrator, **changes).status_code == status
    with app.extensions["motcua"].db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(dossiers)).scalar_one() == 0


def test_who_may_write(client, api) -> None:  # noqa: ANN001
    assert client.post("/api/v1/dossiers", json=DOSSIER).status_code == 401
    kiosk = client.post("/api/v1/devices/token", json={"kind": "kiosk", "code": "k9"}, headers=api.headers("admin"))
    r = client.post("/api/v1/dossiers", json=DOSSIER, headers={"Authorization": f"Bearer {kiosk.json['token']}"})
    assert r.status_code == 403
    assert client.post("/api/v1/dossiers", json=DOSSIER, headers=api.headers("staff1")).status_code == 201


def test_apology_moves_the_date_once(client, integrator) -> None:  # noqa: ANN001
    put(client, integrator, status=4, appointment_at="2025-09-22T17:00:00+07:00")
    late = client.get(f"/api/v1/dossiers/{CODE}").json
    assert late["overdue"] is True and late["apology_new_date"] is None
    assert put(client, integrator, status=4, appointment_at="2025-09-22T17:00:00+07:00",
               apology_new_date="2025-09-29T17:00:00+07:00").status_code == 200
    assert put(client, integrator, status=4, appointment_at="2025-09-22T17:00:00+07:00",
               apology_new_date="2025-09-29T17:00:00+07:00").status_code == 200     # same apology again: fine
    r = put(client, integrator, status=4, apology_new_date="2025-10-06T17:00:00+07:00")
    assert r.status_code == 409 and r.json["error"]["code"] == "apology_already_given"
    view = client.get(f"/api/v1/dossiers/{CODE}").json
    assert view["apology_new_date"].startswith("2025-09-29")


def test_batch_is_all_or_nothing(client, app, integrator) -> None:  # noqa: ANN001
    items = [dict(DOSSIER, code=f"000.00.12.H56-250915-{n:04d}") for n in range(1, 51)]
    r = client.post("/api/v1/dossiers/batch", json={"items": items}, headers=integrator)
    assert r.status_code == 200 and r.json["created"] == 50
    bad = [dict(DOSSIER, code=f"000.00.12.H56-250916-{n:04d}") for n in range(1, 5)]
    bad[2]["code"] = "000.00.12.H56-250230-0003"
    r = client.post("/api/v1/dossiers/batch", json={"items": bad}, headers=integrator)
    assert r.status_code == 422
    with app.extensions["motcua"].db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(dossiers)).scalar_one() == 50


def test_public_page_and_receipt_printing(client, app, api, integrator) -> None:  # noqa: ANN001
    from queue_server.sockets import socketio
    put(client, integrator, return_counter=5)
    page = client.get(f"/tra-cuu/{CODE}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ng*** V** A" in text and "Nguyễn Văn An" not in text
    assert client.get("/tra-cuu/not-a-code").status_code == 422
    assert client.get("/tra-cuu/000.00.12.H56-250915-0099").status_code == 404
    admin = api.headers("admin")
    client.post("/api/v1/devices/token", json={"kind": "printer", "code": "counter-5"}, headers=admin)
    agent_token = client.post("/api/v1/devices/token", json={"kind": "agent", "code": "agent-c5"},
                              headers=admin).json["token"]
    agent = socketio.test_client(app, auth={"token": agent_token, "agent_for": "counter-5"})
    received(agent)
    h = api.headers("staff5")
    r = client.post("/api/v1/dossier-slips", json={"code": CODE, "printer": "counter-5",
                                                   "documents": ["Tờ khai", "Giấy chứng sinh"]}, headers=h)
    assert r.status_code == 201 and r.json["kind"] == "receipt"
    (event,) = [m["args"][0] for m in received(agent) if m["name"] == "print_job_created"]
    blocks = event["job"]["slip"]["blocks"]
    assert {"type": "barcode", "data": CODE} in blocks
    assert any(b["type"] == "qr" and b["data"].endswith(f"/tra-cuu/{CODE}") for b in blocks)
    assert any("Nguyễn Văn An" in b.get("text", "") for b in blocks)      # the citizen's own receipt
    r = client.post("/api/v1/dossier-slips", json={"code": CODE, "printer": "counter-5", "kind": "apology"},
                    headers=h)
    assert r.status_code == 409 and r.json["error"]["code"] == "no_apology"
    r = client.post("/api/v1/dossier-slips", json={"code": CODE, "printer": "nowhere"}, headers=h)
    assert r.status_code == 404
    assert client.post("/api/v1/dossier-slips", json={"code": CODE, "printer": "counter-5"}).status_code == 401
    put(client, integrator, return_counter=5, appointment_at="2025-09-22T17:00:00+07:00",
        apology_new_date="2025-09-29T17:00:00+07:00")
    r = client.post("/api/v1/dossier-slips", json={"code": CODE, "printer": "counter-5", "kind": "apology",
                                                   "reason": "Chờ xác minh thông tin"}, headers=h)
    assert r.status_code == 201 and r.json["kind"] == "apology"
    (event,) = [m["args"][0] for m in received(agent) if m["name"] == "print_job_created"]
    texts = " ".join(b.get("text", "") for b in event["job"]["slip"]["blocks"])
    assert "PHIẾU XIN LỖI" in texts and "29 tháng 09 năm 2025" in texts and "Chờ xác minh" in texts


def test_batch_mixes_new_known_and_repeated_codes(client, app, integrator) -> None:  # noqa: ANN001
    put(client, integrator)                                                  # CODE is known, status 2
    items = [dict(DOSSIER, code="000.00.12.H56-250917-0001"), dict(DOSSIER, status=4, action="Chuyển xử lý"),
             dict(DOSSIER, code="000.00.12.H56-250917-0001", status=9, action="Có kết quả")]
    r = client.post("/api/v1/dossiers/batch", json={"items": items}, headers=integrator)
    assert r.status_code == 200
    assert [(x["created"], x["steps_added"]) for x in r.json["results"]] == [(True, 1), (False, 1), (False, 1)]
    assert client.get("/api/v1/dossiers/000.00.12.H56-250917-0001").json["status"] == 9
    assert client.get(f"/api/v1/dossiers/{CODE}").json["status"] == 4


def test_a_full_batch_of_a_thousand_fits_in_one_request(client, app, integrator) -> None:  # noqa: ANN001
    items = [dict(DOSSIER, code=f"000.00.12.H56-250918-{n:04d}", owner_id=f"0012030{n:05d}",
                  procedure_name="Chứng thực bản sao từ bản chính, chữ ký và hợp đồng giao dịch")
             for n in range(1, 1001)]
    r = client.post("/api/v1/dossiers/batch", json={"items": items}, headers=integrator)
    assert r.status_code == 200 and r.json["created"] == 1000
    r = client.post("/api/v1/tickets", data="{\"service\": \"" + "A" * 100_000 + "\"}",
                    content_type="application/json")
    assert r.status_code == 413                       # other endpoints keep their small limit


def test_early_and_on_time_are_judged_on_the_offices_calendar(client, integrator) -> None:  # noqa: ANN001
    """Finished at 06:30 on the due date in Hà Nội is 23:30 the day before in UTC: on time, not early."""
    code = "000.00.12.H56-251124-0031"
    r = put(client, integrator, code=code, received_at="2025-11-20T08:00:00+07:00",
            appointment_at="2025-11-25T16:00:00+07:00", status=9, status_at="2025-11-25T06:30:00+07:00",
            steps=[{"at": "2025-11-20T08:00:00+07:00", "status": 2}])
    assert r.status_code == 201, r.json
    view = client.get(f"/api/v1/dossiers/{code}").json
    assert view["bucket"] == "dung_han" and view["overdue"] is False        # Đúng hạn, not Trước hạn
    assert view["appointment_at"].startswith("2025-11-25T16:00:00")            # shown in the office's time
