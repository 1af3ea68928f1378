"""The kiosk in a real Chromium against a real server, with the real hardware agent printing to a
fake network printer: what a citizen sees and what comes out of the printer.

Tests share one server, agent and printer (starting them costs seconds); each reads only the
tickets, slips and services it caused. The server restart comes last.
"""
from __future__ import annotations

import json
import math
import re
import time
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from queue_server.domain.schedule import ALWAYS_OPEN, WEEKDAYS
from queue_server.services.printing import FAULT_TEXT
from tests.hardware.conftest import FakeTcpPrinter
from tests.server_process import ServerProcess

from .kiosk_fixtures import printout, qr_codes, revoke_token, update_service, wait_for_slips

if TYPE_CHECKING:
    from .conftest import PublicApi

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}
PRINTED_VI = "Đã in phiếu. Mời quý vị nhận phiếu."
PRINTED_EN = "Your ticket has been printed. Please take it."
OFFLINE_VI = "Mất kết nối với máy chủ. Đang thử kết nối lại…"


def open_kiosk(page: Page, query: str = "", size: dict | None = None) -> None:
    """The kiosk-1 page, ready: tiles loaded and the live connection up."""
    page.set_viewport_size(size or LANDSCAPE)
    page.goto("/kiosk?kiosk=kiosk-1" + query)
    expect(page.locator(".tile")).to_have_count(8)
    expect(page.locator("body")).to_have_attribute("data-live", "online")


def tile(page: Page, service: str) -> Locator:
    return page.locator(f".tile[data-service='{service}']")


def is_ticket_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/v1/tickets")


def ticket_posts(page: Page) -> list:
    """Every ticket request the page sends from now on."""
    sent: list = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and r.url.endswith("/api/v1/tickets") else None)
    return sent


def waiting(server: ServerProcess, service: str) -> int:
    with urllib.request.urlopen(server.url + "/api/v1/services", timeout=5) as response:
        listed = json.loads(response.read())["services"]
    return next(s["waiting"] for s in listed if s["code"] == service)


def wait_text(seconds: int, english: bool = False) -> str:
    """What the kiosk says for an estimated wait."""
    if seconds < 60:
        return "Under 1 minute" if english else "Dưới 1 phút"
    minutes = math.ceil(seconds / 60)
    return f"About {minutes} min" if english else f"Khoảng {minutes} phút"


def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_tap_gives_one_ticket_on_screen_and_on_paper(page: Page, server: ServerProcess, public: PublicApi,
                                                       printer: FakeTcpPrinter) -> None:
    open_kiosk(page, "&idle=4")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#start-title")).to_have_text("Mời chọn lĩnh vực cần giải quyết")
    expect(tile(page, "HOTICH").locator(".tile-name")).to_have_text("Hộ tịch")
    expect(tile(page, "HOKINHDOANH").locator(".tile-name")).to_have_text("Thành lập và hoạt động của hộ kinh doanh")
    public.issue("HOTICH")
    public.issue("HOTICH")  # two people are ahead; the tile follows live
    expect(tile(page, "HOTICH").locator(".tile-info")).to_have_text("Đang chờ: 2 người")
    sent = ticket_posts(page)

    with page.expect_response(is_ticket_post) as answer:
        tile(page, "HOTICH").dblclick()  # an unsteady finger taps twice
    assert answer.value.status == 201
    ticket = answer.value.json()
    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(page.locator("#ticket-service")).to_have_text("Hộ tịch")
    expect(page.locator("#ticket-ahead")).to_have_text("2")
    assert ticket["position"] == 2 and ticket["estimated_wait_s"] >= 60
    expect(page.locator("#ticket-wait")).to_have_text(wait_text(ticket["estimated_wait_s"]))
    expect(page.locator("#ticket-priority")).to_be_hidden()
    expect(page.locator("#print-status")).to_have_text(PRINTED_VI)

    slips = wait_for_slips(printer, 1)
    assert qr_codes(slips) == [ticket["track_url"]]
    assert ticket["track_url"].startswith(f"{server.url}/t/")

    # Back to the start by itself, counting down; the tile counts the new ticket.
    expect(page.locator("#done-button")).to_have_text(re.compile(r"^Về màn hình chính \(\d\)$"))
    expect(page.locator("#screen-start")).to_be_visible(timeout=8_000)
    expect(tile(page, "HOTICH").locator(".tile-info")).to_have_text("Đang chờ: 3 người")
    assert len(sent) == 1
    assert re.fullmatch(r"[A-Za-z0-9_.:-]{8,80}", sent[0].headers["idempotency-key"])
    assert waiting(server, "HOTICH") == 3
    assert len(printout(printer).cuts) == 1


