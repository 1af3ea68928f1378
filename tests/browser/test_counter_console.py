"""The counter console in a real Chromium against a real server: what an officer sees and does.

Tests share one server (starting one costs seconds), so each works at its own counters (staff1 → 1,
staff2 → 2, admin → 3 and 4, staff3 → 3, staff5 → 5) and asserts only on what it caused there.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from queue_server.services.demo import DEMO_PASSWORD
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from .conftest import PublicApi

pytestmark = pytest.mark.browser


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Signs in through the real form, starting where an officer would: the console's address."""
    page.goto("/counter")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").click()


def button(where: Page | Locator, name: str, exact: bool = True) -> Locator:
    return where.get_by_role("button", name=name, exact=exact)


def press(page: Page, key: str) -> None:
    """Presses a shortcut once the console is ready for it (no action in flight, button enabled)."""
    expect(page.locator(f"button[data-action][data-key='{key[-1]}']")).to_be_enabled()
    page.keyboard.press(key)


def queue(page: Page, service: str) -> Locator:
    return page.locator(f"#queue-list li.queue[data-service='{service}']")


def waiting(page: Page, service: str) -> Locator:
    return queue(page, service).locator(".waiting-count")


def test_counter_page_sends_a_stranger_to_sign_in(page: Page) -> None:
    page.goto("/counter")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)counter$"))
    expect(page.get_by_label("Tên đăng nhập")).to_be_visible()


