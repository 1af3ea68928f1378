"""Errors in a real Chromium against a real server: a sign-in form left open in a second tab, a cut-off QR
link, and the console of the pages staff and citizens open (no 404 for the site icon)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from queue_server.services.demo import DEMO_PASSWORD
from tests.server_process import ServerProcess

from .test_counter_console import sign_in

if TYPE_CHECKING:
    from .conftest import PublicApi

pytestmark = pytest.mark.browser


def test_a_second_tab_signs_in_after_the_first_signed_out(page: Page) -> None:
    second = page.context.new_page()
    second.goto("/login?next=/counter")                  # opened first, submitted last

    sign_in(page, "staff4")
    expect(page).to_have_url(re.compile(r"/counter$"))
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(re.compile(r"/login$"))

    second.locator("#username").fill("staff4")
    second.locator("#password").fill(DEMO_PASSWORD)
    second.locator("form button[type=submit]").click()
    expect(second.get_by_role("alert")).to_have_text("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.")
    expect(second.locator("#username")).to_have_value("staff4")
    expect(second.locator("#password")).to_be_focused()
    second.locator("#password").fill(DEMO_PASSWORD)
    second.locator("form button[type=submit]").click()
    expect(second).to_have_url(re.compile(r"/counter$"))


def test_a_cut_off_qr_link_explains_itself_in_both_languages(page: Page) -> None:
    response = page.goto("/t/")
    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Không tìm thấy địa chỉ này.")).to_be_visible()
    expect(page.get_by_text("This address does not exist.")).to_be_visible()
    assert page.locator("header.bar").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(161, 18, 27)"
    page.get_by_role("link", name=re.compile("Về trang đầu")).click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_pages_ask_for_no_missing_icon(browser: Browser, server: ServerProcess, public: PublicApi) -> None:
    context = browser.new_context(base_url=server.url, locale="vi-VN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if _is_error(msg) else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        ticket = public.issue("HOTICH")
        page.goto(ticket["track_url"])
        expect(page.locator("h1")).to_be_visible()
        page.goto("/login")
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert icon is not None
        answer = page.request.get(icon)
        assert answer.status == 200 and answer.headers["content-type"].startswith("image/")
        sign_in(page, "admin")
        expect(page).to_have_url(re.compile(r"/counter$"))
        page.goto("/admin/settings")
        expect(page.locator("h1")).to_be_visible()
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert not problems, problems


def _is_error(msg: ConsoleMessage) -> bool:
    return msg.type == "error"