def test_a_lost_answer_is_asked_again_with_the_same_key(page: Page, server: ServerProcess,
                                                        printer: FakeTcpPrinter) -> None:
    """The server issued the ticket but its answer was lost: the retry gets the same ticket."""
    open_kiosk(page)
    before = waiting(server, "CHUNGTHUC")
    keys: list[str] = []
    first: dict = {}

    def lose_the_first_answer(route) -> None:  # noqa: ANN001
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            first.update(route.fetch().json())     # the server commits the ticket…
            route.abort("connectionreset")         # …and the kiosk never hears of it
        else:
            route.continue_()

    page.route("**/api/v1/tickets", lose_the_first_answer)
    tile(page, "CHUNGTHUC").click()
    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.locator("#ticket-number")).to_have_text(first["number"])
    expect(page.locator("#print-status")).to_have_text(PRINTED_VI)
    assert len(keys) == 2 and keys[0] == keys[1]
    assert waiting(server, "CHUNGTHUC") == before + 1
    slips = wait_for_slips(printer, 1)
    assert qr_codes(slips) == [first["track_url"]]


def test_english_and_a_printer_that_never_answers(page: Page, public: PublicApi, printer: FakeTcpPrinter) -> None:
    open_kiosk(page)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#start-title")).to_have_text("Please choose a service")
    expect(tile(page, "DATDAI").locator(".tile-name")).to_have_text("Land")
    expect(tile(page, "HOKINHDOANH").locator(".tile-name")).to_have_text("Household business registration")
    expect(tile(page, "DATDAI").locator(".tile-info")).to_have_text(re.compile(r"^Waiting: \d+$"))
    expect(page.locator("#lang-button")).to_have_text("Tiếng Việt")
    expect(page.locator(".priority-label")).to_have_text("Priority groups")

    with page.expect_response(is_ticket_post) as answer:
        tile(page, "DATDAI").click()
    ticket = answer.value.json()
    expect(page.locator("#ticket-label")).to_have_text("Your number")
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(page.locator("#ticket-service")).to_have_text("Land")
    expect(page.locator(".ticket-stats dt")).to_have_text(["People ahead of you", "Estimated wait"])
    expect(page.locator("#ticket-wait")).to_have_text(wait_text(ticket["estimated_wait_s"], english=True))
    expect(page.locator("#print-status")).to_have_text(PRINTED_EN)
    wait_for_slips(printer, 1)
    page.get_by_role("button", name=re.compile(r"^Back to start")).click()
    # The next citizen is greeted in Vietnamese again.
    expect(page.locator("#start-title")).to_have_text("Mời chọn lĩnh vực cần giải quyết")

    # The printer now accepts connections and never answers.
    printer.silent = True
    page.get_by_role("button", name="English").click()
    expect(page.locator("#printer-notice")).to_have_text(
        "The printer is not working at the moment. You can still take a number: it is shown on screen and is valid.")
    expect(tile(page, "DATDAI")).to_be_enabled()
    with page.expect_response(is_ticket_post) as answer:
        tile(page, "DATDAI").click()
    ticket = answer.value.json()
    expect(page.locator("#print-status")).to_have_text("Printing your ticket…")
    expect(page.locator("#print-status")).to_have_text(FAULT_TEXT["offline"][1])
    page.screenshot(path="/tmp/kiosk-en-printer-silent.png")
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    assert public.ticket(ticket["id"])["status"] == "waiting"  # the number is kept

    printer.silent = False  # it answers again: the job is printed, once
    expect(page.locator("#print-status")).to_have_text(PRINTED_EN)
    slips = wait_for_slips(printer, 2)
    assert qr_codes(slips)[-1] == ticket["track_url"] + "?lang=en"      # the phone opens it in English
    assert len(slips.cuts) == 2


