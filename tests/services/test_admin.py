"""The admin's edits on the demo office: every refusal names its field and writes nothing; every change is
audited with who, before and after; and the queue sees each change at once."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from queue_server.domain import validation as v
from queue_server.domain.clock import ManualClock
from queue_server.domain.errors import Conflict, DomainError, InvalidInput, NotFound, Unauthorized
from queue_server.domain.model import NumberingRule, NumberingStyle
from queue_server.domain.schedule import ALWAYS_OPEN, OFFICE_HOURS
from queue_server.persistence.database import Database
from queue_server.persistence.tables import audit_log, offices, print_jobs, priority_groups, services, tickets, users
from queue_server.services.admin import AdminService
from queue_server.services.auth import AuthService, Principal
from queue_server.services.bus import EventBus
from queue_server.services.display import DisplayService
from queue_server.services.printing import PrintService
from queue_server.services.tickets import IssueRequest, TicketService
from queue_server.services.voice import announcement_text


@pytest.fixture
def auth(demo_db: Database, clock: ManualClock) -> AuthService:
    return AuthService(demo_db, clock)


@pytest.fixture
def admin(demo_db: Database, clock: ManualClock, auth: AuthService) -> AdminService:
    return AdminService(demo_db, clock, EventBus(), auth)


@pytest.fixture
def office(demo_db: Database) -> int:
    with demo_db.read() as conn:
        return conn.execute(sa.select(offices.c.id).where(offices.c.code == "demo")).scalar_one()


@pytest.fixture
def actor(demo_db: Database, auth: AuthService) -> Principal:
    with demo_db.read() as conn:
        return auth.user_principal(conn.execute(sa.select(users.c.id).where(users.c.username == "admin")).scalar_one())


def audit_rows(db: Database) -> list:
    with db.read() as conn:
        return conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings().all()


def service_body(admin: AdminService, office: int, code: str, **changes: object) -> dict:
    current = next(s for s in admin.services(office) if s["code"] == code)
    body = {k: current[k] for k in ("name_vi", "name_en", "numbering", "prefix", "block", "digits", "daily_limit",
                                    "opening_hours", "active", "avg_service_s")}
    return {**body, **changes}


def refused(call, field: str) -> DomainError:  # noqa: ANN001
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.details["field"] == field, caught.value.details
    return caught.value


# services --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "field"), [
    ({"daily_limit": -1}, "daily_limit"),
    ({"daily_limit": 0}, "daily_limit"),
    ({"daily_limit": 1000}, "daily_limit"),               # more than 3 digits can print
    ({"prefix": "B"}, "prefix"),                          # Chứng thực prints B…
    ({"prefix": "a1"}, "prefix"),
    ({"prefix": None}, "prefix"),
    ({"numbering": "block", "prefix": None, "block": 0}, "block"),
    ({"numbering": "block", "prefix": None, "block": 10}, "block"),   # 10001 is too long to read aloud
    ({"digits": 7}, "digits"),
    ({"digits": 5}, "digits"),
    ({"opening_hours": {"mon": [["07:30", "11:30"], ["11:00", "12:00"]]}}, "opening_hours.mon[1]"),
    ({"opening_hours": {"mon": [["13:30", "17:00"], ["07:30", "14:00"]]}}, "opening_hours.mon[0]"),
    ({"opening_hours": {"tue": [["11:30", "07:30"]]}}, "opening_hours.tue[0]"),
    ({"opening_hours": {"wed": [["7h30", "11:30"]]}}, "opening_hours.wed[0]"),
    ({"opening_hours": {"thu": [["07:30", "24:30"]]}}, "opening_hours.thu[0]"),
    ({"opening_hours": {"someday": []}}, "opening_hours.someday"),
    ({"name_vi": "   "}, "name_vi"),
    ({"name_vi": "Hộ\x1btịch"}, "name_vi"),
    ({"name_vi": "Hộ tịch " + "X" * 31}, "name_vi"),       # one unbroken run would squeeze every kiosk tile
    ({"name_en": "Civil-status-registration-and-more"}, "name_en"),
    ({"avg_service_s": 5}, "avg_service_s"),
])
def test_a_bad_service_is_refused_naming_the_field_and_nothing_changes(
        admin: AdminService, office: int, actor: Principal, demo_db: Database, changes: dict, field: str) -> None:
    before = admin.services(office)
    error = refused(lambda: admin.update_service(actor, office, "HOTICH", service_body(admin, office, "HOTICH",
                                                                                       **changes)), field)
    assert isinstance(error, InvalidInput) and error.message_vi and error.message_en
    assert admin.services(office) == before
    assert audit_rows(demo_db) == []


def test_every_problem_is_reported_at_once(admin: AdminService, office: int, actor: Principal) -> None:
    body = service_body(admin, office, "HOTICH", name_vi="", daily_limit=-1,
                        opening_hours={"mon": [["09:00", "08:00"]], "sun": [["07:00", "09:00"], ["08:00", "10:00"]]})
    error = refused(lambda: admin.update_service(actor, office, "HOTICH", body), "name_vi")
    assert [p["field"] for p in error.details["fields"]] == [
        "name_vi", "daily_limit", "opening_hours.mon[0]", "opening_hours.sun[1]"]
    assert all(p["message_vi"] and p["message_en"] for p in error.details["fields"])


def test_a_service_change_is_audited_and_seen_by_the_kiosk_at_once(
        admin: AdminService, office: int, actor: Principal, demo_db: Database, clock: ManualClock) -> None:
    display = DisplayService(demo_db, clock)
    body = service_body(admin, office, "HOTICH", name_vi="Hộ tịch — khai sinh", daily_limit=50,
                        opening_hours={"sun": [["13:30", "17:00"], ["07:30", "11:30"]]})
    changed = admin.update_service(actor, office, "HOTICH", body)
    assert changed["opening_hours"]["sun"] == [["07:30", "11:30"], ["13:30", "17:00"]]   # sorted
    assert changed["opening_hours"]["mon"] == []                                           # a missing day is closed
    listed = next(s for s in display.services(office)["services"] if s["code"] == "HOTICH")
    assert (listed["name_vi"], listed["daily_limit"], listed["open_now"]) == ("Hộ tịch — khai sinh", 50, False)
    with pytest.raises(DomainError) as closed:            # Monday 09:00: closed now, at once
        TicketService(demo_db, clock, EventBus()).issue(IssueRequest("HOTICH", office))
    assert closed.value.code == "service_closed"
    (entry,) = audit_rows(demo_db)
    assert (entry["username"], entry["user_id"], entry["entity"], entry["entity_key"], entry["action"]) == (
        "admin", actor.user_id, "service", "HOTICH", "update")
    assert entry["before"]["name_vi"] == "Hộ tịch" and entry["after"]["name_vi"] == "Hộ tịch — khai sinh"
    assert entry["before"]["daily_limit"] is None and entry["after"]["daily_limit"] == 50


def test_create_order_and_delete_services(admin: AdminService, office: int, actor: Principal,
                                          demo_db: Database, clock: ManualClock) -> None:
    body = {"code": "CAPDOI", "name_vi": "Cấp đổi giấy tờ", "name_en": "", "numbering": "block", "block": 9,
            "digits": 3, "opening_hours": OFFICE_HOURS}
    created = admin.create_service(actor, office, body)
    assert (created["name_en"], created["prefix"], created["position"], created["counters"]) == (
        "Cấp đổi giấy tờ", None, 8, [])
    refused(lambda: admin.create_service(actor, office, body), "code")                  # twice
    refused(lambda: admin.create_service(actor, office, {**body, "code": "X Y"}), "code")
    refused(lambda: admin.create_service(actor, office, {**body, "code": "KHAC", "digits": 2, "block": 90}), "block")
    codes = [s["code"] for s in admin.services(office)]
    reordered = admin.order_services(actor, office, codes[::-1])
    assert [s["code"] for s in reordered] == codes[::-1]
    refused(lambda: admin.order_services(actor, office, codes[1:]), "codes")
    refused(lambda: admin.order_services(actor, office, [*codes, "NOPE"]), "codes[9]")
    # Never used: deleted. Used: only deactivated. The only service of a counter: refused.
    assert admin.delete_service(actor, office, "CAPDOI") == {"code": "CAPDOI", "deleted": True, "active": False}
    TicketService(demo_db, clock, EventBus()).issue(IssueRequest("TUPHAP", office))
    assert admin.delete_service(actor, office, "TUPHAP")["deleted"] is False
    assert next(s for s in admin.services(office) if s["code"] == "TUPHAP")["active"] is False
    with pytest.raises(Conflict) as alone:
        admin.delete_service(actor, office, "DATDAI")
    assert alone.value.details == {"field": "counters", "counters": [3]}
    assert [(e["entity_key"], e["action"]) for e in audit_rows(demo_db)] == [
        ("CAPDOI", "create"), ("order", "update"), ("CAPDOI", "delete"), ("TUPHAP", "deactivate")]


def test_numbers_printed_today_by_another_service_are_not_printed_again(
        admin: AdminService, office: int, actor: Principal, demo_db: Database, clock: ManualClock) -> None:
    tickets_ = TicketService(demo_db, clock, EventBus())
    assert tickets_.issue(IssueRequest("HOTICH", office))["number"] == "A001"
    admin.update_service(actor, office, "HOTICH", service_body(admin, office, "HOTICH", prefix="Z"))
    error = refused(lambda: admin.update_service(actor, office, "TUPHAP",
                                                 service_body(admin, office, "TUPHAP", prefix="A")), "prefix")
    assert "A001" in error.message_vi and "A001" in error.message_en
    clock.advance(days=1)                                  # a new day, new numbers: now it may
    assert admin.update_service(actor, office, "TUPHAP", service_body(admin, office, "TUPHAP", prefix="A"))


@pytest.mark.parametrize(("a", "b", "clash"), [
    (NumberingRule(NumberingStyle.PREFIX, "A"), NumberingRule(NumberingStyle.PREFIX, "A", digits=4), True),
    (NumberingRule(NumberingStyle.PREFIX, "A"), NumberingRule(NumberingStyle.PREFIX, "AB"), False),
    (NumberingRule(NumberingStyle.BLOCK, block=1), NumberingRule(NumberingStyle.BLOCK, block=2), False),
    (NumberingRule(NumberingStyle.BLOCK, block=1), NumberingRule(NumberingStyle.BLOCK, block=10, digits=2), True),
    (NumberingRule(NumberingStyle.BLOCK, block=1), NumberingRule(NumberingStyle.PREFIX, "A"), False),
])
def test_numbering_clashes(a: NumberingRule, b: NumberingRule, clash: bool) -> None:
    assert v.clashes(a, b) is clash and v.clashes(b, a) is clash


@pytest.mark.parametrize(("rule", "number", "made"), [
    (NumberingRule(NumberingStyle.PREFIX, "A"), "A001", True),
    (NumberingRule(NumberingStyle.PREFIX, "A"), "A0001", False),
    (NumberingRule(NumberingStyle.PREFIX, "A"), "AB001", False),
    (NumberingRule(NumberingStyle.BLOCK, block=1), "1999", True),
    (NumberingRule(NumberingStyle.BLOCK, block=1), "2001", False),
    (NumberingRule(NumberingStyle.BLOCK, block=1), "A001", False),
])
def test_which_numbers_a_rule_prints(rule: NumberingRule, number: str, made: bool) -> None:
    assert v.produces(rule, number) is made


def test_windows_are_checked_with_the_schedules_own_rules() -> None:
    problems = v.Problems()
    cleaned = v.check_windows(problems, {"mon": [["13:30", "17:00"], ["07:30", "11:30"]], "sat": [["00:00", "24:00"]]})
    assert not problems
    assert cleaned["mon"] == [("07:30", "11:30"), ("13:30", "17:00")] and cleaned["sun"] == []
    assert v.check_windows(problems, ALWAYS_OPEN) == {d: [("00:00", "24:00")] for d in ALWAYS_OPEN}


@pytest.mark.parametrize(("span", "vi", "en"), [
    (["24:30", "24:45"], "từ 00:00 đến 24:00", "from 00:00 to 24:00"),     # no time after the end of the day
    (["23:00", "24:59"], "từ 00:00 đến 24:00", "from 00:00 to 24:00"),
    (["08:00", "08:00"], "08:00–08:00 không có phút nào", "08:00–08:00 is empty"),
    (["17:00", "08:00"], "kết thúc trước khi bắt đầu", "ends before it starts"),
])
def test_a_bad_window_is_named_for_what_is_wrong_with_it(span: list, vi: str, en: str) -> None:
    problems = v.Problems()
    v.check_windows(problems, {"mon": [span]})
    with pytest.raises(InvalidInput) as refused_:
        problems.check()
    assert vi in refused_.value.message_vi and en in refused_.value.message_en


# counters --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "field"), [
    ({"services": []}, "services"),
    ({"services": ["NOPE"]}, "services[0]"),
    ({"services": ["HOTICH", "HOTICH"]}, "services[1]"),
    ({"led_address": 2}, "led_address"),            # counter 2's LED
    ({"led_address": 0}, "led_address"),
    ({"led_address": 248}, "led_address"),
    ({"name": ""}, "name"),
])
def test_a_bad_counter_is_refused(admin: AdminService, office: int, actor: Principal, demo_db: Database,
                                  changes: dict, field: str) -> None:
    before = admin.counters(office)
    body = {"name": "Tư pháp", "name_en": "Justice", "led_address": 1, "services": ["HOTICH"], **changes}
    refused(lambda: admin.update_counter(actor, office, 1, body), field)
    assert admin.counters(office) == before and audit_rows(demo_db) == []


def test_counters_are_created_changed_and_deleted_with_their_history(
        admin: AdminService, office: int, actor: Principal, demo_db: Database, clock: ManualClock) -> None:
    created = admin.create_counter(actor, office, {"number": 6, "name": "Một cửa liên thông", "led_address": 6,
                                                   "services": ["TRAKETQUA", "HOTICH"]})
    assert created["services"] == ["TRAKETQUA", "HOTICH"] and created["name_en"] == "Một cửa liên thông"
    refused(lambda: admin.create_counter(actor, office, {"number": 6, "name": "x", "services": ["HOTICH"]}), "number")
    refused(lambda: admin.create_counter(actor, office, {"number": 0, "name": "x", "services": ["HOTICH"]}), "number")
    changed = admin.update_counter(actor, office, 6, {"name": "Liên thông", "services": ["HOTICH", "TRAKETQUA"]})
    assert changed["services"] == ["HOTICH", "TRAKETQUA"] and changed["led_address"] is None
    assert admin.delete_counter(actor, office, 6) == {"number": 6, "deleted": True}
    with pytest.raises(NotFound):
        admin.update_counter(actor, office, 6, {"name": "x", "services": ["HOTICH"]})
    create, update, delete = audit_rows(demo_db)
    assert (create["before"], create["after"]["services"]) == (None, ["TRAKETQUA", "HOTICH"])
    assert (update["before"]["name"], update["after"]["name"]) == ("Một cửa liên thông", "Liên thông")
    assert (delete["action"], delete["after"]) == ("delete", None)
    # A counter that has served keeps its history.
    from queue_server.services.counters import CounterService
    TicketService(demo_db, clock, EventBus()).issue(IssueRequest("DATDAI", office))
    with demo_db.read() as conn:
        counter3 = conn.execute(sa.text("SELECT id FROM counters WHERE office_id = :o AND number = 3"),
                                {"o": office}).scalar_one()
    CounterService(demo_db, clock, EventBus()).call_next(counter3, actor)
    with pytest.raises(Conflict):
        admin.delete_counter(actor, office, 3)


# staff -----------------------------------------------------------------------------------------
def test_staff_accounts_passwords_and_self_protection(admin: AdminService, office: int, actor: Principal,
                                                      auth: AuthService, demo_db: Database) -> None:
    created = admin.create_user(actor, office, {"username": "staff9", "full_name": "Nguyễn Thị Chín",
                                                "role": "staff", "counters": [2, 3]})
    assert created["counters"] == [2, 3] and len(created["password"]) == 12
    assert auth.login("staff9", created["password"], "test").counter_ids
    refused(lambda: admin.create_user(actor, office, {"username": "staff9", "full_name": "x", "role": "staff"}),
            "username")
    refused(lambda: admin.create_user(actor, office, {"username": "s10", "full_name": "x", "role": "staff",
                                                      "password": "short"}), "password")
    refused(lambda: admin.create_user(actor, office, {"username": "s10", "full_name": "x", "role": "staff",
                                                      "counters": [42]}), "counters[0]")
    token, _ = auth.issue_user_token(auth.login("staff9", created["password"], "test"))
    reset = admin.reset_password(actor, office, "staff9", None)
    with pytest.raises(Unauthorized):                     # the old sign-in ended with the reset
        auth.principal_from_token(token)
    auth.login("staff9", reset["password"], "test")
    assert admin.reset_password(actor, office, "staff9", "mật-khẩu-mới-2026") == {"username": "staff9",
                                                                                   "password": None}
    refused(lambda: admin.reset_password(actor, office, "staff9", "1234567"), "password")
    locked = admin.update_user(actor, office, "staff9", {"full_name": "Nguyễn Thị Chín", "role": "supervisor",
                                                         "active": False, "counters": []})
    assert (locked["role"], locked["active"], locked["counters"]) == ("supervisor", False, [])
    refused(lambda: admin.update_user(actor, office, "admin", {"full_name": "Quản trị", "role": "staff"}), "role")
    refused(lambda: admin.update_user(actor, office, "admin", {"full_name": "Quản trị", "role": "admin",
                                                               "active": False}), "active")
    entries = audit_rows(demo_db)
    assert [(e["entity_key"], e["action"]) for e in entries] == [
        ("staff9", "create"), ("staff9", "password"), ("staff9", "password"), ("staff9", "update")]
    assert all("password_hash" not in (e["after"] or {}) for e in entries)
    assert "mật-khẩu" not in str([dict(e) for e in entries]) and reset["password"] not in str(entries)


# devices ---------------------------------------------------------------------------------------
def test_device_tokens_are_issued_once_and_revoked(admin: AdminService, office: int, actor: Principal,
                                                   auth: AuthService, demo_db: Database) -> None:
    issued = admin.issue_device(actor, office, {"kind": "display", "code": "board-2", "name": "Bảng tầng 2",
                                                "board": {"counters": [1, 2], "services": []}})
    assert issued["open_url"] == f"/display?token={issued['token']}" and issued["tokens"] == 1
    assert auth.principal_from_token(issued["token"]).device_settings == {"board": {"counters": [1, 2],
                                                                                    "services": []}}
    refused(lambda: admin.issue_device(actor, office, {"kind": "kiosk", "code": "board-2"}), "kind")
    refused(lambda: admin.issue_device(actor, office, {"kind": "display", "code": "board-3",
                                                       "board": {"counters": [99], "services": []}}),
            "board.counters[0]")
    refused(lambda: admin.issue_device(actor, office, {"kind": "display", "code": "board-3",
                                                       "board": {"counters": [], "services": []}}), "board")
    refused(lambda: admin.issue_device(actor, office, {"kind": "agent", "code": "a-1", "counter": 1}), "counter")
    rating = admin.issue_device(actor, office, {"kind": "rating", "code": "rate-1", "counter": 1})
    assert rating["open_url"] == f"/rate/1?token={rating['token']}"
    kiosk = admin.issue_device(actor, office, {"kind": "kiosk", "code": "kiosk-1"})   # the demo's, once more
    assert kiosk["open_url"] == f"/kiosk?kiosk=kiosk-1&token={kiosk['token']}" and kiosk["tokens"] == 2
    changed = admin.update_device(actor, office, "board-2", {"name": "Bảng sảnh", "board": None})
    assert (changed["name"], changed["settings"]) == ("Bảng sảnh", {})
    revoked = admin.revoke_device(actor, office, "board-2")
    assert revoked["tokens"] == 0
    with pytest.raises(Unauthorized):
        auth.principal_from_token(issued["token"])
    assert [(e["entity_key"], e["action"]) for e in audit_rows(demo_db)] == [
        ("board-2", "create"), ("rate-1", "create"), ("kiosk-1", "token"), ("board-2", "update"),
        ("board-2", "revoke")]
    assert "token" not in str(audit_rows(demo_db)[0]["after"]).replace("tokens", "")


# priority, voice, ticket, rating ---------------------------------------------------------------
def test_priority_groups_and_policy(admin: AdminService, office: int, actor: Principal, demo_db: Database,
                                    clock: ManualClock) -> None:
    TicketService(demo_db, clock, EventBus()).issue(IssueRequest("HOTICH", office, priority="NKT"))
    groups = admin.priority(office)["groups"]
    kept = [g for g in groups if g["code"] not in ("NKT", "PNMT")][::-1]
    body = {"policy": "interleaved", "interleave": 2,
            "groups": [*kept, {"code": "CCB", "name_vi": "Cựu chiến binh", "name_en": ""}]}
    after = admin.put_priority(actor, office, body)
    assert after["policy"] == "interleaved" and after["interleave"] == 2
    assert [g["code"] for g in after["groups"]] == [*(g["code"] for g in kept), "CCB", "NKT"]
    assert after["groups"][-1]["active"] is False and after["groups"][-2]["name_en"] == "Cựu chiến binh"
    with demo_db.read() as conn:     # used by a ticket: switched off; never used: gone
        assert set(conn.execute(sa.select(priority_groups.c.code)).scalars()) >= {"NKT"}
        assert "PNMT" not in set(conn.execute(sa.select(priority_groups.c.code)).scalars())
    refused(lambda: admin.put_priority(actor, office, {**body, "groups": [body["groups"][0]] * 2}), "groups[1].code")
    refused(lambda: admin.put_priority(actor, office, {**body, "interleave": 0}), "interleave")
    refused(lambda: admin.put_priority(actor, office, {**body, "groups": [{"code": "X", "name_vi": ""}]}),
            "groups[0].name_vi")
    assert len(audit_rows(demo_db)) == 1


def test_voice_settings(admin: AdminService, office: int, actor: Principal, demo_db: Database) -> None:
    body = {"template": "Mời số {number} đến quầy {counter}", "dialect": "south", "reading": "digits",
            "keep_leading_zeros": False, "four_as_tu": True, "repeat": 3, "engine": "browser"}
    saved = admin.put_voice(actor, office, body)
    assert saved["template"] == "Mời số {so} đến quầy {quay}"
    assert saved["sample_text"] == "Mời số a, không, hai, năm đến quầy ba"
    with demo_db.read() as conn:
        settings = conn.execute(sa.select(offices.c.settings).where(offices.c.id == office)).scalar_one()
    assert settings["voice"]["mode"] == "digits" and announcement_text(settings, "B104", 2).startswith("Mời số bê")
    for bad, field in (({"template": "Mời số {so}"}, "template"), ({"template": "{so} {quay} {x}"}, "template"),
                       ({"repeat": 9}, "repeat"), ({"engine": "radio"}, "engine")):
        refused(lambda bad=bad: admin.put_voice(actor, office, {**body, **bad}), field)
    (entry,) = audit_rows(demo_db)
    assert (entry["entity"], entry["entity_key"], entry["before"], entry["after"]["repeat"]) == (
        "settings", "voice", None, 3)


def test_the_ticket_template_is_what_the_kiosk_prints(admin: AdminService, office: int, actor: Principal,
                                                      demo_db: Database, clock: ManualClock) -> None:
    default = admin.ticket_template(office)
    assert default["custom"] is False and default["qr"] is True and default["header_lines"] == [
        "Số 1 đường Trung tâm, phường Hòa Bình"]
    for bad, field in (({"header_lines": ["x"] * 5}, "header_lines"),
                       ({"header_lines": ["x" * 61]}, "header_lines[0]"), ({"footer": ""}, "footer"),
                       ({"footer": "x" * 201}, "footer"), ({"paper_width": 500}, "paper_width")):
        refused(lambda bad=bad: admin.put_ticket_template(actor, office, {**default, **bad}), field)
    template = {"header_lines": ["UBND PHƯỜNG HÒA BÌNH", "Bộ phận Một cửa"], "footer": "Cảm ơn quý vị!", "qr": False,
                "paper_width": 384}
    assert admin.put_ticket_template(actor, office, template) == {**template, "custom": True}
    svc = TicketService(demo_db, clock, EventBus(), PrintService(demo_db, clock, EventBus()))
    svc.issue(IssueRequest("HOTICH", office, kiosk="kiosk-1", track_url_base="http://hall.example"))
    with demo_db.read() as conn:
        slip = conn.execute(sa.select(print_jobs.c.slip)).scalar_one()
    texts = [b.get("text") for b in slip["blocks"]]
    assert texts[1:3] == ["UBND PHƯỜNG HÒA BÌNH", "Bộ phận Một cửa"] and "Cảm ơn quý vị!" in texts
    assert not any(b["type"] == "qr" for b in slip["blocks"])


def test_the_preview_is_the_printed_ticket_as_an_image(admin: AdminService, office: int, actor: Principal,
                                                       demo_db: Database) -> None:
    template = {"header_lines": ["Bộ phận Một cửa"], "footer": "Xin cảm ơn!", "qr": True, "paper_width": 576}
    png = admin.preview_ticket(office, template, "http://hall.example")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == 576
    narrow = Image.open(io.BytesIO(admin.preview_ticket(office, {**template, "paper_width": 384, "qr": False},
                                                        "http://hall.example")))
    assert narrow.width == 384 and narrow.height < image.height
    longer = Image.open(io.BytesIO(admin.preview_ticket(office, {**template, "header_lines": ["a", "b", "c"]},
                                                        "http://hall.example")))
    assert longer.height > image.height
    refused(lambda: admin.preview_ticket(office, {**template, "paper_width": 100}, "http://x"), "paper_width")
    assert audit_rows(demo_db) == [] and admin.ticket_template(office)["custom"] is False   # nothing was saved


def test_the_rating_scale(admin: AdminService, office: int, actor: Principal, demo_db: Database) -> None:
    assert [lv["code"] for lv in admin.rating(office)["levels"]] == ["very_satisfied", "satisfied", "unsatisfied"]
    levels = [{"code": "good", "vi": "Hài lòng", "en": "Satisfied", "satisfied": True},
              {"code": "neutral", "vi": "Bình thường", "en": "Neutral", "satisfied": True},
              {"code": "bad", "vi": "Không hài lòng", "en": "Not satisfied", "satisfied": False}]
    refused(lambda: admin.put_rating(actor, office, {"levels": levels[:1]}), "levels")
    refused(lambda: admin.put_rating(actor, office, {"levels": [levels[0], levels[0]]}), "levels")
    refused(lambda: admin.put_rating(actor, office, {"window_minutes": 0}), "window_minutes")
    assert audit_rows(demo_db) == []
    saved = admin.put_rating(actor, office, {"levels": levels, "question": {"vi": "Ông/Bà hài lòng không?",
                                                                          "en": "Satisfied?"}})
    assert [lv["code"] for lv in saved["levels"]] == ["good", "neutral", "bad"] and saved["custom"] is True
    assert audit_rows(demo_db)[0]["entity_key"] == "rating"


def test_the_office(admin: AdminService, office: int, actor: Principal, demo_db: Database) -> None:
    body = {"name": "Trung tâm Phục vụ hành chính công phường Hòa Bình", "name_en": "", "address": "Số 2",
            "timezone": "Asia/Ho_Chi_Minh", "agency_code": "000.00.12.h56", "kiosk_token_required": False}
    assert admin.update_office(actor, office, body)["agency_code"] == "000.00.12.H56"
    for bad, field in (({"timezone": "Asia/Hanoi_City"}, "timezone"), ({"agency_code": "000..12"}, "agency_code"),
                       ({"agency_code": "0" * 36}, "agency_code"), ({"name": ""}, "name")):
        refused(lambda bad=bad: admin.update_office(actor, office, {**body, **bad}), field)
    (entry,) = audit_rows(demo_db)
    assert entry["before"]["address"] != "Số 2" and entry["after"]["address"] == "Số 2"
    with demo_db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tickets)).scalar_one() == 0
        assert conn.execute(sa.select(services.c.code).limit(1)).scalar_one()


def test_the_main_edits_on_both_backends(any_db_url: str, clock: ManualClock) -> None:
    """The same edits on SQLite and PostgreSQL: the queries that group, join and lock behave alike."""
    from tests.factories import make_office, office_admin

    db = Database(any_db_url)
    try:
        office = make_office(db, services_spec=[{"code": "S1", "prefix": "A"}, {"code": "S2", "block": 2}],
                             counters_spec=[(1, ["S1"]), (2, ["S1", "S2"])])
        auth = AuthService(db, clock)
        admin = AdminService(db, clock, EventBus(), auth)
        actor = office_admin(db, office)
        body = {"code": "S3", "name_vi": "Dịch vụ 3", "numbering": "block", "block": 3, "opening_hours": OFFICE_HOURS}
        assert admin.create_service(actor, office, body)["position"] == 2
        refused(lambda: admin.create_service(actor, office, {**body, "code": "S4", "block": 2}), "block")
        with pytest.raises(Conflict):
            admin.delete_service(actor, office, "S1")              # counter 1 serves only it
        assert admin.delete_service(actor, office, "S3")["deleted"] is True
        admin.create_counter(actor, office, {"number": 3, "name": "Quầy 3", "led_address": 7, "services": ["S2"]})
        refused(lambda: admin.create_counter(actor, office, {"number": 4, "name": "Quầy 4", "led_address": 7,
                                                             "services": ["S2"]}), "led_address")
        issued = admin.issue_device(actor, office, {"kind": "kiosk", "code": "k1", "counter": 3})
        assert admin.devices(office)[0]["tokens"] == 1 and issued["settings"] == {"counter": 3}
        assert admin.revoke_device(actor, office, "k1")["tokens"] == 0
        after = admin.put_priority(actor, office, {"policy": "interleaved", "interleave": 4, "groups": []})
        assert after == {"policy": "interleaved", "interleave": 4, "groups": []}
        admin.put_voice(actor, office, {"template": "Mời {so} tới quầy {quay}", "dialect": "north", "reading": "whole",
                                        "repeat": 1, "engine": "chime"})
        assert [e["action"] for e in admin.audit(office)] == [
            "update", "update", "revoke", "create", "create", "delete", "create"]
        assert admin.audit(office, "device")[0]["key"] == "k1"
    finally:
        db.dispose()
