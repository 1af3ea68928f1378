import pytest
import sqlalchemy as sa

from queue_server.persistence.tables import services, tickets


def count_tickets(app) -> int:  # noqa: ANN001
    with app.extensions["motcua"].db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tickets)).scalar_one()


def test_issue_ticket_contract(client) -> None:  # noqa: ANN001
    r = client.post("/api/v1/tickets", json={"service": "HOTICH", "priority": None, "kiosk": None, "lang": "vi"})
    assert r.status_code == 201
    body = r.json
    for key in ("id", "number", "service", "status", "position", "estimated_wait_s", "issued_at",
                "business_date", "track_url"):
        assert key in body, key
    assert body["number"] == "A001" and body["service"] == "HOTICH" and body["status"] == "waiting"
    assert body["position"] == 0 and body["business_date"] == "2026-11-23"
    assert "/t/" in body["track_url"] and "track_token" not in body
    again = client.get(f"/api/v1/tickets/{body['id']}")
    assert again.status_code == 200 and again.json["number"] == "A001" and again.json["counter"] is None


def test_second_ticket_has_one_ahead(client) -> None:  # noqa: ANN001
    client.post("/api/v1/tickets", json={"service": "DATDAI"})
    r = client.post("/api/v1/tickets", json={"service": "DATDAI"})
    assert r.json["number"] == "D002" and r.json["position"] == 1 and r.json["estimated_wait_s"] == 300


BAD_ISSUES = [
    # (description, kwargs for client.post, status, error code)
    ("malformed JSON", {"data": "{\"service\": ", "content_type": "application/json"}, 400, "malformed_json"),
    ("not JSON at all", {"data": "service=HOTICH", "content_type": "application/x-www-form-urlencoded"}, 400,
     "malformed_json"),
    ("empty body", {"data": "", "content_type": "application/json"}, 422, "invalid_input"),
    ("JSON array", {"json": ["HOTICH"]}, 422, "invalid_input"),
    ("missing service", {"json": {"lang": "vi"}}, 422, "invalid_input"),
    ("number for service", {"json": {"service": 12}}, 422, "invalid_input"),
    ("bool for service", {"json": {"service": True}}, 422, "invalid_input"),
    ("null service", {"json": {"service": None}}, 422, "invalid_input"),
    ("unknown field", {"json": {"service": "HOTICH", "admin": True}}, 422, "invalid_input"),
    ("bad lang", {"json": {"service": "HOTICH", "lang": "fr"}}, 422, "invalid_input"),
    ("SQL in service", {"json": {"service": "HOTICH'; DROP TABLE tickets;--"}}, 422, "invalid_input"),
    ("HTML in service", {"json": {"service": "<script>alert(1)</script>"}}, 422, "invalid_input"),
    ("HTML in kiosk", {"json": {"service": "HOTICH", "kiosk": "<b>x</b>"}}, 422, "invalid_input"),
    ("very long service", {"json": {"service": "A" * 5000}}, 422, "invalid_input"),
    ("unknown service", {"json": {"service": "KHONGCO"}}, 404, "service_not_found"),
    ("unknown priority", {"json": {"service": "HOTICH", "priority": "VIP"}}, 404, "priority_group_not_found"),
    ("unknown office", {"json": {"service": "HOTICH", "office": "nowhere"}}, 404, "office_not_found"),
    ("huge body", {"data": "{\"service\": \"" + "A" * 200_000 + "\"}", "content_type": "application/json"}, 413,
     "request_entity_too_large"),
]


@pytest.mark.parametrize(("what", "kwargs", "status", "code"), BAD_ISSUES, ids=[b[0] for b in BAD_ISSUES])
def test_bad_ticket_requests_change_nothing(client, app, what, kwargs, status, code) -> None:  # noqa: ANN001
    r = client.post("/api/v1/tickets", **kwargs)
    assert r.status_code == status, (what, r.json)
    assert r.json["error"]["code"] == code
    assert r.json["error"]["message"] and r.json["error"]["message_en"]
    assert count_tickets(app) == 0
    assert client.post("/api/v1/tickets", json={"service": "HOTICH"}).json["number"] == "A001"


def test_closed_service_is_409_with_clear_message(client, app) -> None:  # noqa: ANN001
    with app.extensions["motcua"].db.write() as conn:
        conn.execute(sa.update(services).where(services.c.code == "HOTICH")
                     .values(opening_hours={"mon": [["13:30", "17:00"]]}))
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"})
    assert r.status_code == 409 and r.json["error"]["code"] == "service_closed"
    assert "13:30" in r.json["error"]["message"]
    r = client.post("/api/v1/tickets?lang=en", json={"service": "HOTICH"})
    assert r.json["error"]["message"].startswith("Numbers for")
    assert count_tickets(app) == 0


def test_daily_limit_is_409(client, app) -> None:  # noqa: ANN001
    with app.extensions["motcua"].db.write() as conn:
        conn.execute(sa.update(services).where(services.c.code == "HOTICH").values(daily_limit=1))
    assert client.post("/api/v1/tickets", json={"service": "HOTICH"}).status_code == 201
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"})
    assert r.status_code == 409 and r.json["error"]["code"] == "daily_limit_reached"
    listing = client.get("/api/v1/services").json["services"]
    hotich = next(s for s in listing if s["code"] == "HOTICH")
    assert hotich["limit_reached"] is True and hotich["open_now"] is False


def test_idempotency_key(client, app) -> None:  # noqa: ANN001
    headers = {"Idempotency-Key": "kiosk-1:tap:000123"}
    first = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers=headers)
    second = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json["id"] == second.json["id"] and count_tickets(app) == 1
    bad = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers={"Idempotency-Key": "x"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_idempotency_key"
    assert count_tickets(app) == 1


def test_unknown_ticket_and_unknown_route(client) -> None:  # noqa: ANN001
    r = client.get("/api/v1/tickets/999")
    assert r.status_code == 404 and r.json["error"]["code"] == "ticket_not_found"
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and "error" in r.json
    r = client.delete("/api/v1/tickets")
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"


def test_services_listing(client) -> None:  # noqa: ANN001
    client.post("/api/v1/tickets", json={"service": "DATDAI"})
    body = client.get("/api/v1/services").json
    assert [s["code"] for s in body["services"]][:3] == ["HOTICH", "CHUNGTHUC", "TUPHAP"]
    datdai = next(s for s in body["services"] if s["code"] == "DATDAI")
    assert datdai["waiting"] == 1 and datdai["open_now"] is True and datdai["name_vi"] == "Đất đai"
    assert {g["code"] for g in body["priority_groups"]} >= {"NCT", "NKT", "PNMT"}


def test_priority_ticket(client) -> None:  # noqa: ANN001
    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    r = client.post("/api/v1/tickets", json={"service": "HOTICH", "priority": "NCT"})
    assert r.status_code == 201 and r.json["priority"] is True and r.json["position"] == 0