def test_priority_step(page: Page, public: PublicApi, printer: FakeTcpPrinter) -> None:
    open_kiosk(page)
    page.get_by_role("button", name=re.compile(r"^Đối tượng ưu tiên")).click()
    expect(page.locator("#priority-title")).to_have_text("Quý vị thuộc đối tượng ưu tiên nào?")
    expect(page.locator("#groups button")).to_have_text(["Người cao tuổi", "Người khuyết tật", "Phụ nữ mang thai",
                                                         "Người có công với cách mạng", "Người đi cùng trẻ nhỏ"])
    page.get_by_role("button", name="Người cao tuổi").click()
    expect(page.locator("#priority-chosen-text")).to_have_text("Lấy số ưu tiên — Người cao tuổi. Mời chọn lĩnh vực.")
    with page.expect_response(is_ticket_post) as answer:
        tile(page, "TUPHAP").click()
    ticket = answer.value.json()
    assert answer.value.request.post_data_json["priority"] == "NCT"
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(page.locator("#ticket-priority")).to_have_text("Ưu tiên")
    expect(page.locator("#print-status")).to_have_text(PRINTED_VI)
    assert public.ticket(ticket["id"])["priority"] is True

    # The next citizen does not inherit the choice; an abandoned step goes back to the start by itself.
    page.get_by_role("button", name=re.compile(r"^Về màn hình chính")).click()
    expect(page.locator("#priority-chosen")).to_be_hidden()
    page.goto("/kiosk?idle_step=1")
    page.get_by_role("button", name=re.compile(r"^Đối tượng ưu tiên")).click()
    expect(page.locator("#screen-priority")).to_be_visible()
    expect(page.locator("#screen-start")).to_be_visible(timeout=5_000)
    page.get_by_role("button", name=re.compile(r"^Đối tượng ưu tiên")).click()
    page.get_by_role("button", name="Phụ nữ mang thai").click()
    expect(page.locator("#priority-chosen")).to_be_visible()
    expect(page.locator("#priority-chosen")).to_be_hidden(timeout=5_000)
    wait_for_slips(printer, 1)


def test_printer_out_of_paper(page: Page, public: PublicApi, printer: FakeTcpPrinter) -> None:
    open_kiosk(page)
    printer.paper = "out"
    expect(page.locator("#printer-notice")).to_have_text(      # after the agent's next poll, however busy
        "Máy in đang hết giấy. Quý vị vẫn lấy số bình thường: số thứ tự hiện trên màn hình và vẫn có giá trị.",
        timeout=20_000)
    expect(tile(page, "TRAKETQUA")).to_be_enabled()  # numbers are still given
    page.screenshot(path="/tmp/kiosk-paper-out-notice.png")

    with page.expect_response(is_ticket_post) as answer:
        tile(page, "TRAKETQUA").click()
    ticket = answer.value.json()
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(page.locator("#print-status")).to_have_text(FAULT_TEXT["paper_out"][0])
    page.screenshot(path="/tmp/kiosk-paper-out-ticket.png")
    assert public.ticket(ticket["id"])["status"] == "waiting"
    assert printout(printer).cuts == []

    printer.paper = "ok"  # staff load a new roll: the job is printed, once
    expect(page.locator("#print-status")).to_have_text(PRINTED_VI)
    slips = wait_for_slips(printer, 1)
    assert qr_codes(slips) == [ticket["track_url"]]
    polls = len(printer.queries)
    eventually(lambda: len(printer.queries) >= polls + 4)  # the agent has looked at the printer twice more
    assert len(printout(printer).cuts) == 1
    expect(page.locator("#printer-notice")).to_be_hidden()


