"""The admin API over HTTP: who may call it, which office it reaches, how refusals look, and that changes
take effect at once."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from queue_server.api import OPERATIONS
from queue_server.domain.model import DeviceKind, Role
from queue_server.persistence.tables import audit_log
from queue_server.services.auth import AuthService
from queue_server.services.demo import DEMO_PASSWORD
from tests.factories import make_office
from tests.socket_events import received

ADMIN_OPERATIONS = sorted({(op.method.upper(), op.path, op.access) for op in OPERATIONS
                           if op.path.startswith("/api/v1/admin")})
SAMPLE = {"code": "HOTICH", "number": "1", "username": "staff1"}
PREVIEW = {"header_lines": ["Bộ phận Một cửa"], "footer": "Xin cảm ơn!", "qr": True, "paper_width": 576}


def url(path: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE[m.group(1)], path)


def audit_count(app) -> int:  # noqa: ANN001
    with app.extensions["motcua"].db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()


def office_id(app, code: str = "demo") -> int:  # noqa: ANN001
    with app.extensions["motcua"].db.read() as conn:
        return conn.execute(sa.text("SELECT id FROM offices WHERE code = :c"), {"c": code}).scalar_one()


@pytest.fixture
def supervisor(app, api):  # noqa: ANN001, ANN201
    svc = app.extensions["motcua"]
    AuthService(svc.db, svc.clock).create_user("lanhdao", DEMO_PASSWORD, Role.SUPERVISOR, office_id(app),
                                               full_name="Lãnh đạo")
    return api.headers("lanhdao")


def test_the_admin_endpoints_exist() -> None:
    paths = {(m, p) for m, p, _ in ADMIN_OPERATIONS}
    for method, path in [("GET", "/office"), ("PUT", "/office"), ("GET", "/services"), ("POST", "/services"),
                         ("PUT", "/services/<code>"), ("DELETE", "/services/<code>"), ("PUT", "/services/order"),
                         ("GET", "/counters"), ("POST", "/counters"), ("PUT", "/counters/<int:number>"),
                         ("DELETE", "/counters/<int:number>"), ("GET", "/users"), ("POST", "/users"),
                         ("PUT", "/users/<username>"), ("POST", "/users/<username>/password"), ("GET", "/devices"),
                         ("POST", "/devices"), ("POST", "/devices/<code>/revoke"), ("PUT", "/devices/<code>"),
                         ("GET", "/priority"), ("PUT", "/priority"), ("GET", "/voice"), ("PUT", "/voice"),
                         ("GET", "/ticket-template"), ("PUT", "/ticket-template"),
                         ("POST", "/ticket-template/preview"), ("GET", "/audit"), ("GET", "/rating"),
                         ("PUT", "/rating")]:
        assert (method, "/api/v1/admin" + path) in paths


def test_nobody_but_managers_reaches_an_admin_endpoint(app, client, api) -> None:  # noqa: ANN001
    """Every endpoint under /api/v1/admin, found in the API's own list, so a new one cannot slip through."""
    assert len(ADMIN_OPERATIONS) >= 29
    for method, path, access in ADMIN_OPERATIONS:
        assert access in ("manager", "admin"), path
        anonymous = client.open(url(path), method=method, json={})
        assert anonymous.status_code == 401, (method, path, anonymous.json)
        staff = client.open(url(path), method=method, json={}, headers=api.headers("staff1"))
        assert staff.status_code == 403, (method, path, staff.json)
        assert staff.json["error"]["code"] in ("manager_only", "admin_only")
    assert audit_count(app) == 0


def test_supervisors_read_everything_and_change_nothing(app, client, supervisor) -> None:  # noqa: ANN001
    for method, path, access in ADMIN_OPERATIONS:
        body = PREVIEW if path.endswith("/preview") else {}
        r = client.open(url(path), method=method, json=body, headers=supervisor)
        if access == "manager":
            assert r.status_code == 200, (method, path, r.json)
        else:
            assert r.status_code == 403 and r.json["error"]["code"] == "admin_only", (method, path)
    assert audit_count(app) == 0


