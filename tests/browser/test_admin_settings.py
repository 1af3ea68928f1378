"""The admin's settings page in a real Chromium against a real server: a change reaches the kiosk at once,
the ticket preview follows the typing, a bad value is refused beside its field, staff are kept out and
supervisors only read."""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from queue_server.domain.clock import SystemClock
from queue_server.domain.model import Role
from queue_server.persistence.database import Database
from queue_server.services.auth import AuthService
from queue_server.services.demo import DEMO_PASSWORD
from tests.server_process import ServerProcess

from .conftest import PublicApi

pytestmark = pytest.mark.browser

SUPERVISOR = "lanhdao"
MEASURE = "img => ({bytes: +img.dataset.bytes, height: img.naturalHeight, width: img.naturalWidth})"


@pytest.fixture(scope="module")
def supervisor(server: ServerProcess) -> Iterator[str]:
    db = Database(f"sqlite:///{server.var_dir / 'motcua.db'}")
    try:
        with db.read() as conn:
            office = conn.exec_driver_sql("SELECT id FROM offices WHERE code = 'demo'").scalar_one()
        AuthService(db, SystemClock()).create_user(SUPERVISOR, DEMO_PASSWORD, Role.SUPERVISOR, office,
                                                   full_name="Lãnh đạo bộ phận")
    finally:
        db.dispose()
    yield SUPERVISOR


def sign_in(page: Page, username: str, section: str = "office") -> None:
    page.goto("/login?next=/admin/settings")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/settings")
    open_section(page, section)


def open_section(page: Page, section: str) -> None:
    page.goto(f"/admin/settings#{section}")
    expect(page.locator("body")).to_have_attribute("data-section", section)


def listed(server: ServerProcess, code: str) -> dict:
    with urllib.request.urlopen(server.url + "/api/v1/services", timeout=5) as response:
        return next(s for s in json.loads(response.read())["services"] if s["code"] == code)


def test_closing_a_service_reaches_the_kiosk_at_once(page: Page, server: ServerProcess, public: PublicApi) -> None:
    sign_in(page, "admin", "services")
    form = page.locator("#service-form")
    page.locator("#services-table tr[data-service='XAYDUNG'] button", has_text="Sửa").click()
    expect(form.locator(".editor-title")).to_have_text("Dịch vụ XAYDUNG")
    expect(form.locator(".window")).to_have_count(7)
    for _ in range(7):                                    # every day closed
        form.locator(".window button").first.click()
    expect(form.locator(".hours-day .closed")).to_have_count(7)
    form.get_by_role("button", name="Lưu").click()
    expect(form.locator(".form-note")).to_have_text("Đã lưu.")
    assert listed(server, "XAYDUNG")["open_now"] is False
    try:
        kiosk = page.context.new_page()
        kiosk.goto("/kiosk?kiosk=kiosk-1")
        tile = kiosk.locator(".tile[data-service='XAYDUNG']")
        expect(tile).to_be_disabled()
        expect(tile.locator(".tile-info")).to_have_text("Ngoài giờ cấp số")
        expect(kiosk.locator(".tile[data-service='HOTICH']")).to_be_enabled()
        status, answer = public._call("POST", "/api/v1/tickets", {"service": "XAYDUNG"})
        assert (status, answer["error"]["code"]) == (409, "service_closed")
    finally:
        form.get_by_role("button", name="Cả ngày, mọi ngày").click()
        form.get_by_role("button", name="Lưu").click()
        expect(form.locator(".window")).to_have_count(7)
        expect(form.locator(".form-note")).to_have_text("Đã lưu.")
    kiosk.reload()
    expect(kiosk.locator(".tile[data-service='XAYDUNG']")).to_be_enabled()
    assert listed(server, "XAYDUNG")["open_now"] is True


def test_the_ticket_preview_follows_the_header_as_it_is_typed(page: Page) -> None:
    sign_in(page, "admin", "ticket")
    preview = page.locator("#ticket-preview")
    expect(preview).to_have_attribute("data-seq", "1")
    first = preview.evaluate(MEASURE)
    assert first["width"] == 576 and first["height"] > 300
    page.fill("#ticket-header", "UBND PHƯỜNG HÒA BÌNH\nBộ phận Tiếp nhận và Trả kết quả\nĐiện thoại: 024 3826 0000")
    expect(preview).not_to_have_attribute("data-seq", "1")
    page.wait_for_function("() => document.getElementById('ticket-preview').naturalHeight > 0")
    second = preview.evaluate(MEASURE)
    assert second["bytes"] != first["bytes"] and second["height"] > first["height"]
    page.select_option("#ticket-paper", "384")
    page.wait_for_function("() => document.getElementById('ticket-preview').naturalWidth === 384")
    page.fill("#ticket-header", "x" * 61)                 # refused beside the field, as the admin types
    expect(page.locator("[data-field='header_lines'] .field-error")).to_contain_text("Tối đa 60 ký tự")


def test_a_daily_limit_of_minus_one_is_refused_beside_the_field(page: Page, server: ServerProcess) -> None:
    sign_in(page, "admin", "services")
    form = page.locator("#service-form")
    page.locator("#services-table tr[data-service='HOTICH'] button", has_text="Sửa").click()
    form.locator("#service-daily-limit").fill("-1")
    form.get_by_role("button", name="Lưu").click()
    error = form.locator("[data-field='daily_limit'] .field-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Giới hạn mỗi ngày là số từ 1 đến 999")
    expect(form.locator("#service-daily-limit")).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".form-alert")).to_have_text("Vui lòng sửa các ô được đánh dấu.")
    expect(form.locator(".form-note")).to_have_text("")
    assert listed(server, "HOTICH")["daily_limit"] is None
    page.goto("/admin/audit?lang=en")
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#audit-table tbody tr[data-entity='service'] td", has_text="HOTICH")).to_have_count(0)


def test_staff_get_the_forbidden_page(page: Page) -> None:
    page.goto("/login?next=/admin/settings")
    page.fill("#username", "staff1")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/settings")
    response = page.goto("/admin/settings")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Không có quyền truy cập")).to_be_visible()
    assert page.request.get("/api/v1/admin/users").status == 403


def test_supervisors_see_read_only_forms(page: Page, supervisor: str) -> None:
    sign_in(page, supervisor)
    expect(page.locator(".read-only")).to_be_visible()
    name = page.locator("#office-name")
    expect(name).to_have_value("Trung tâm Phục vụ hành chính công phường Hòa Bình (bản trình diễn)")
    expect(name).to_be_disabled()
    expect(page.locator(".sections button[type=submit]")).to_have_count(0)
    open_section(page, "services")
    expect(page.locator("#services-table tbody tr")).to_have_count(8)
    expect(page.locator("#add-service")).to_have_count(0)
    expect(page.locator("#services-table button", has_text="↑")).to_have_count(0)
    page.locator("#services-table tr[data-service='HOTICH'] button", has_text="Xem").click()
    expect(page.locator("#service-name-vi")).to_have_value("Hộ tịch")
    expect(page.locator("#service-name-vi")).to_be_disabled()
    expect(page.locator("#service-form .window input").first).to_be_disabled()
    open_section(page, "ticket")                  # the preview is a read: supervisors see it too
    expect(page.locator("#ticket-preview")).to_have_attribute("data-seq", "1")
    expect(page.locator("#ticket-header")).to_be_disabled()
