"""Looking up a dossier at the kiosk, in a real Chromium against a real server: a receipt printed by
a real agent at counter 5, its barcode read back from the paper and scanned at the kiosk box's
serial scanner (a second real agent, on a pty), a keyboard-wedge scanner typing into the page, the
on-screen keypad, the messages for codes that find nothing, and what the screen never shows.

The module has its own server, so that lookups can be limited per kiosk low enough for one test to
reach the limit; each test uses its own kiosk, so the others stay under it.
"""
from __future__ import annotations

import itertools
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, Request, expect

from queue_server.services.demo import DEMO_PASSWORD
from tests.hardware.conftest import FakeTcpPrinter
from tests.server_process import ServerProcess

from .kiosk_fixtures import AgentProcess, PtyScanner, code128s, qr_codes, wait_for_slips

pytestmark = pytest.mark.browser

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}
KIOSK_LOOKUPS = 12                          # per kiosk and minute, on this module's server

OWNER, OWNER_ID, MASKED = "Nguyễn Văn An", "001203004567", "Ng*** V** A"
RECEIPT_CODE = "000.00.12.H56-250916-0007"  # received 00:30 on 16/09/2025, Việt Nam time (still the 15th in UTC)
STEPS = [
    {"at": "2025-09-16T00:30:00+07:00", "status": 2, "unit": "Bộ phận một cửa", "action": "Tiếp nhận hồ sơ"},
    {"at": "2025-09-17T09:05:00+07:00", "status": 4, "unit": "Phòng Tư pháp", "action": "Chuyển phòng chuyên môn"},
]
DOSSIER = {
    "procedure_name": "Đăng ký khai sinh", "field_name": "Hộ tịch", "owner_name": OWNER, "owner_id": OWNER_ID,
    "received_at": "2025-09-16T00:30:00+07:00", "appointment_at": "2030-12-24T17:00:00+07:00", "status": 4,
    "steps": STEPS,
}
START_VI = "Mời chọn lĩnh vực cần giải quyết"
SCAN_VI = ("Đưa mã vạch hoặc mã QR trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả vào máy quét, "
           "hoặc nhập mã hồ sơ bằng bàn phím dưới đây.")
MALFORMED_HINT = "Vui lòng kiểm tra mã trên giấy tiếp nhận hồ sơ rồi quét hoặc nhập lại."


class Hall:
    """The office behind the kiosk, through its HTTP API: the admin, an integrator, counter staff."""

    def __init__(self, server: ServerProcess) -> None:
        self.url = server.url
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + "/api/v1" + path, method=method, headers=headers,
                                         data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def token(self, username: str) -> str:
        if username not in self.tokens:
            status, body = self.call("POST", "/auth/token", {"username": username, "password": DEMO_PASSWORD})
            assert status == 200, body
            self.tokens[username] = body["token"]
        return self.tokens[username]

    def device(self, kind: str, code: str) -> str:
        """Registers a device (kiosk, printer, agent, integrator) and returns its token."""
        status, body = self.call("POST", "/devices/token", {"kind": kind, "code": code}, self.token("admin"))
        assert status == 201, body
        return body["token"]

    def dossier(self, code: str, created: bool = True, **changes: object) -> dict:
        """A dossier as the provincial one-stop system sends it (again, with `created=False`)."""
        if "integrator" not in self.tokens:
            self.tokens["integrator"] = self.device("integrator", "mot-cua-tinh")
        status, body = self.call("POST", "/dossiers", {**DOSSIER, "code": code, **changes}, self.tokens["integrator"])
        assert status == (201 if created else 200), body
        return body


@dataclass(frozen=True)
class Receipt:
    code: str
    barcode: str        # what the CODE128 on the paper reads
    qr: str             # what its QR reads: the public lookup address


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("server"), extra_env={
            "LOOKUPS_PER_MINUTE_KIOSK": str(KIOSK_LOOKUPS), "LOOKUPS_PER_MINUTE_ADDRESS": "1000"}).running() as proc:
        yield proc


@pytest.fixture(scope="module")
def hall(server: ServerProcess) -> Hall:
    return Hall(server)


_kiosks = itertools.count(1)