def test_wrong_password_is_refused_with_a_clear_message(page: Page) -> None:
    sign_in(page, "staff4", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/counter")
    expect(page).to_have_url(re.compile(r"/login"))


def test_a_working_session_at_counter_1(page: Page, public: PublicApi) -> None:
    sign_in(page, "staff1")
    expect(page).to_have_url(re.compile(r"/counter$"))
    # staff1 has exactly one counter: it is chosen without asking.
    expect(page.locator("#counter-title")).to_have_text("Quầy số 1 — Tư pháp")
    expect(page.locator("#counter-state")).to_have_text("Đang hoạt động")
    expect(page.locator("#live-label")).to_have_text("Đã kết nối")
    expect(page.locator("#offline-banner")).to_be_hidden()
    expect(page.locator("#no-current")).to_be_visible()
    expect(page.locator("#total-waiting")).to_have_text("0")
    expect(button(page, "Gọi số tiếp theo")).to_be_enabled()
    for name in ("Gọi lại", "Hoàn thành", "Vắng mặt", "Chuyển dịch vụ…", "Tiếp tục"):
        expect(button(page, name)).to_be_disabled()
    for name, key in (("Gọi số tiếp theo", "1"), ("Gọi lại", "2"), ("Hoàn thành", "3"), ("Vắng mặt", "4"),
                      ("Chuyển dịch vụ…", "5"), ("Gọi số…", "6"), ("Tạm dừng…", "7"), ("Tiếp tục", "8")):
        expect(button(page, name).locator("kbd")).to_have_text(key)
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    # Citizens take tickets at the kiosk; the console's queues follow live.
    a001 = public.issue("HOTICH")
    a002 = public.issue("HOTICH", priority="NCT")
    b001 = public.issue("CHUNGTHUC")
    a003 = public.issue("HOTICH")
    assert [t["number"] for t in (a001, a002, b001, a003)] == ["A001", "A002", "B001", "A003"]
    expect(waiting(page, "HOTICH")).to_have_text("3")
    expect(waiting(page, "CHUNGTHUC")).to_have_text("1")
    expect(waiting(page, "TUPHAP")).to_have_text("0")
    expect(page.locator("#total-waiting")).to_have_text("4")
    expect(queue(page, "HOTICH").locator(".chip")).to_contain_text(["A002", "A001", "A003"])
    expect(queue(page, "HOTICH").locator(".chip-priority")).to_have_count(1)
    expect(queue(page, "HOTICH").locator(".chip-priority")).to_contain_text("A002")

    # Call next with the button: the priority ticket comes first (strict policy in the demo office).
    button(page, "Gọi số tiếp theo").click()
    expect(page.locator("#current-number")).to_have_text("A002")
    expect(page.locator("#current-service")).to_have_text("Hộ tịch Ưu tiên")
    expect(page.locator("#notice")).to_have_text("Đã gọi số A002.")
    expect(waiting(page, "HOTICH")).to_have_text("2")
    ticket = public.ticket(a002["id"])
    assert (ticket["status"], ticket["counter"]) == ("called", 1)
    timer = page.locator("#current-timer")
    expect(timer).to_have_text(re.compile(r"^00:0\d$"))
    expect(timer).not_to_have_text(timer.text_content() or "", timeout=3_000)  # it runs
    for name in ("Gọi lại", "Hoàn thành", "Vắng mặt", "Chuyển dịch vụ…"):
        expect(button(page, name)).to_be_enabled()

    # Recall.
    button(page, "Gọi lại").click()
    expect(page.locator("#current-recalls")).to_have_text("1")
    expect(page.locator("#notice")).to_have_text("Đã gọi lại số A002.")
    assert public.ticket(a002["id"])["recall_count"] == 1

    # Call next from a USB number pad: the current ticket is finished, the next regular one called.
    press(page, "Numpad1")
    expect(page.locator("#current-number")).to_have_text("A001")
    expect(page.locator("#current-recalls")).to_have_text("0")
    assert public.ticket(a002["id"])["status"] == "finished"
    assert public.ticket(a001["id"])["status"] == "called"

    # Transfer A001 to Chứng thực (key 5 opens the dialog; its own service is not offered).
    press(page, "5")
    dialog = page.locator("#dialog-transfer")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("Chuyển phiếu A001 sang dịch vụ")
    expect(button(dialog, "Hộ tịch")).to_have_count(0)
    button(dialog, "Chứng thực").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#notice")).to_have_text("Đã chuyển số A001 sang Chứng thực.")
    expect(page.locator("#no-current")).to_be_visible()
    expect(waiting(page, "CHUNGTHUC")).to_have_text("2")
    moved = public.ticket(a001["id"])
    assert moved["status"] == "transferred"
    copy = public.ticket(moved["transferred_to"])
    assert (copy["number"], copy["service"], copy["status"]) == ("A001", "CHUNGTHUC", "waiting")
    expect(button(page, "Hoàn thành")).to_be_disabled()

    # Call a given number: one that was never issued gives a clear error; the dialog stays to correct it.
    press(page, "6")
    dialog = page.locator("#dialog-call")
    field = page.get_by_label("Số thứ tự (ví dụ A005)")
    expect(dialog).to_be_visible()
    expect(field).to_be_focused()
    expect(field).to_have_value("")  # the shortcut's digit does not land in the field
    field.fill("A-3")
    field.press("Enter")
    expect(dialog.get_by_role("alert")).to_contain_text("Số không hợp lệ.")
    field.fill("A999")
    field.press("Enter")
    expect(dialog.get_by_role("alert")).to_have_text("Hôm nay chưa cấp số A999.")
    expect(dialog).to_be_visible()
    field.fill("a003")  # typing digits here is text, not shortcuts ("3" would finish)
    field.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#current-number")).to_have_text("A003")
    assert public.ticket(a003["id"])["status"] == "called"

    # No-show.
    button(page, "Vắng mặt").click()
    expect(page.locator("#notice")).to_have_text("Số A003 được ghi nhận vắng mặt.")
    expect(page.locator("#no-current")).to_be_visible()
    assert public.ticket(a003["id"])["status"] == "no_show"

    # The transferred A001 kept its queue time, so it comes before B001; finish it with key 3.
    press(page, "1")
    expect(page.locator("#current-number")).to_have_text("A001")
    expect(page.locator("#current-service")).to_have_text("Chứng thực")
    press(page, "3")
    expect(page.locator("#notice")).to_have_text("Đã hoàn thành số A001.")
    expect(page.locator("#no-current")).to_be_visible()
    assert public.ticket(copy["id"])["status"] == "finished"

    # B001, then nobody is left: call next finishes B001 and says so.
    button(page, "Gọi số tiếp theo").click()
    expect(page.locator("#current-number")).to_have_text("B001")
    expect(page.locator("#total-waiting")).to_have_text("0")
    button(page, "Gọi số tiếp theo").click()
    expect(page.locator("#notice")).to_have_text("Không còn ai đang chờ.")
    expect(page.locator("#no-current")).to_be_visible()
    assert public.ticket(b001["id"])["status"] == "finished"

    # Pause with a preset reason: calling is blocked (button and key) until resumed.
    button(page, "Tạm dừng…").click()
    dialog = page.locator("#dialog-pause")
    expect(dialog).to_be_visible()
    button(dialog, "Họp").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#counter-state")).to_have_text("Tạm dừng")
    expect(page.locator("#paused-banner")).to_have_text("Quầy đang tạm dừng — Họp")
    for name in ("Gọi số tiếp theo", "Gọi số…", "Tạm dừng…"):
        expect(button(page, name)).to_be_disabled()
    expect(button(page, "Tiếp tục")).to_be_enabled()
    board = public.counter(1)
    assert (board["state"], board["reason"]) == ("paused", "Họp")
    tuphap = public.issue("TUPHAP")
    expect(waiting(page, "TUPHAP")).to_have_text("1")
    page.keyboard.press("1")  # while paused the shortcut is refused, and says so
    expect(page.locator("#notice")).to_have_text("Quầy đang tạm dừng. Bấm «Tiếp tục» (phím 8) để gọi số.")
    expect(page.locator("#no-current")).to_be_visible()
    assert public.ticket(tuphap["id"])["status"] == "waiting"
    press(page, "8")
    expect(page.locator("#counter-state")).to_have_text("Đang hoạt động")
    expect(page.locator("#paused-banner")).to_be_hidden()
    expect(button(page, "Gọi số tiếp theo")).to_be_enabled()
    assert public.counter(1)["state"] == "active"
    page.keyboard.press("2")  # nothing to recall: refused, without the pause's wording
    expect(page.locator("#notice")).to_have_text("Thao tác này không dùng được lúc này.")

    # Pause with a reason of one's own, from the keyboard.
    press(page, "7")
    reason = page.get_by_label("Lý do khác")
    expect(dialog).to_be_visible()
    reason.fill("Đi lấy hồ sơ lưu trữ")
    reason.press("Enter")
    expect(page.locator("#paused-banner")).to_have_text("Quầy đang tạm dừng — Đi lấy hồ sơ lưu trữ")
    assert public.counter(1)["reason"] == "Đi lấy hồ sơ lưu trữ"
    button(page, "Tiếp tục").click()
    expect(page.locator("#counter-state")).to_have_text("Đang hoạt động")

    assert page.evaluate("window.sameDocument") is True


def test_english_console(page: Page, public: PublicApi) -> None:
    sign_in(page, "staff2")
    expect(page.locator("#counter-title")).to_have_text("Quầy số 2 — Kinh tế - Hạ tầng - Đô thị")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/counter\?lang=en$"))
    expect(page.locator("#counter-title")).to_have_text("Counter 2 — Economy, Infrastructure and Urban Affairs")
    expect(page.locator("#counter-state")).to_have_text("Active")
    expect(page.locator("#live-label")).to_have_text("Connected")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    for name in ("Call next", "Recall", "Finish", "No-show", "Transfer…", "Call number…", "Pause…", "Resume"):
        expect(button(page, name)).to_be_visible()
    expect(page.locator("#no-current")).to_have_text("No number called. Press “Call next” to start.")

    e001 = public.issue("HOKINHDOANH")
    expect(waiting(page, "HOKINHDOANH")).to_have_text("1")
    expect(queue(page, "HOKINHDOANH").locator(".queue-name")).to_have_text("Household business registration")

    button(page, "Call number…").click()
    field = page.get_by_label("Ticket number (e.g. A005)")
    field.fill("E999")
    field.press("Enter")
    expect(page.locator("#dialog-call").get_by_role("alert")).to_have_text("No ticket E999 was issued today.")
    page.keyboard.press("Escape")
    expect(page.locator("#dialog-call")).to_be_hidden()

    button(page, "Call next").click()
    expect(page.locator("#current-number")).to_have_text(e001["number"])
    expect(page.locator("#current-service")).to_have_text("Household business registration")
    expect(page.locator("#notice")).to_have_text(f"Called {e001['number']}.")

    # A digit right after Esc goes to the console, never to the list of the dialog just closed.
    press(page, "5")
    expect(page.locator("#dialog-transfer")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("6")
    expect(page.locator("#dialog-call")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#dialog-call")).to_be_hidden()
    assert public.ticket(e001["id"])["status"] == "called"

    button(page, "Pause…").click()
    button(page.locator("#dialog-pause"), "Meeting").click()
    expect(page.locator("#paused-banner")).to_have_text("This counter is paused — Meeting")
    assert public.counter(2)["reason"] == "Họp"  # presets are recorded in the office's language
    button(page, "Finish").click()  # a ticket can still be closed while paused
    expect(page.locator("#no-current")).to_be_visible()
    assert public.ticket(e001["id"])["status"] == "finished"
    button(page, "Resume").click()
    expect(page.locator("#counter-state")).to_have_text("Active")

    # The choice of language sticks (cookie) without ?lang in the address.
    page.goto("/counter")
    expect(button(page, "Call next")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/counter")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_choosing_and_switching_counters(page: Page, public: PublicApi) -> None:
    sign_in(page, "admin")  # admins may work at any counter: the console asks which
    picker = page.locator("#picker")
    expect(picker.get_by_role("heading")).to_have_text("Chọn quầy làm việc")
    expect(picker.locator("button")).to_have_count(5)
    button(picker, "Quầy số 3 — Đất đai", exact=False).click()
    expect(picker).to_be_hidden()
    expect(page.locator("#counter-title")).to_have_text("Quầy số 3 — Đất đai")
    public.issue("DATDAI")
    expect(waiting(page, "DATDAI")).to_have_text("1")

    page.reload()  # the choice is remembered on this machine
    expect(page.locator("#counter-title")).to_have_text("Quầy số 3 — Đất đai")
    expect(picker).to_be_hidden()

    button(page, "Đổi quầy").click()
    button(picker, "Quầy số 4 — Văn hóa - Xã hội", exact=False).click()
    expect(page.locator("#counter-title")).to_have_text("Quầy số 4 — Văn hóa - Xã hội")
    expect(page.locator("#queue-list li.queue")).to_have_count(1)
    expect(queue(page, "BAOTRO").locator(".queue-name")).to_have_text("Bảo trợ xã hội")


def test_serving_timer_follows_the_server_clock(page: Page, public: PublicApi) -> None:
    """The desk PC's clock is two hours fast; the timer still counts from the call on the server's clock."""
    page.clock.install(time=time.time() + 2 * 3600)
    sign_in(page, "staff3")
    expect(page.locator("#counter-title")).to_have_text("Quầy số 3 — Đất đai")
    public.issue("DATDAI")
    press(page, "1")
    expect(page.locator("#current-number")).to_have_text(re.compile(r"^D\d{3}$"))
    expect(page.locator("#current-timer")).to_have_text(re.compile(r"^00:0\d$"))


def test_connection_loss_is_shown_and_recovered(page: Page, server: ServerProcess, public: PublicApi) -> None:
    sign_in(page, "staff5")
    expect(page.locator("#counter-title")).to_have_text("Quầy số 5 — Trả kết quả")
    expect(page.locator("#live-label")).to_have_text("Đã kết nối")

    server.kill()  # a crash: the live link drops
    server.log.close()
    expect(page.locator("#offline-banner")).to_have_text("Mất kết nối — đang kết nối lại…")
    expect(page.locator("#offline-banner")).to_be_visible()
    server.start()
    expect(page.locator("#offline-banner")).to_be_hidden(timeout=20_000)
    public.issue("TRAKETQUA")
    expect(waiting(page, "TRAKETQUA")).to_have_text("1")


def until(page: Page, ready: Callable[[], object], seconds: float = 10) -> None:
    """Lets the page's events reach this test until `ready()` holds (the caller asserts it)."""
    for _ in range(int(seconds * 20)):
        if ready():
            return
        page.wait_for_timeout(50)


def test_a_screen_behind_another_at_the_same_counter_ends_no_visit_it_has_not_seen(
        page: Page, browser: Browser, server: ServerProcess, public: PublicApi) -> None:
    """Two screens at counter 1. The second stops hearing news (its reads are held) while the first calls
    A and the second's officer presses "call next": the server refuses, A stays called, and the second
    screen shows the truth once its read goes through."""
    other = browser.new_context(base_url=server.url, locale="vi-VN", viewport={"width": 1366, "height": 800})
    second = other.new_page()
    try:
        sign_in(page, "staff1")
        sign_in(second, "staff1")
        for screen in (page, second):
            expect(screen.locator("#live-label")).to_have_text("Đã kết nối")
        open_reads: set = set()                          # the second screen's reads still on their way
        hold: list[bool] = []
        held: list = []

        def is_read(r) -> bool:  # noqa: ANN001
            return r.method == "GET" and r.url.endswith("/api/v1/counters/1")
        second.on("request", lambda r: open_reads.add(r) if is_read(r) else None)
        second.on("requestfinished", lambda r: open_reads.discard(r))
        second.on("requestfailed", lambda r: open_reads.discard(r))
        second.route("**/api/v1/counters/1",            # from `hold` on, its reads wait
                     lambda route: held.append(route) if hold else route.continue_())
        ticket = public.issue("HOTICH")
        expect(waiting(second, "HOTICH")).to_have_text("1")
        until(second, lambda: not open_reads)           # none still on its way that could see the call
        assert not open_reads
        hold.append(True)
        sent: list[str | None] = []
        second.on("request", lambda r: sent.append(r.headers.get("x-counter-current"))
                  if r.method == "POST" and r.url.endswith("/call-next") else None)
        press(page, "1")
        expect(page.locator("#current-number")).to_have_text(ticket["number"])
        press(second, "1")
        expect(second.locator("#page-alert")).to_contain_text(f"Quầy vừa được thao tác từ máy khác (đang gọi số "
                                                              f"{ticket['number']})")
        assert sent == ["none"]
        assert public.ticket(ticket["id"])["status"] == "called"          # the visit goes on
        until(second, lambda: held)                                       # it reads again after the refusal
        assert held
        second.unroute("**/api/v1/counters/1")                            # lets the held reads through
        expect(second.locator("#current-number")).to_have_text(ticket["number"])
    finally:
        other.close()