def test_a_refusal_names_the_field_in_both_languages_and_changes_nothing(app, client, api) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    service = next(s for s in client.get("/api/v1/admin/services", headers=admin).json["services"]
                   if s["code"] == "HOTICH")
    body = {k: service[k] for k in ("name_vi", "name_en", "numbering", "prefix", "block", "digits", "daily_limit",
                                    "opening_hours", "active", "avg_service_s")}
    for changes, field in (({"daily_limit": -1}, "daily_limit"), ({"prefix": "B"}, "prefix"),
                           ({"opening_hours": {"mon": [["07:30", "11:30"], ["11:00", "12:00"]]}},
                            "opening_hours.mon[1]"),
                           ({"opening_hours": {"mon": [["17:00", "13:30"]]}}, "opening_hours.mon[0]")):
        r = client.put("/api/v1/admin/services/HOTICH", headers=admin, json={**body, **changes})
        assert r.status_code == 422, r.json
        error = r.json["error"]
        assert error["code"] == "invalid_settings" and error["details"]["field"] == field
        assert error["message_vi"] != error["message_en"] and error["details"]["fields"][0]["message_en"]
    r = client.put("/api/v1/admin/services/HOTICH?lang=en", headers=admin, json={**body, "daily_limit": -1})
    assert r.json["error"]["message"] == r.json["error"]["message_en"]
    r = client.put("/api/v1/admin/counters/1", headers=admin, json={"name": "Tư pháp", "services": []})
    assert (r.status_code, r.json["error"]["details"]["field"]) == (422, "services")
    r = client.put("/api/v1/admin/services/HOTICH", headers=admin, json={**body, "daily_limit": "many"})
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "daily_limit"   # the type, by pydantic
    assert client.get("/api/v1/admin/services", headers=admin).json["services"][0] == service
    assert audit_count(app) == 0


def test_a_change_takes_effect_at_once_and_is_in_the_log(app, client, api, supervisor) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    body = api.service_settings("HOTICH")
    r = client.put("/api/v1/admin/services/HOTICH", headers=admin, json={**body, "name_vi": "Hộ tịch (mới)"})
    assert r.status_code == 200 and r.json["name_vi"] == "Hộ tịch (mới)"
    listed = client.get("/api/v1/services").json["services"]
    assert next(s for s in listed if s["code"] == "HOTICH")["name_vi"] == "Hộ tịch (mới)"
    issued = client.post("/api/v1/tickets", json={"service": "HOTICH"})
    assert issued.status_code == 201
    log = client.get("/api/v1/admin/audit?entity=service", headers=supervisor).json["entries"]
    assert [(e["username"], e["key"], e["action"]) for e in log] == [("admin", "HOTICH", "update")]
    assert (log[0]["before"]["name_vi"], log[0]["after"]["name_vi"]) == ("Hộ tịch", "Hộ tịch (mới)")
    assert client.get("/api/v1/admin/audit?entity=counter", headers=admin).json["entries"] == []


