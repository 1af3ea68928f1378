"""Dossiers at the counter console, in a real Chromium against a real server: registering one (with
the office's next code of the day), its receipt printed by the real agent on a fake network printer
and read back from the paper, finding it again from a scanned lookup address, moving its return
date once and printing the apology slip.

Tests share one server, agent and printer; each signs in at its own counter and asserts only on the
dossiers it made. The office is in Việt Nam: dates are entered and shown on its clock (+07:00), though the browser
here runs on Paris time.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Locator, Page, expect

from queue_server.services.demo import DEMO_PASSWORD
from tests.hardware.conftest import FakeTcpPrinter
from tests.server_process import ServerProcess

from .kiosk_fixtures import KIOSK, code128s, printout, qr_codes, wait_for_slips
from .test_counter_console import button, press, sign_in

if TYPE_CHECKING:
    from .conftest import PublicApi

pytestmark = pytest.mark.browser

VN = ZoneInfo("Asia/Ho_Chi_Minh")

ISSUED = re.compile(r"^000\.00\.12\.H56-\d{6}-\d{4}$")
PRINT_TIMEOUT = 20_000      # ms: the agent polls every half second, then renders and sends the raster


class Office:
    """The office's HTTP API as other officers and its admin use it, with bearer tokens."""

    def __init__(self, server: ServerProcess) -> None:
        self.url = server.url
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None, user: str | None = "staff1") -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        request = urllib.request.Request(self.url + "/api/v1" + path, method=method, headers=headers,
                                         data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def token(self, user: str) -> str:
        if user not in self.tokens:
            status, body = self.call("POST", "/auth/token", {"username": user, "password": DEMO_PASSWORD}, user=None)
            assert status == 200, body
            self.tokens[user] = body["token"]
        return self.tokens[user]

    def late_dossier(self, code: str, owner: str) -> dict:
        """A dossier the one-stop system received ten days ago, due yesterday and still being processed."""
        received, due = now() - timedelta(days=10), now() - timedelta(days=1)
        status, body = self.call("POST", "/dossiers", {
            "code": code, "procedure_name": "Đăng ký biến động đất đai", "field_name": "Đất đai",
            "owner_name": owner, "received_at": received.isoformat(), "appointment_at": due.isoformat(),
            "status": 4, "return_counter": 3})
        assert status == 201, body
        return body

    def register(self, **fields: object) -> dict:
        status, body = self.call("POST", "/dossiers/register", {
            "procedure_name": "Chứng thực chữ ký", "owner_name": "Phạm Thị Dung",
            "appointment_at": at(days=2).isoformat(), **fields})
        assert status == 201, body
        return body

    def find(self, code: str) -> dict:
        status, body = self.call("POST", "/dossiers/find", {"code": code})
        assert status == 200, body
        return body

    def public(self, code: str) -> tuple[int, dict]:
        """What a citizen's phone gets for the code: no sign-in."""
        return self.call("GET", f"/dossiers/{code}", user=None)


@pytest.fixture
def page(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    """As conftest's page, on a PC whose clock is set to Paris: dates still follow the office's clock."""
    context = browser.new_context(base_url=server.url, locale="vi-VN", timezone_id="Europe/Paris",
                                  viewport={"width": 1366, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="module")
def office(server: ServerProcess) -> Office:
    return Office(server)


@pytest.fixture(scope="module")
def counter_4_printer(office: Office) -> str:
    """A receipt printer standing at counter 4, registered but never switched on."""
    status, body = office.call("POST", "/devices/token", {"kind": "printer", "code": "counter-4", "counter": 4},
                               user="admin")
    assert status == 201, body
    return "counter-4"


def now() -> datetime:
    return datetime.now(VN)


def at(days: int, hour: int = 16, minute: int = 0) -> datetime:
    """That many days from today at that time, on the office's clock."""
    return (now() + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def working_days_ahead(count: int) -> date:
    day = now().date()
    while count:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day


def shown(moment: datetime) -> str:
    return f"{moment:%d/%m/%Y %H:%M}"


def dossier_count(server: ServerProcess) -> int:
    from queue_server.persistence.tables import dossiers

    engine = sa.create_engine(f"sqlite:///{server.var_dir / 'motcua.db'}")
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(dossiers)).scalar_one()
    finally:
        engine.dispose()


def open_dossiers(page: Page) -> Locator:
    """Opens the dossier dialog with its shortcut, 9."""
    press(page, "9")
    dialog = page.locator("#dialog-dossiers")
    expect(dialog).to_be_visible()
    return dialog


def error_beside(scope: Page | Locator, field: str) -> Locator:
    return scope.locator(f"[data-field='{field}'] .field-error")


def set_date(page: Page, prefix: str, moment: datetime) -> None:
    page.locator(f"#{prefix}-date").fill(f"{moment:%Y-%m-%d}")
    page.locator(f"#{prefix}-time").fill(f"{moment:%H:%M}")


def test_registering_without_a_code_issues_the_offices_next_code(page: Page, office: Office) -> None:
    sign_in(page, "staff1")
    expect(page.locator("#counter-title")).to_have_text("Quầy số 1 — Tư pháp")
    expect(button(page, "Hồ sơ…").locator("kbd")).to_have_text("9")
    dialog = open_dossiers(page)
    expect(dialog.locator("#dossier-title")).to_have_text("Hồ sơ — Quầy số 1")
    expect(dialog.get_by_role("tab", name="Tiếp nhận hồ sơ")).to_have_attribute("aria-selected", "true")
    code_field = dialog.get_by_label("Mã hồ sơ", exact=True)
    expect(code_field).to_be_focused()
    expect(code_field).to_have_value("")                  # the shortcut's 9 did not land in it
    expect(dialog.get_by_text("Để trống thì hệ thống tự cấp mã tiếp theo trong ngày.")).to_be_visible()
    # Defaults: collected at this counter, three working days ahead at 16:00.
    due = datetime.combine(working_days_ahead(3), datetime.min.time(), VN).replace(hour=16)
    expect(dialog.get_by_label("Quầy trả kết quả")).to_have_value("1")
    expect(page.locator("#reg-appointment-date")).to_have_value(f"{due:%Y-%m-%d}")
    expect(page.locator("#reg-appointment-time")).to_have_value("16:00")
    expect(page.locator("#reg-appointment-preview")).to_contain_text(shown(due))

    dialog.get_by_label("Thủ tục hành chính").fill("Đăng ký khai sinh")
    dialog.get_by_label("Lĩnh vực").fill("Hộ tịch")
    dialog.get_by_label("Họ tên người nộp hồ sơ").fill("Trần Thị Bích")
    dialog.get_by_label("Số định danh cá nhân / CCCD").fill("079190001234")
    button(dialog, "Tiếp nhận").click()

    notice = dialog.locator("#dossier-notice")
    expect(notice).to_have_text(re.compile(r"^Đã tiếp nhận hồ sơ 000\.00\.12\.H56-\d{6}-\d{4}\.$"))
    code = dialog.locator("#dossier-code").inner_text()
    assert ISSUED.match(code), code
    assert code[14:20] == f"{now():%y%m%d}"               # today's date on the office's clock
    expect(notice).to_have_text(f"Đã tiếp nhận hồ sơ {code}.")
    expect(dialog.get_by_role("tab", name="Tra cứu / In lại")).to_have_attribute("aria-selected", "true")
    expect(dialog.locator("#dossier-owner")).to_have_text("Trần Thị Bích")   # the officer sees the full name
    expect(dialog.locator("#dossier-procedure")).to_have_text("Đăng ký khai sinh")
    expect(dialog.locator("#dossier-field")).to_have_text("Hộ tịch")
    expect(dialog.locator("#dossier-channel")).to_have_text("Trực tiếp")
    expect(dialog.locator("#dossier-status")).to_have_text("Đang giải quyết")
    expect(dialog.locator("#dossier-appointment")).to_have_text(shown(due))
    expect(dialog.locator("#dossier-received")).to_have_text(re.compile(rf"^{now():%d/%m/%Y} \d\d:\d\d$"))
    expect(dialog.locator("#dossier-collect")).to_have_text("Quầy số 1")
    expect(dialog.locator("#dossier-overdue")).to_be_hidden()
    expect(dialog.locator("#dossier-new-date-row")).to_be_hidden()
    expect(dialog.locator("#dossier-steps li")).to_have_count(1)
    expect(dialog.locator("#dossier-steps li")).to_contain_text("Tiếp nhận hồ sơ")
    expect(button(dialog, "In phiếu xin lỗi")).to_be_disabled()
    expect(button(dialog, "Hẹn lại ngày trả")).to_be_enabled()
    expect(dialog.locator("#dossier-print-status")).to_have_text("")   # "Tiếp nhận" alone prints nothing

    # A citizen looking it up sees it received, with the name masked; the return date is the office's 16:00.
    status, public = office.public(code)
    assert status == 200, public
    assert public["status"] == 2 and public["owner"] == "Tr*** T** B" and "owner_name" not in public
    assert datetime.fromisoformat(public["appointment_at"]) == due
    assert public["return_counter"] == 1

    # The register form is empty again for the next citizen, with its defaults back.
    dialog.get_by_role("tab", name="Tiếp nhận hồ sơ").click()
    expect(code_field).to_be_focused()
    expect(dialog.get_by_label("Thủ tục hành chính")).to_have_value("")
    expect(dialog.get_by_label("Họ tên người nộp hồ sơ")).to_have_value("")
    expect(dialog.get_by_label("Quầy trả kết quả")).to_have_value("1")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_register_and_print_the_receipt_on_the_chosen_printer(page: Page, office: Office, printer: FakeTcpPrinter,
                                                               counter_4_printer: str) -> None:
    sign_in(page, "staff1")
    dialog = open_dossiers(page)
    picker = dialog.get_by_label("Máy in")
    # Counter 1 has no printer of its own and none was chosen on this PC yet: the first one is offered.
    expect(picker).to_have_value(counter_4_printer)
    expect(dialog.locator("#dossier-printer-state")).to_have_text("Chưa kết nối")
    picker.select_option(KIOSK)
    expect(dialog.locator("#dossier-printer-state")).to_have_text("Sẵn sàng")

    dialog.get_by_label("Thủ tục hành chính").fill("Chứng thực bản sao từ bản chính")
    dialog.get_by_label("Lĩnh vực").fill("Chứng thực")
    page.locator("#reg-documents").fill("Bản chính giấy khai sinh\nBản sao cần chứng thực")
    page.locator("#reg-sets").fill("2")
    page.locator("#reg-processing-time").fill("Trong ngày")
    owner = dialog.get_by_label("Họ tên người nộp hồ sơ")
    owner.fill("Lê Văn Cường")
    owner.press("Enter")                # Enter is "Tiếp nhận và in giấy hẹn"

    status_line = dialog.locator("#dossier-print-status")
    expect(status_line).to_have_text("Đã in xong giấy tiếp nhận.", timeout=PRINT_TIMEOUT)
    code = dialog.locator("#dossier-code").inner_text()
    assert ISSUED.match(code), code
    paper = wait_for_slips(printer, 1)
    assert code128s(paper) == [code]                      # what a hand scanner reads off the receipt
    (lookup,) = qr_codes(paper)
    assert lookup.endswith("/" + code)
    # The reprint fields carry what this receipt listed.
    expect(page.locator("#find-documents")).to_have_value("Bản chính giấy khai sinh\nBản sao cần chứng thực")
    expect(page.locator("#find-sets")).to_have_value("2")

    # This PC remembers the printer; a reprint from the find tab comes out of it too.
    page.reload()
    dialog = open_dossiers(page)
    expect(dialog.get_by_label("Máy in")).to_have_value(KIOSK)
    dialog.get_by_role("tab", name="Tra cứu / In lại").click()
    find = dialog.get_by_label("Mã hồ sơ — quét mã vạch")
    expect(find).to_be_focused()
    find.fill(code)
    find.press("Enter")
    expect(dialog.locator("#dossier-owner")).to_have_text("Lê Văn Cường")
    button(dialog, "In giấy tiếp nhận").click()
    expect(dialog.locator("#dossier-print-status")).to_have_text("Đã in xong giấy tiếp nhận.", timeout=PRINT_TIMEOUT)
    assert code128s(wait_for_slips(printer, 2)) == [code, code]


def test_bad_input_is_shown_beside_its_field_and_registers_nothing(page: Page, office: Office,
                                                                   server: ServerProcess) -> None:
    existing = office.register(owner_name="Đỗ Văn Em")["code"]
    before = dossier_count(server)
    registrations: list[str] = []
    page.on("request", lambda r: registrations.append(r.url) if r.url.endswith("/dossiers/register") else None)
    sign_in(page, "staff3")
    dialog = open_dossiers(page)
    form = dialog.locator("#register-form")

    # Required fields left empty: said beside each, nothing sent.
    button(dialog, "Tiếp nhận").click()
    expect(error_beside(form, "procedure_name")).to_have_text("Vui lòng nhập tên thủ tục.")
    expect(error_beside(form, "owner_name")).to_have_text("Vui lòng nhập họ tên người nộp hồ sơ.")
    expect(dialog.get_by_role("alert")).to_have_text("Vui lòng sửa các ô được đánh dấu.")
    expect(dialog.get_by_label("Thủ tục hành chính")).to_be_focused()
    expect(dialog.get_by_label("Thủ tục hành chính")).to_have_attribute("aria-invalid", "true")
    expect(error_beside(form, "code")).to_be_hidden()
    assert registrations == []

    # A return date in the past: the server's words beside the date.
    dialog.get_by_label("Thủ tục hành chính").fill("Đăng ký kết hôn")
    dialog.get_by_label("Họ tên người nộp hồ sơ").fill("Hoàng Văn Giang")
    set_date(page, "reg-appointment", at(days=-1, hour=8))
    button(dialog, "Tiếp nhận").click()
    expect(error_beside(form, "appointment_at")).to_have_text("Ngày hẹn trả phải sau thời điểm tiếp nhận.")
    expect(error_beside(form, "procedure_name")).to_be_hidden()
    expect(page.locator("#reg-appointment-date")).to_be_focused()
    assert len(registrations) == 1

    # An ID number that is not one.
    set_date(page, "reg-appointment", at(days=3))
    dialog.get_by_label("Số định danh cá nhân / CCCD").fill("12-34")
    button(dialog, "Tiếp nhận").click()
    expect(error_beside(form, "owner_id")).to_have_text("Số định danh gồm 6–20 chữ cái hoặc chữ số, không có dấu cách.")
    expect(error_beside(form, "appointment_at")).to_be_hidden()

    # A code that is already registered (typed in lower case), then one that is not a code.
    dialog.get_by_label("Số định danh cá nhân / CCCD").fill("")
    dialog.get_by_label("Mã hồ sơ", exact=True).fill(existing.lower())
    button(dialog, "Tiếp nhận").click()
    expect(error_beside(form, "code")).to_have_text(f"Hồ sơ {existing} đã có trong hệ thống.")
    expect(dialog.get_by_role("alert")).to_have_text("Vui lòng sửa các ô được đánh dấu.")
    dialog.get_by_label("Mã hồ sơ", exact=True).fill("HS-123")
    button(dialog, "Tiếp nhận").click()
    expect(error_beside(form, "code")).to_have_text(
        "Mã hồ sơ không đúng định dạng (ví dụ: 000.00.12.H56-250915-0007).")
    expect(dialog.get_by_role("tab", name="Tiếp nhận hồ sơ")).to_have_attribute("aria-selected", "true")
    assert len(registrations) == 4
    assert dossier_count(server) == before

    # Looking up a code nobody registered.
    dialog.get_by_role("tab", name="Tra cứu / In lại").click()
    find = dialog.get_by_label("Mã hồ sơ — quét mã vạch")
    find.press("Enter")
    expect(error_beside(dialog.locator("#find-form"), "code")).to_have_text("Vui lòng nhập hoặc quét mã hồ sơ.")
    unknown = f"000.00.12.H56-{now():%y%m%d}-9876"
    find.fill(unknown)
    find.press("Enter")
    expect(error_beside(dialog.locator("#find-form"), "code")).to_have_text(f"Không tìm thấy hồ sơ {unknown}.")
    expect(dialog.locator("#dossier-card")).to_be_hidden()


def test_find_by_scanned_address_move_the_date_once_and_print_the_apology(page: Page, office: Office,
                                                                          printer: FakeTcpPrinter) -> None:
    received = now() - timedelta(days=10)
    late = office.late_dossier(f"000.00.12.H56-{received:%y%m%d}-0501", "Vũ Thị Hoa")["code"]
    sign_in(page, "staff3")
    dialog = open_dossiers(page)
    dialog.get_by_label("Máy in").select_option(KIOSK)
    dialog.get_by_role("tab", name="Tra cứu / In lại").click()
    # A keyboard-wedge scanner reads the receipt's QR: the lookup address, typed fast, then Enter.
    expect(dialog.get_by_label("Mã hồ sơ — quét mã vạch")).to_be_focused()
    page.keyboard.type(f"http://x/tra-cuu/{late}", delay=5)
    page.keyboard.press("Enter")

    expect(dialog.locator("#dossier-code")).to_have_text(late)
    expect(dialog.locator("#dossier-overdue")).to_have_text("Trễ hạn")
    expect(dialog.locator("#dossier-owner")).to_have_text("Vũ Thị Hoa")
    expect(dialog.locator("#dossier-status")).to_have_text("Đang giải quyết")
    expect(dialog.locator("#dossier-collect")).to_have_text("Quầy số 3")
    due = office.find(late)["appointment_at"]
    expect(dialog.locator("#dossier-appointment")).to_have_text(shown(datetime.fromisoformat(due).astimezone(VN)))
    expect(button(dialog, "In phiếu xin lỗi")).to_be_disabled()
    expect(dialog.get_by_label("Lý do in trên phiếu xin lỗi")).to_be_disabled()

    # The new date must be later than the old one: the server says so beside it.
    reschedule = dialog.locator("#reschedule-form")
    set_date(page, "new-date", at(days=-1))
    button(dialog, "Hẹn lại ngày trả").click()
    expect(error_beside(reschedule, "new_date")).to_have_text("Ngày hẹn mới phải sau ngày hẹn cũ và sau hôm nay.")

    new_date = at(days=5, hour=10)
    set_date(page, "new-date", new_date)
    expect(page.locator("#new-date-preview")).to_contain_text(shown(new_date))
    dialog.get_by_label("Lý do trễ hạn").fill("Chờ kết quả xác minh của cơ quan thuế.")
    dialog.get_by_label("Lý do trễ hạn").press("Enter")
    expect(dialog.locator("#dossier-notice")).to_have_text(f"Đã hẹn lại ngày trả: {shown(new_date)}.")
    expect(dialog.locator("#dossier-new-date")).to_have_text(shown(new_date))
    expect(reschedule).to_be_hidden()
    expect(dialog.locator("#reschedule-note")).to_have_text("Đã hẹn lại ngày trả một lần; không thể dời thêm.")
    expect(dialog.locator("#dossier-steps li").first).to_contain_text("Chờ kết quả xác minh của cơ quan thuế.")
    expect(dialog.get_by_label("Lý do in trên phiếu xin lỗi")).to_have_value("Chờ kết quả xác minh của cơ quan thuế.")
    assert datetime.fromisoformat(office.find(late)["apology_new_date"]) == new_date

    button(dialog, "In phiếu xin lỗi").click()
    expect(dialog.locator("#dossier-print-status")).to_have_text("Đã in xong phiếu xin lỗi.", timeout=PRINT_TIMEOUT)
    assert code128s(wait_for_slips(printer, 1)) == [late]

    # Another late dossier, open on this screen while a colleague moves its date: this officer's
    # move is refused (the date moves once) and the screen shows the date the colleague set.
    other = office.late_dossier(f"000.00.12.H56-{received:%y%m%d}-0502", "Ngô Văn Khánh")["code"]
    find = dialog.get_by_label("Mã hồ sơ — quét mã vạch")
    find.fill(other)
    find.press("Enter")
    expect(dialog.locator("#dossier-code")).to_have_text(other)
    expect(reschedule).to_be_visible()
    theirs = at(days=4)
    status, body = office.call("POST", "/dossiers/reschedule", {"code": other, "new_date": theirs.isoformat()},
                               user="staff5")
    assert status == 200, body
    set_date(page, "new-date", at(days=6))
    button(dialog, "Hẹn lại ngày trả").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        f"Hồ sơ {other} đã được hẹn lại một lần; không thể đổi ngày hẹn lần nữa.")
    expect(dialog.locator("#dossier-new-date")).to_have_text(shown(theirs))
    expect(reschedule).to_be_hidden()
    expect(button(dialog, "In phiếu xin lỗi")).to_be_enabled()
    assert datetime.fromisoformat(office.find(other)["apology_new_date"]) == theirs


def test_out_of_paper_is_said_and_the_receipt_comes_out_once_paper_is_loaded(page: Page, office: Office,
                                                                             printer: FakeTcpPrinter) -> None:
    code = office.register(owner_name="Trịnh Văn Minh", return_counter=5)["code"]
    printer.paper = "out"
    sign_in(page, "staff5")
    dialog = open_dossiers(page)
    dialog.get_by_label("Máy in").select_option(KIOSK)
    expect(dialog.locator("#dossier-printer-state")).to_have_text("Hết giấy", timeout=15_000)   # read every 5 s
    dialog.get_by_role("tab", name="Tra cứu / In lại").click()
    find = dialog.get_by_label("Mã hồ sơ — quét mã vạch")
    find.fill(code)
    find.press("Enter")
    expect(dialog.locator("#dossier-collect")).to_have_text("Quầy số 5")
    button(dialog, "In giấy tiếp nhận").click()
    status_line = dialog.locator("#dossier-print-status")
    expect(status_line).to_have_text("Máy in hết giấy. Thay giấy xong máy sẽ tự in lại.", timeout=PRINT_TIMEOUT)
    assert printout(printer).cuts == []

    printer.paper = "ok"          # a new roll: the same job comes out, once
    expect(status_line).to_have_text("Đã in xong giấy tiếp nhận.", timeout=PRINT_TIMEOUT)
    assert code128s(wait_for_slips(printer, 1)) == [code]
    expect(dialog.locator("#dossier-printer-state")).to_have_text("Sẵn sàng")


def test_the_dossier_dialog_in_english(page: Page, office: Office) -> None:
    sign_in(page, "staff2")
    page.goto("/counter?lang=en")
    expect(page.locator("#counter-title")).to_have_text("Counter 2 — Economy, Infrastructure and Urban Affairs")
    button(page, "Dossiers…").click()
    dialog = page.locator("#dialog-dossiers")
    expect(dialog.locator("#dossier-title")).to_have_text("Dossiers — Counter 2")
    expect(dialog.get_by_role("tab", name="Register a dossier")).to_have_attribute("aria-selected", "true")
    expect(dialog.get_by_role("tab", name="Find and reprint")).to_be_visible()
    expect(dialog.get_by_text("Leave it empty to have the next code of the day issued automatically.")).to_be_visible()
    expect(dialog.get_by_label("Submitted").locator("option")).to_have_text(["In person", "Online", "By post"])
    expect(dialog.get_by_label("Printer")).to_be_visible()
    expect(dialog.locator("legend").first).to_have_text("Return date *")
    expect(button(dialog, "Close")).to_be_visible()

    button(dialog, "Register").click()
    form = dialog.locator("#register-form")
    expect(error_beside(form, "procedure_name")).to_have_text("Please type the procedure.")
    expect(error_beside(form, "owner_name")).to_have_text("Please type the applicant’s name.")
    expect(dialog.get_by_role("alert")).to_have_text("Please correct the marked fields.")

    dialog.get_by_label("Procedure").fill("Cấp giấy phép xây dựng nhà ở riêng lẻ")
    dialog.get_by_label("Applicant’s full name").fill("Bùi Thị Lan")
    dialog.get_by_label("Submitted").select_option(label="By post")
    dialog.get_by_label("Send the result by post").check()
    set_date(page, "reg-appointment", at(days=-2))
    button(dialog, "Register").click()
    expect(error_beside(form, "appointment_at")).to_have_text("The return date must be after the time of receipt.")
    due = at(days=10, hour=9, minute=30)
    set_date(page, "reg-appointment", due)
    expect(page.locator("#reg-appointment-preview")).to_contain_text(shown(due))
    button(dialog, "Register").click()
    expect(dialog.locator("#dossier-notice")).to_have_text(
        re.compile(r"^Dossier 000\.00\.12\.H56-\d{6}-\d{4} registered\.$"))
    expect(dialog.get_by_role("tab", name="Find and reprint")).to_have_attribute("aria-selected", "true")
    expect(dialog.locator("#dossier-status")).to_have_text("Being processed")
    expect(dialog.locator("#dossier-channel")).to_have_text("By post")
    expect(dialog.locator("#dossier-collect")).to_have_text("Sent by post")
    expect(dialog.locator("#dossier-appointment")).to_have_text(shown(due))
    for name in ("Print the receipt", "Set the new date", "Print the apology slip", "Find"):
        expect(button(dialog, name)).to_be_visible()
    expect(dialog.get_by_text("The return date can be moved only once.")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_shortcuts_stay_quiet_while_typing_and_the_counters_own_printer_comes_first(
        page: Page, public: PublicApi, counter_4_printer: str) -> None:
    sign_in(page, "staff4")
    expect(page.locator("#counter-title")).to_have_text("Quầy số 4 — Văn hóa - Xã hội")
    ticket = public.issue("BAOTRO")
    expect(page.locator("#total-waiting")).to_have_text("1")

    dialog = open_dossiers(page)
    expect(dialog.get_by_label("Máy in")).to_have_value(counter_4_printer)   # the printer at counter 4
    expect(dialog.get_by_label("Quầy trả kết quả")).to_have_value("4")
    procedure = dialog.get_by_label("Thủ tục hành chính")
    procedure.click()
    page.keyboard.type("Hỗ trợ chi phí mai táng 12345678")   # every shortcut digit, typed as text
    expect(procedure).to_have_value("Hỗ trợ chi phí mai táng 12345678")
    dialog.get_by_role("tab", name="Tra cứu / In lại").click()
    page.keyboard.type("1")
    expect(dialog.get_by_label("Mã hồ sơ — quét mã vạch")).to_have_value("1")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#current-number")).to_have_text("—")
    assert public.ticket(ticket["id"])["status"] == "waiting"

    # Reopened, the half-typed form is still there; a printer chosen here does not displace the
    # counter's own next time.
    open_dossiers(page)
    dialog.get_by_role("tab", name="Tiếp nhận hồ sơ").click()
    expect(procedure).to_have_value("Hỗ trợ chi phí mai táng 12345678")
    dialog.get_by_label("Máy in").select_option(KIOSK)
    page.reload()
    open_dossiers(page)
    expect(dialog.get_by_label("Máy in")).to_have_value(counter_4_printer)
    # Right out of the dialog the digits are shortcuts again, even while focus still lingers in the
    # field of the dialog just closed.
    expect(button(page, "Gọi số tiếp theo")).to_be_enabled()
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    expect(page.locator("#current-number")).to_have_text(ticket["number"])
