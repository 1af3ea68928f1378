"""The admin's live view in Chromium: the real hardware agent reports its printer out of paper, and the
page raises the alert without a reload; it clears when the paper is back. Queues and counters follow calls."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

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


def test_times_are_the_office_s_in_a_browser_set_to_utc(browser: Browser, server: ServerProcess,
                                                        printer: FakeTcpPrinter) -> None:
    """The office is in Asia/Ho_Chi_Minh (UTC+7) and so are its reports and change log; a browser set to
    UTC must still show the office's clock, not one seven hours behind. (The printer's agent is a device
    that has been seen.)"""
    context = browser.new_context(base_url=server.url, locale="vi-VN", timezone_id="UTC")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        assert page.evaluate("new Date().getTimezoneOffset()") == 0
        sign_in(page, "admin")
        page.goto("/admin/live")
        expect(page.locator("#updated")).to_have_text(re.compile(r"^Cập nhật lúc \d\d:\d\d:\d\d \d\d/\d\d$"))
        office_now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)
        shown = datetime.strptime(f"{office_now.year} " + page.inner_text("#updated").removeprefix("Cập nhật lúc "),
                                  "%Y %H:%M:%S %d/%m")
        assert abs(shown - office_now) < timedelta(minutes=5), (shown, office_now)   # UTC would be 7 h off
        # A device's last contact is on the same clock.
        live = page.request.get("/api/v1/live").json()
        device = next(d for d in live["devices"] if d["last_seen"])
        seen = datetime.fromisoformat(device["last_seen"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        expect(page.locator(f"#device-rows tr[data-device='{device['code']}'] td").nth(3)).to_have_text(
            seen.strftime("%H:%M:%S %d/%m"))
    finally:
        context.close()