def test_another_office_is_invisible_and_untouchable(app, client, api) -> None:  # noqa: ANN001
    svc = app.extensions["motcua"]
    other = make_office(svc.db, "other", services_spec=[{"code": "S1", "prefix": "A"}, {"code": "S2", "prefix": "B"}])
    auth = AuthService(svc.db, svc.clock)
    auth.create_user("other-admin", DEMO_PASSWORD, Role.ADMIN, other)
    auth.create_user("other-staff", DEMO_PASSWORD, Role.STAFF, other, counter_numbers=[1])
    auth.issue_device_token(other, DeviceKind.KIOSK, "kiosk-other")
    admin = api.headers("admin")
    users = [u["username"] for u in client.get("/api/v1/admin/users", headers=admin).json["users"]]
    assert "other-staff" not in users and "other-admin" not in users and "staff1" in users
    assert "S1" not in {s["code"] for s in client.get("/api/v1/admin/services", headers=admin).json["services"]}
    assert "kiosk-other" not in {d["code"] for d in client.get("/api/v1/admin/devices", headers=admin).json["devices"]}
    service = {"name_vi": "x", "numbering": "prefix", "prefix": "Q", "opening_hours": {}}
    for method, path, body in (("PUT", "/api/v1/admin/services/S1", service),
                               ("DELETE", "/api/v1/admin/services/S1", None),
                               ("PUT", "/api/v1/admin/users/other-staff", {"full_name": "x", "role": "admin"}),
                               ("POST", "/api/v1/admin/users/other-staff/password", {}),
                               ("PUT", "/api/v1/admin/devices/kiosk-other", {"name": "x"}),
                               ("POST", "/api/v1/admin/devices/kiosk-other/revoke", {})):
        r = client.open(path, method=method, json=body, headers=admin)
        assert r.status_code == 404, (path, r.json)
    # The other office's admin edits its own counter 1, not the demo's.
    theirs = api.headers("other-admin")
    r = client.put("/api/v1/admin/counters/1", headers=theirs, json={"name": "Quầy khác", "services": ["S2"]})
    assert r.status_code == 200 and r.json["services"] == ["S2"]
    assert client.get("/api/v1/admin/counters", headers=admin).json["counters"][0]["name"] == "Tư pháp"
    assert [e["key"] for e in client.get("/api/v1/admin/audit", headers=admin).json["entries"]] == []
    assert [e["key"] for e in client.get("/api/v1/admin/audit", headers=theirs).json["entries"]] == ["1"]