@pytest.fixture
def kiosk(hall: Hall) -> str:
    """A kiosk of its own for each test: lookups are limited per kiosk."""
    code = f"kiosk-lookup-{next(_kiosks)}"
    hall.device("kiosk", code)
    return code


@pytest.fixture(scope="module")
def box_scanner(server: ServerProcess, hall: Hall, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PtyScanner]:
    """kiosk-1's box: its agent prints to a network printer and reads a serial scanner on a pty."""
    scanner = PtyScanner()
    printer = FakeTcpPrinter().start()
    agent = AgentProcess(server, printer.url, tmp_path_factory.mktemp("box-agent"),
                         hall.device("agent", "agent-kiosk-1"), kiosk="kiosk-1", scanner=scanner.url)
    try:
        agent.start()
        scanner.wait_open()
        yield scanner
    finally:
        agent.stop()
        printer.stop()
        scanner.close()


@pytest.fixture(scope="module")
def counter_printer(server: ServerProcess, hall: Hall,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeTcpPrinter]:
    """The receipt printer at counter 5, served by an agent of its own."""
    hall.device("printer", "counter-5")
    printer = FakeTcpPrinter().start()
    agent = AgentProcess(server, printer.url, tmp_path_factory.mktemp("counter-agent"),
                         hall.device("agent", "agent-counter-5"), kiosk="counter-5")
    try:
        agent.start()
        yield printer
    finally:
        agent.stop()
        printer.stop()


@pytest.fixture(scope="module")
def receipt(hall: Hall, counter_printer: FakeTcpPrinter) -> Receipt:
    """Counter 5 receives a dossier and prints its Giấy tiếp nhận; what the paper's codes read."""
    hall.dossier(RECEIPT_CODE, return_counter=5)
    status, job = hall.call("POST", "/dossier-slips", {"code": RECEIPT_CODE, "printer": "counter-5"},
                            hall.token("staff5"))
    assert status == 201 and job["kind"] == "receipt", job
    paper = wait_for_slips(counter_printer, 1)
    (barcode,) = code128s(paper)
    (qr,) = qr_codes(paper)
    return Receipt(RECEIPT_CODE, barcode, qr)


def open_kiosk(page: Page, kiosk: str, query: str = "", size: dict | None = None) -> None:
    """The kiosk's start screen, ready: tiles loaded and the live connection up."""
    if size:
        page.set_viewport_size(size)
    page.goto(f"/kiosk?kiosk={kiosk}{query}")
    expect(page.locator(".tile")).to_have_count(8)
    expect(page.locator("body")).to_have_attribute("data-live", "online")


def wedge_scan(page: Page, text: str) -> None:
    """A keyboard-wedge scanner: a few milliseconds a key, lines split by Enter, Enter at the end."""
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def type_on_keypad(page: Page, text: str) -> None:
    for char in text:
        page.locator(f"#keypad [data-key='{char}']").click()


def is_lookup(request: Request) -> bool:
    return request.method == "POST" and request.url.endswith("/api/v1/dossiers/lookup")


def lookups(page: Page) -> list[Request]:
    """Every lookup the page sends from now on."""
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if is_lookup(r) else None)
    return sent


def vn_date(moment: datetime) -> str:
    return moment.astimezone(VN).strftime("%d/%m/%Y")


def fits(page: Page) -> dict:
    """What a citizen cannot use: scrolling, buttons outside the screen or smaller than a finger."""
    return page.evaluate("""() => {
      const w = window.innerWidth, h = window.innerHeight, doc = document.scrollingElement;
      const shown = [...document.querySelectorAll('button')].filter(b => b.offsetParent !== null);
      return {
        scrolls: doc.scrollHeight > h || doc.scrollWidth > w,
        outside: shown.filter(b => { const r = b.getBoundingClientRect();
                                     return r.top < 0 || r.left < 0 || r.bottom > h || r.right > w; }).length,
        small: shown.filter(b => { const r = b.getBoundingClientRect(); return r.height < 64 || r.width < 64; })
                    .map(b => b.id || b.dataset.key || b.className),
        clipped: [...document.querySelectorAll('.screen:not([hidden]) :is(p, dt, dd, li, h1, h2)')]
                    .filter(e => e.offsetParent !== null).filter(e => {
                      let box = e.parentElement;
                      while (!box.classList.contains('screen') && getComputedStyle(box).overflow === 'visible') {
                        box = box.parentElement;
                      }
                      const r = e.getBoundingClientRect(), b = box.getBoundingClientRect();
                      return r.bottom > b.bottom + 1 || r.right > b.right + 1;
                    }).map(e => e.id || e.className || e.tagName),
      };
    }""")


