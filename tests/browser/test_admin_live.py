"""The admin's live view in Chromium: the real hardware agent reports its printer out of paper, and the
page raises the alert without a reload; it clears when the paper is back. Queues and counters follow calls."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_counter_console import sign_in
from tests.browser.test_display import Desk
from tests.hardware.conftest import FakeTcpPrinter
from tests.server_process import ServerProcess


def open_live(page: Page, username: str = "admin") -> None:
    sign_in(page, username)
    page.goto("/admin/live")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
    expect(page.locator("#device-rows tr[data-device='kiosk-1']")).to_be_visible()


def test_a_printer_out_of_paper_raises_an_alert_live(page: Page, server: ServerProcess,
                                                     printer: FakeTcpPrinter) -> None:
    open_live(page)
    kiosk = page.locator("#device-rows tr[data-device='kiosk-1']")
    expect(kiosk).to_have_attribute("data-online", "true")
    expect(page.locator("#device-rows tr[data-device='agent-kiosk-1']")).to_have_attribute("data-online", "true")
    expect(page.locator("#no-alerts")).to_be_visible()
    printer.paper = "out"                          # the agent polls the printer every half second
    try:
        alert = page.locator("#alert-list li[data-code='paper_out']")
        expect(alert).to_have_text("Máy in «Ki-ốt cấp số 1» hết giấy.", timeout=10_000)
        expect(alert).to_have_attribute("data-severity", "bad")
        expect(kiosk.locator("td").nth(4)).to_have_text("Hết giấy")
        expect(page.locator("#alert-count")).to_have_text("1")
        page.screenshot(path="/tmp/motcua-admin-live-paper-out.png", full_page=True)
    finally:
        printer.paper = "ok"
    expect(page.locator("#alert-list li")).to_have_count(0, timeout=10_000)
    expect(kiosk.locator("td").nth(4)).to_have_text("Đủ giấy")


def test_calls_and_queues_follow_without_a_reload(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff3")
    open_live(page)
    ticket = desk.issue("DATDAI")
    queue = page.locator("#queue-rows tr[data-service='DATDAI'] td")
    expect(queue.nth(1)).to_have_text("1")
    desk.call_next(3)
    expect(page.locator("#counter-rows tr[data-counter='3'] td").nth(2)).to_have_text(ticket["number"])
    expect(queue.nth(1)).to_have_text("0")
    desk.post("/api/v1/counters/3/finish")


def test_the_live_view_in_english_and_closed_to_staff(page: Page, server: ServerProcess) -> None:
    sign_in(page, "staff1")
    response = page.goto("/admin/live")
    assert response is not None and response.status == 403
    expect(page.locator("h2")).to_have_text("Không có quyền truy cập")
    page.context.clear_cookies()
    sign_in(page, "admin")
    page.goto("/admin/live?lang=en")
    expect(page.locator("#alerts-title")).to_contain_text("Alerts")
    expect(page.locator("#live-label")).to_have_text("Live")