def test_a_service_closing_between_tap_and_issue(page: Page, server: ServerProcess, public: PublicApi,
                                                 printer: FakeTcpPrinter) -> None:
    open_kiosk(page)
    expect(tile(page, "XAYDUNG")).to_be_enabled()
    expect(tile(page, "BAOTRO")).to_be_enabled()
    public.issue("BAOTRO")
    try:
        # Behind the kiosk's back, construction stops issuing numbers…
        update_service(server, "XAYDUNG", opening_hours={day: [] for day in WEEKDAYS})
        with page.expect_response(is_ticket_post) as answer:
            tile(page, "XAYDUNG").click()
        assert (answer.value.status, answer.value.json()["error"]["code"]) == (409, "service_closed")
        expect(page.locator("#message-text")).to_have_text("Dịch vụ «Hoạt động xây dựng» hiện không cấp số.")
        expect(page.locator("#screen-start")).to_be_visible()
        expect(tile(page, "XAYDUNG")).to_be_disabled()
        expect(tile(page, "XAYDUNG").locator(".tile-info")).to_have_text("Ngoài giờ cấp số")
        page.screenshot(path="/tmp/kiosk-service-closed.png")

        # … and social protection reaches its daily limit.
        update_service(server, "BAOTRO", daily_limit=1)
        expect(tile(page, "BAOTRO")).to_be_enabled()
        with page.expect_response(is_ticket_post) as answer:
            tile(page, "BAOTRO").click()
        assert (answer.value.status, answer.value.json()["error"]["code"]) == (409, "daily_limit_reached")
        expect(page.locator("#message-text")).to_have_text(
            "Đã hết lượt cấp số trong ngày cho dịch vụ này. Vui lòng quay lại vào ngày làm việc tiếp theo.")
        expect(tile(page, "BAOTRO")).to_be_disabled()
        expect(tile(page, "BAOTRO").locator(".tile-info")).to_have_text("Đã hết số hôm nay")
        page.get_by_role("button", name="English").click()
        expect(page.locator("#message-text")).to_have_text(
            "All numbers for this service have been issued today. Please come back on the next working day.")
        expect(tile(page, "BAOTRO").locator(".tile-info")).to_have_text("No more numbers today")
        page.get_by_role("button", name="Close").click()
        expect(page.locator("#message")).to_be_hidden()
    finally:
        update_service(server, "XAYDUNG", opening_hours=ALWAYS_OPEN)
        update_service(server, "BAOTRO", daily_limit=None)
    assert (waiting(server, "XAYDUNG"), waiting(server, "BAOTRO")) == (0, 1)  # nothing was issued
    assert printout(printer).cuts == []


def test_an_unknown_kiosk_or_a_revoked_token(page: Page, server: ServerProcess) -> None:
    page.set_viewport_size(LANDSCAPE)
    page.goto("/kiosk?kiosk=kiosk-99")
    expect(page.locator("#screen-fatal")).to_be_visible()
    expect(page.locator("#fatal-title")).to_have_text("Ki-ốt tạm thời không cấp số")
    expect(page.locator("#screen-fatal .fatal-citizen")).to_have_text(
        "Xin lỗi quý vị. Mời quý vị liên hệ cán bộ tại quầy để được hỗ trợ.")
    expect(page.locator("#fatal-staff")).to_have_text(
        "Cán bộ: máy chủ không nhận ra ki-ốt «kiosk-99». Vui lòng kiểm tra cài đặt ki-ốt "
        "(mã ki-ốt trong địa chỉ trang, ví dụ /kiosk?kiosk=kiosk-1).")
    expect(page.locator("#screen-start")).to_be_hidden()
    expect(page.locator("#offline-banner")).to_be_hidden()
    page.screenshot(path="/tmp/kiosk-unknown.png")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#fatal-title")).to_have_text("This kiosk cannot issue numbers right now")
    page.goto("/kiosk")  # the browser remembers which kiosk it is
    expect(page.locator("#fatal-staff")).to_contain_text("«kiosk-99»")

    token = server.device_token("kiosk", "kiosk-1")
    revoke_token(server, token)
    page.goto(f"/kiosk?kiosk=kiosk-1&token={token}")
    expect(page.locator("#fatal-staff")).to_have_text(
        "Cán bộ: mã thiết bị của ki-ốt «kiosk-1» không hợp lệ hoặc đã bị thu hồi. "
        "Vui lòng cấp mã mới và kiểm tra cài đặt ki-ốt.")
    assert "token" not in page.url


def test_a_printer_that_never_reports_back(page: Page, server: ServerProcess, public: PublicApi) -> None:
    """kiosk-2 is registered but its box is off: the wait for the slip ends with an explanation."""
    server.device_token("kiosk", "kiosk-2")
    page.set_viewport_size(LANDSCAPE)
    page.goto("/kiosk?kiosk=kiosk-2&print_wait=2")
    expect(page.locator("body")).to_have_attribute("data-live", "online")
    expect(page.locator("#printer-notice")).to_be_hidden()  # no printer has ever reported: nothing to say yet
    with page.expect_response(is_ticket_post) as answer:
        tile(page, "TUPHAP").click()
    ticket = answer.value.json()
    assert ticket["print_job"]["status"] == "pending"
    expect(page.locator("#print-status")).to_have_text("Đang in phiếu…")
    expect(page.locator("#done-button")).to_have_text("Về màn hình chính")  # no countdown while printing
    expect(page.locator("#print-status")).to_have_text(FAULT_TEXT["agent_offline"][0])
    expect(page.locator("#done-button")).to_have_text(re.compile(r"^Về màn hình chính \(\d+\)$"))
    assert public.ticket(ticket["id"])["status"] == "waiting"