def test_a_printed_receipt_scanned_at_the_kiosk_box(page: Page, receipt: Receipt, box_scanner: PtyScanner) -> None:
    """End to end: the CODE128 read back from the printed receipt, scanned at kiosk-1's serial scanner."""
    assert receipt.barcode == RECEIPT_CODE
    assert receipt.qr.endswith(f"/tra-cuu/{RECEIPT_CODE}")
    open_kiosk(page, "kiosk-1", size=LANDSCAPE)
    lookup = page.get_by_role("button", name=re.compile(r"^Tra cứu hồ sơ"))
    expect(lookup).to_contain_text("Check a dossier")
    page.screenshot(path="/tmp/kiosk-lookup-start.png")

    # Even from the keypad, halfway through typing, a scan opens the dossier.
    lookup.click()
    expect(page.locator("#lookup-scan")).to_have_text(SCAN_VI)
    type_on_keypad(page, "000")
    expect(page.locator("#lookup-entry")).to_have_text("000")
    box_scanner.scan(receipt.barcode)

    expect(page.locator("#screen-result")).to_be_visible()
    expect(page.locator("#result-code")).to_have_text(RECEIPT_CODE)
    expect(page.locator("#result-owner")).to_have_text(MASKED)
    expect(page.locator("#result-procedure")).to_have_text("Đăng ký khai sinh")
    expect(page.locator("#result-status")).to_have_text("Đang giải quyết")
    expect(page.locator("#result-late")).to_be_hidden()
    expect(page.locator("#result-received")).to_have_text("16/09/2025")
    expect(page.locator("#result-appointment")).to_have_text("24/12/2030")
    expect(page.locator("#result-new-date-row")).to_be_hidden()
    expect(page.locator("#result-collect")).to_have_text("Quầy số 5")
    expect(page.locator("#result-steps .step-when")).to_have_text(["17/09/2025 09:05", "16/09/2025 00:30"])
    expect(page.locator("#result-steps .step-what")).to_have_text(["Đang giải quyết", "Đang giải quyết"])
    expect(page.locator("#result-steps .step-detail")).to_have_text(["Chuyển phòng chuyên môn · Phòng Tư pháp",
                                                                      "Tiếp nhận hồ sơ · Bộ phận một cửa"])
    expect(page.locator("#result-done")).to_have_text(re.compile(r"^Về màn hình chính \(\d+\)$"))
    assert fits(page) == {"scrolls": False, "outside": 0, "small": [], "clipped": []}
    page.screenshot(path="/tmp/kiosk-lookup-result.png")

    # Something on the box's scanner that is no dossier code: the keypad, with the reason.
    page.get_by_role("button", name="Tra cứu hồ sơ khác").click()
    expect(page.locator("#lookup-entry")).to_have_attribute("data-empty", "true")
    box_scanner.scan("XIN CHAO")
    expect(page.locator("#lookup-error")).to_have_attribute("data-kind", "malformed")
    expect(page.locator("#lookup-error")).to_have_text(
        "Không đọc được mã hồ sơ. Mã hồ sơ không đúng định dạng (ví dụ: 000.00.12.H56-250915-0007). "
        + MALFORMED_HINT)
    expect(page.locator("#lookup-scan")).to_be_hidden()