def test_devices_get_a_token_once_and_lose_it_on_revoke(client, api) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    r = client.post("/api/v1/admin/devices", headers=admin,
                    json={"kind": "kiosk", "code": "kiosk-2", "name": "Ki-ốt tầng 2"})
    assert r.status_code == 201 and r.json["open_url"] == f"/kiosk?kiosk=kiosk-2&token={r.json['token']}"
    token = r.json["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["device"]["code"] == "kiosk-2"
    listed = next(d for d in client.get("/api/v1/admin/devices", headers=admin).json["devices"]
                  if d["code"] == "kiosk-2")
    assert "token" not in listed and listed["tokens"] == 1 and listed["name"] == "Ki-ốt tầng 2"
    assert client.post("/api/v1/admin/devices/kiosk-2/revoke", headers=admin).json["tokens"] == 0
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_device_token_and_its_audit_line_are_written_together(app, client, api) -> None:  # noqa: ANN001
    """The change log refuses a line (a trigger, as a full disk or a broken table would): no token is left."""
    db = app.extensions["motcua"].db
    admin = api.headers("admin")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                             "BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
        tokens_before = conn.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar()
    r = client.post("/api/v1/admin/devices", headers=admin,
                    json={"kind": "kiosk", "code": "kiosk-9", "name": "Ki-ốt 9"})
    assert r.status_code >= 400 and "token" not in (r.json or {})
    with db.write() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar() == tokens_before
        assert conn.exec_driver_sql("SELECT count(*) FROM devices WHERE code = 'kiosk-9'").scalar() == 0
        conn.exec_driver_sql("DROP TRIGGER no_audit")
    assert client.post("/api/v1/admin/devices", headers=admin,
                       json={"kind": "kiosk", "code": "kiosk-9", "name": "Ki-ốt 9"}).status_code == 201


def test_a_new_password_is_shown_once_and_works(client, api) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    r = client.post("/api/v1/admin/users", headers=admin,
                    json={"username": "staff6", "full_name": "Cán bộ 6", "role": "staff", "counters": [5]})
    assert r.status_code == 201 and r.json["counters"] == [5]
    login = client.post("/api/v1/auth/token", json={"username": "staff6", "password": r.json["password"]})
    assert login.status_code == 200
    assert "password" not in str(client.get("/api/v1/admin/users", headers=admin).json)
    reset = client.post("/api/v1/admin/users/staff6/password", headers=admin, json={})
    assert reset.status_code == 200 and reset.json["password"] != r.json["password"]
    assert client.post("/api/v1/auth/token", json={"username": "staff6", "password": r.json["password"]}
                       ).status_code == 401


def test_the_ticket_preview_is_a_png_of_the_template_sent(app, client, api) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    r = client.post("/api/v1/admin/ticket-template/preview", headers=admin, json=PREVIEW)
    assert r.status_code == 200 and r.mimetype == "image/png"
    first = Image.open(io.BytesIO(r.data))
    r2 = client.post("/api/v1/admin/ticket-template/preview", headers=admin,
                     json={**PREVIEW, "header_lines": ["Một dòng khác hẳn", "và dòng thứ hai"], "paper_width": 384})
    assert Image.open(io.BytesIO(r2.data)).width == 384 and first.width == 576 and r2.data != r.data
    bad = client.post("/api/v1/admin/ticket-template/preview", headers=admin, json={**PREVIEW, "footer": ""})
    assert (bad.status_code, bad.json["error"]["details"]["field"]) == (422, "footer")
    assert client.get("/api/v1/admin/ticket-template", headers=admin).json["custom"] is False
    assert audit_count(app) == 0


def test_a_photo_that_is_not_an_image_or_too_big_is_refused(client, api) -> None:  # noqa: ANN001
    """Photos are stored by the ratings' endpoint; the staff section uploads through it."""
    admin = api.headers("admin")
    staff = next(u for u in client.get("/api/v1/admin/users", headers=admin).json["users"]
                 if u["username"] == "staff1")
    path = f"/api/v1/users/{staff['id']}/photo"
    not_image = client.put(path, headers={**admin, "Content-Type": "image/jpeg"}, data=b"%PDF-1.4 not a photo")
    assert not_image.status_code == 422 and not_image.json["error"]["message_vi"]
    huge = client.put(path, headers={**admin, "Content-Type": "image/jpeg"}, data=b"\xff" * (10 * 1024 * 1024))
    assert huge.status_code == 413 and huge.json["error"]["message_vi"]
    assert next(u for u in client.get("/api/v1/admin/users", headers=admin).json["users"]
                if u["username"] == "staff1")["photo_version"] is None
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), "navy").save(photo, "PNG")
    assert client.put(path, headers={**admin, "Content-Type": "image/png"}, data=photo.getvalue()).status_code == 200
    assert next(u for u in client.get("/api/v1/admin/users", headers=admin).json["users"]
                if u["username"] == "staff1")["photo_version"] is not None


def test_kiosks_and_boards_hear_of_a_change_once_it_is_committed_and_not_of_a_refused_one(app, client,  # noqa: ANN001
                                                                                        api) -> None:
    from queue_server.sockets import socketio
    board = socketio.test_client(app)
    (snapshot,) = [m["args"][0] for m in received(board)]
    admin = api.headers("admin")
    service = next(s for s in client.get("/api/v1/admin/services", headers=admin).json["services"]
                   if s["code"] == "DATDAI")
    body = {k: service[k] for k in ("name_vi", "name_en", "numbering", "prefix", "block", "digits", "daily_limit",
                                    "opening_hours", "active", "avg_service_s")}
    refused = client.put("/api/v1/admin/services/DATDAI", headers=admin, json={**body, "daily_limit": -1})
    assert refused.status_code == 422 and received(board) == []
    changed = client.put("/api/v1/admin/services/DATDAI", headers=admin, json={**body, "daily_limit": 50})
    assert changed.status_code == 200
    (event,) = received(board)
    assert event["name"] == "settings_changed" and event["args"][0] == {"seq": snapshot["seq"] + 1, "office": 1,
                                                                       "what": "service"}