@pytest.mark.parametrize(("name", "size"), [("landscape", LANDSCAPE), ("portrait", PORTRAIT)])
def test_everything_fits_and_is_large(page: Page, printer: FakeTcpPrinter, name: str, size: dict) -> None:
    open_kiosk(page, size=size)
    fits = """() => {
      const w = window.innerWidth, h = window.innerHeight, doc = document.scrollingElement;
      const shown = [...document.querySelectorAll('button')].filter(b => b.offsetParent !== null);
      return {
        scrolls: doc.scrollHeight > h || doc.scrollWidth > w,
        outside: shown.filter(b => { const r = b.getBoundingClientRect();
                                     return r.top < 0 || r.left < 0 || r.bottom > h || r.right > w; }).length,
        small: shown.filter(b => { const r = b.getBoundingClientRect(); return r.height < 64 || r.width < 64; })
                    .map(b => b.id || b.className),
        buttons: shown.length,
      };
    }"""
    # 8 tiles, the language, the dossier lookup and the priority groups
    assert page.evaluate(fits) == {"scrolls": False, "outside": 0, "small": [], "buttons": 11}
    page.screenshot(path=f"/tmp/kiosk-{name}.png")
    style = page.evaluate("""() => {
      const s = getComputedStyle(document.querySelector('.tile')), n = document.querySelector('.tile-name');
      const menu = new MouseEvent('contextmenu', {bubbles: true, cancelable: true});
      document.querySelector('.tile').dispatchEvent(menu);
      return {select: s.userSelect, touch: s.touchAction, name_px: parseFloat(getComputedStyle(n).fontSize),
              viewport: document.querySelector('meta[name=viewport]').content, menu: menu.defaultPrevented};
    }""")
    assert (style["select"], style["touch"], style["menu"]) == ("none", "manipulation", True)
    assert "user-scalable=no" in style["viewport"]
    assert style["name_px"] >= 28

    page.get_by_role("button", name=re.compile(r"^Đối tượng ưu tiên")).click()
    expect(page.locator("#screen-priority")).to_be_visible()
    assert page.evaluate(fits)["small"] == []
    page.screenshot(path=f"/tmp/kiosk-{name}-priority.png")
    page.get_by_role("button", name="Quay lại").click()

    tile(page, "HOKINHDOANH").click()
    expect(page.locator("#print-status")).to_have_text(PRINTED_VI)
    ticket = page.evaluate(fits)
    assert (ticket["scrolls"], ticket["outside"], ticket["small"]) == (False, 0, [])
    page.screenshot(path=f"/tmp/kiosk-{name}-ticket.png")
    wait_for_slips(printer, 1)


def test_the_server_restarting_under_an_open_kiosk(page: Page, server: ServerProcess,
                                                   printer: FakeTcpPrinter) -> None:
    open_kiosk(page)
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page
    server.kill()
    banner = page.locator("#offline-banner")
    expect(banner).to_have_text(OFFLINE_VI)
    expect(banner).to_be_visible()
    expect(tile(page, "HOTICH")).to_be_disabled()
    page.screenshot(path="/tmp/kiosk-offline.png")
    page.get_by_role("button", name="English").click()
    expect(banner).to_have_text("Lost connection to the server. Reconnecting…")
    page.get_by_role("button", name="Tiếng Việt").click()

    server.start()
    expect(banner).to_be_hidden(timeout=30_000)
    expect(tile(page, "TUPHAP")).to_be_enabled()
    with page.expect_response(is_ticket_post) as answer:
        tile(page, "TUPHAP").click()
    ticket = answer.value.json()
    expect(page.locator("#ticket-number")).to_have_text(ticket["number"])
    # The agent reconnects by itself too (with its own backoff); then the slip comes out.
    expect(page.locator("#print-status")).to_have_text(PRINTED_VI, timeout=30_000)
    assert qr_codes(wait_for_slips(printer, 1)) == [ticket["track_url"]]
    assert page.evaluate("window.sameDocument") is True