def test_a_keyboard_wedge_scanner_typing_into_the_page(page: Page, server: ServerProcess, receipt: Receipt,
                                                       kiosk: str) -> None:
    open_kiosk(page, kiosk)
    sent = lookups(page)

    # The receipt's QR (the public lookup address), from the start screen, with no text box anywhere.
    with page.expect_request(is_lookup) as request:
        wedge_scan(page, receipt.qr)
    assert request.value.post_data_json == {"text": receipt.qr, "kiosk": kiosk, "lang": "vi"}
    expect(page.locator("#result-code")).to_have_text(RECEIPT_CODE)
    expect(page.locator("#result-status")).to_have_text("Đang giải quyết")
    assert page.locator("input, textarea, [contenteditable]").evaluate_all(
        "nodes => nodes.filter(n => n.offsetWidth > 2 && getComputedStyle(n).opacity !== '0').length") == 0

    # A QR text block: its lines come as Enter within the burst, Vietnamese letters and all.
    block = (f"UBND PHƯỜNG MINH KHAI\nGIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ\nMã hồ sơ: {RECEIPT_CODE}\n"
             f"Người nộp: {OWNER}\nNgày hẹn trả: 24/12/2030")
    page.get_by_role("button", name=re.compile(r"^Về màn hình chính")).click()
    expect(page.locator("#screen-start")).to_be_visible()
    with page.expect_request(is_lookup) as request:
        wedge_scan(page, block)
    assert request.value.post_data_json == {"text": block, "kiosk": kiosk, "lang": "vi"}
    expect(page.locator("#screen-result")).to_be_visible()
    expect(page.locator("#result-code")).to_have_text(RECEIPT_CODE)
    expect(page.locator("#result-owner")).to_have_text(MASKED)
    assert page.evaluate("document.getElementById('scan-sink').value") == ""
    assert OWNER not in page.content()
    assert len(sent) == 2

    # A person typing, slowly, is no scanner: nothing is looked up, from any screen.
    page.get_by_role("button", name=re.compile(r"^Về màn hình chính")).click()
    for screen in ("start", "lookup"):
        if screen == "lookup":
            page.get_by_role("button", name=re.compile(r"^Tra cứu hồ sơ")).click()
        page.keyboard.type(RECEIPT_CODE, delay=110)
        page.keyboard.press("Enter")
        page.wait_for_timeout(500)
        expect(page.locator(f"#screen-{screen}")).to_be_visible()
    expect(page.locator("#lookup-entry")).to_have_attribute("data-empty", "true")   # nor typed on the keypad
    page.keyboard.type("ABC", delay=5)        # too short to be a code
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    assert len(sent) == 2
    expect(page.locator("#screen-lookup")).to_be_visible()


def test_the_keypad(page: Page, hall: Hall, kiosk: str) -> None:
    code = "000.00.04.G14-250917-0031"
    hall.dossier(code, procedure_name="Chứng thực chữ ký", field_name="Chứng thực", status=9, return_counter=1,
                 steps=[{"at": "2025-09-17T10:00:00+07:00", "status": 2, "action": "Tiếp nhận hồ sơ"},
                        {"at": "2025-09-18T15:00:00+07:00", "status": 9, "action": "Có kết quả"}],
                 received_at="2025-09-17T10:00:00+07:00", appointment_at="2025-09-19T17:00:00+07:00")
    open_kiosk(page, kiosk, "&idle_step=3&idle_result=3", size=LANDSCAPE)
    page.get_by_role("button", name=re.compile(r"^Tra cứu hồ sơ")).click()
    expect(page.locator("#lookup-title")).to_have_text("Tra cứu hồ sơ")
    expect(page.locator("#lookup-entry")).to_have_text("Ví dụ: 000.00.12.H56-250915-0007")
    expect(page.locator("#key-ok")).to_be_disabled()
    assert page.locator("#keypad [data-key]").all_text_contents() == [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789.0-"]
    assert fits(page) == {"scrolls": False, "outside": 0, "small": [], "clipped": []}
    page.screenshot(path="/tmp/kiosk-lookup-keypad-empty.png")

    type_on_keypad(page, code[:-1] + "9")
    page.get_by_role("button", name="Xóa 1 ký tự").click()        # a slip of the finger, undone
    type_on_keypad(page, code[-1])
    expect(page.locator("#lookup-entry")).to_have_text(code)
    page.screenshot(path="/tmp/kiosk-lookup-keypad.png")
    with page.expect_response(lambda r: is_lookup(r.request)) as answer:
        page.get_by_role("button", name="Tra cứu", exact=True).click()
    assert answer.value.request.post_data_json == {"text": code, "kiosk": kiosk, "lang": "vi"}
    expect(page.locator("#result-status")).to_have_text("Đã có kết quả — mời nhận tại quầy số 1")
    expect(page.locator("#result-late")).to_be_hidden()
    expect(page.locator("#result-collect")).to_have_text("Quầy số 1")
    expect(page.locator("#result-steps .step-what")).to_have_text(
        ["Đã có kết quả — mời nhận kết quả", "Đang giải quyết"])
    page.screenshot(path="/tmp/kiosk-lookup-ready.png")

    # Nobody touches it: back to the start, with nothing of the dossier left in the page.
    expect(page.locator("#screen-start")).to_be_visible(timeout=6_000)
    assert code not in page.content() and "Chứng thực chữ ký" not in page.content()
    page.get_by_role("button", name=re.compile(r"^Tra cứu hồ sơ")).click()
    type_on_keypad(page, "12")
    page.get_by_role("button", name="Xóa hết").click()
    expect(page.locator("#lookup-entry")).to_have_attribute("data-empty", "true")
    expect(page.locator("#screen-start")).to_be_visible(timeout=6_000)


def test_unknown_and_malformed_codes_and_too_many_lookups(page: Page, hall: Hall, kiosk: str) -> None:
    open_kiosk(page, kiosk)
    page.get_by_role("button", name=re.compile(r"^Tra cứu hồ sơ")).click()
    unknown = "000.00.12.H56-250915-0999"
    type_on_keypad(page, unknown)
    page.get_by_role("button", name="Tra cứu", exact=True).click()
    error = page.locator("#lookup-error")
    expect(error).to_have_attribute("data-kind", "not_found")
    expect(error).to_have_text(f"Không tìm thấy hồ sơ {unknown}. Vui lòng kiểm tra lại mã trên giấy hẹn.")
    expect(page.locator("#lookup-entry")).to_have_text(unknown)        # to compare with the paper
    expect(page.locator("#lookup-scan")).to_be_hidden()
    page.screenshot(path="/tmp/kiosk-lookup-unknown.png")
    page.get_by_role("button", name="English").click()
    expect(error).to_have_text(f"No dossier {unknown} was found. Please check the code on your receipt.")
    page.get_by_role("button", name="Tiếng Việt").click()

    page.get_by_role("button", name="Xóa hết").click()
    expect(error).to_be_hidden()                                         # typing again clears the message
    expect(page.locator("#lookup-scan")).to_be_visible()
    type_on_keypad(page, "000.00.12.H56-250230-0001")                   # 30 February
    page.get_by_role("button", name="Tra cứu", exact=True).click()
    expect(error).to_have_attribute("data-kind", "malformed")
    expect(error).to_have_text("Không đọc được mã hồ sơ. Ngày trong mã hồ sơ không có thật. " + MALFORMED_HINT)
    page.screenshot(path="/tmp/kiosk-lookup-malformed.png")

    wedge_scan(page, "https://dvc.example.vn/tra-cuu?trang=2")          # a QR of some other address
    expect(error).to_have_text("Không đọc được mã hồ sơ. Đường dẫn không chứa mã hồ sơ. " + MALFORMED_HINT)
    page.get_by_role("button", name="English").click()
    expect(error).to_have_text("No dossier code could be read. The link does not contain a dossier code. "
                               "Please check the code on your receipt and scan or type it again.")

    # The answer never comes back (the network between the kiosk and the server is down).
    page.route("**/api/v1/dossiers/lookup", lambda route: route.abort("connectionreset"))
    wedge_scan(page, RECEIPT_CODE)
    expect(error).to_have_attribute("data-kind", "failed")
    expect(error).to_have_text("Could not look up the dossier. The server cannot be reached. "
                               "Please try again in a moment.")
    page.unroute("**/api/v1/dossiers/lookup")
    expect(page.locator("#offline-banner")).to_be_hidden(timeout=10_000)     # it recovers by itself

    # This kiosk has been busy: the server says to wait, in the citizen's language.
    for n in range(KIOSK_LOOKUPS):
        hall.call("POST", "/dossiers/lookup", {"text": f"000.00.12.H56-250915-{n + 1:04d}", "kiosk": kiosk})
    wedge_scan(page, RECEIPT_CODE)
    expect(error).to_have_attribute("data-kind", "limited")
    expect(error).to_have_text("Too many lookups. Please wait a moment and try again.")
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(error).to_have_text("Tra cứu quá nhiều lần. Vui lòng chờ một chút rồi thử lại.")
    page.screenshot(path="/tmp/kiosk-lookup-limited.png")


def test_a_late_dossier_with_an_apology(page: Page, hall: Hall, kiosk: str) -> None:
    now = datetime.now(VN)
    appointment, new_date = now - timedelta(days=3), now + timedelta(days=4)
    code = "000.00.12.H56-250918-0102"
    late = {"procedure_name": "Đăng ký biến động đất đai", "field_name": "Đất đai", "owner_name": "Lê Thị Hoa",
            "owner_id": "079301001234", "received_at": "2025-09-18T08:00:00+07:00",
            "appointment_at": appointment.isoformat(), "return_counter": 3,
            "steps": [{"at": "2025-09-18T08:00:00+07:00", "status": 2, "action": "Tiếp nhận hồ sơ"},
                      {"at": "2025-09-19T08:00:00+07:00", "status": 4, "action": "Xác minh thực địa"}]}
    hall.dossier(code, **late)
    # A day before the deadline the office apologises and sets a new date (sent as an update).
    hall.dossier(code, created=False, **late, apology_new_date=new_date.isoformat(),
                 apology_at=(appointment - timedelta(days=1)).isoformat())
    open_kiosk(page, kiosk, size=LANDSCAPE)
    wedge_scan(page, code)
    expect(page.locator("#result-status")).to_have_text("Đang giải quyết")
    expect(page.locator("#result-late")).to_be_visible()
    expect(page.locator("#result-late")).to_have_text("Trễ hạn")
    expect(page.locator("#result-appointment")).to_have_text(vn_date(appointment))
    expect(page.locator("#result-new-date-row")).to_be_visible()
    expect(page.locator("#result-new-date")).to_have_text(vn_date(new_date))
    expect(page.locator("#result-apology")).to_have_text("Cơ quan đã xin lỗi và hẹn lại ngày trả kết quả.")
    expect(page.locator("#result-collect")).to_have_text("Quầy số 3")
    expect(page.locator("#result-owner")).to_have_text("L*** T** H")
    assert fits(page) == {"scrolls": False, "outside": 0, "small": [], "clipped": []}
    page.screenshot(path="/tmp/kiosk-lookup-late.png")
    page.set_viewport_size(PORTRAIT)
    assert fits(page) == {"scrolls": False, "outside": 0, "small": [], "clipped": []}
    page.screenshot(path="/tmp/kiosk-lookup-late-portrait.png")
    page.get_by_role("button", name="Tra cứu hồ sơ khác").click()
    assert fits(page) == {"scrolls": False, "outside": 0, "small": [], "clipped": []}
    page.screenshot(path="/tmp/kiosk-lookup-keypad-portrait.png")

    # Sent by post, and handed over: nothing to collect at a counter.
    posted = "000.00.12.H56-250918-0103"
    hall.dossier(posted, postal=True, status=4)
    wedge_scan(page, posted)
    expect(page.locator("#result-collect")).to_have_text("Gửi qua bưu chính")
    handed = "000.00.12.H56-250918-0104"
    hall.dossier(handed, status=10, return_counter=5, steps=[
        *STEPS, {"at": "2025-09-19T14:00:00+07:00", "status": 5, "action": "Yêu cầu bổ sung tờ khai"},
        {"at": "2025-09-22T08:00:00+07:00", "status": 4, "action": "Đã nhận bản bổ sung"},
        {"at": "2025-09-24T16:00:00+07:00", "status": 9, "action": "Có kết quả"},
        {"at": "2025-09-25T09:00:00+07:00", "status": 10, "action": "Trả kết quả"}])
    page.set_viewport_size(LANDSCAPE)
    wedge_scan(page, handed)
    expect(page.locator("#result-status")).to_have_text("Đã trả kết quả")
    expect(page.locator("#result-collect-row")).to_be_hidden()
    expect(page.locator("#result-late")).to_be_hidden()
    expect(page.locator("#result-steps .step-what")).to_have_text([        # the last five, newest first
        "Đã trả kết quả", "Đã có kết quả — mời nhận kết quả", "Đang giải quyết", "Chờ bổ sung hồ sơ",
        "Đang giải quyết"])
    assert fits(page) == {"scrolls": False, "outside": 0, "small": [], "clipped": []}
    page.set_viewport_size({"width": 1024, "height": 600})       # a small screen: the newest steps that fit
    # the page redraws on its resize event, which arrives after the viewport has changed
    page.wait_for_function("document.querySelectorAll('#result-steps li').length < 5")
    expect(page.locator("#result-steps .step-what").first).to_have_text("Đã trả kết quả")
    assert 2 <= page.locator("#result-steps li").count() < 5
    assert fits(page) == {"scrolls": False, "outside": 0, "small": [], "clipped": []}
    page.screenshot(path="/tmp/kiosk-lookup-handed-small.png")


def test_nothing_personal_on_screen(page: Page, hall: Hall, kiosk: str) -> None:
    """Only the masked name: never the full name or the ID number the office was given."""
    code, name, id_number = "000.00.12.H56-250919-0005", "Trần Thị Bình", "079301009876"
    hall.dossier(code, owner_name=name, owner_id=id_number, return_counter=2)
    open_kiosk(page, kiosk)
    block = (f"Mã hồ sơ: {code}\nHọ và tên: {name}\nSố CCCD: {id_number}\nĐịa chỉ: 12 Lê Lợi, phường Minh Khai\n"
             f"Điện thoại: 0912345678")

    def whole_page() -> str:
        return page.content() + page.evaluate(
            "document.body.innerText + document.getElementById('scan-sink').value + document.title")

    with page.expect_response(lambda r: is_lookup(r.request)) as answer:
        wedge_scan(page, block)
    assert id_number not in answer.value.text() and name not in answer.value.text()
    expect(page.locator("#result-owner")).to_have_text("Tr*** T** B")
    for text in (whole_page(), page.locator("#screen-result").inner_text()):
        for secret in (name, id_number, "Lê Lợi", "0912345678", "Trần"):
            assert secret not in text
    page.get_by_role("button", name="English").click()
    expect(page.locator("#result-collect")).to_have_text("Counter 2")
    assert name not in whole_page() and id_number not in whole_page()
    page.get_by_role("button", name=re.compile(r"^Back to start")).click()
    assert "Tr*** T** B" not in whole_page() and code not in whole_page()


def test_english(page: Page, receipt: Receipt, box_scanner: PtyScanner) -> None:
    open_kiosk(page, "kiosk-1", size=LANDSCAPE)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name=re.compile(r"^Check a dossier"))).to_contain_text("Tra cứu hồ sơ")
    page.get_by_role("button", name=re.compile(r"^Check a dossier")).click()
    expect(page.locator("#lookup-scan")).to_have_text(
        "Hold the barcode or QR code on your receipt (Giấy tiếp nhận hồ sơ và hẹn trả kết quả) to the scanner, "
        "or type the dossier code on the keypad below.")
    expect(page.locator("#lookup-entry")).to_have_text("For example: 000.00.12.H56-250915-0007")
    expect(page.locator(".lookup-actions button")).to_have_text(["Back", "⌫ Delete", "Clear", "Look up"])
    page.screenshot(path="/tmp/kiosk-lookup-en-keypad.png")

    box_scanner.scan(receipt.barcode)          # the box's scan is looked up in Vietnamese; the page speaks English
    expect(page.locator("#result-status")).to_have_text("Being processed")
    expect(page.locator(".result-facts > div:not([hidden]) dt")).to_have_text(
        ["Received on", "Return date", "Where to collect the result"])
    expect(page.locator("#result-collect")).to_have_text("Counter 5")
    expect(page.locator("#result-received")).to_have_text("16/09/2025")
    expect(page.locator(".result-steps h2")).to_have_text("Recent steps")
    expect(page.locator("#result-steps .step-what")).to_have_text(["Being processed", "Being processed"])
    expect(page.locator("#result-done")).to_have_text(re.compile(r"^Back to start \(\d+\)$"))
    page.screenshot(path="/tmp/kiosk-lookup-en-result.png")
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator("#result-status")).to_have_text("Đang giải quyết")
    page.get_by_role("button", name=re.compile(r"^Về màn hình chính")).click()
    expect(page.locator("#start-title")).to_have_text(START_VI)
    assert Path("/tmp/kiosk-lookup-en-result.png").stat().st_size > 0
