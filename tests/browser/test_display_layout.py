"""The hall board with many services, in a real Chromium: names stay readable from across the hall.

This module's server gets extra services (a provincial centre has twenty lĩnh vực and more), so it has its
own server (the fixture is per module) and the other display tests keep the demo office's eight.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.many_services import add_services
from tests.browser.test_display import LANDSCAPE, NO_OVERFLOW, PORTRAIT, SMALL_LANDSCAPE, open_board
from tests.server_process import ServerProcess

pytestmark = pytest.mark.browser

MEASURE = """() => [...document.querySelectorAll('#waiting-list .wait')].map(item => {
    const size = e => e && getComputedStyle(e).display !== 'none' && e.textContent.trim()
        ? parseFloat(getComputedStyle(e).fontSize) : null;
    const name = item.querySelector('.w-name .vi');
    return {service: item.dataset.service, name: size(name), en: size(item.querySelector('.w-name .en')),
            count: size(item.querySelector('.w-count')), cut: name.scrollWidth > name.clientWidth + 1};
})"""


def readable(page: Page, size: dict) -> list[dict]:
    """The waiting list as shown; asserts nothing is cut, spills off the screen or is too small to read."""
    page.evaluate("document.fonts.ready")
    result = page.evaluate(NO_OVERFLOW)
    assert result["problems"] == [], result
    rows = page.evaluate(MEASURE)
    least = 0.8 * min(size["width"], size["height"]) / 54      # .8rem: 16 px at 1080, the board's rem
    assert all(r["name"] >= least - 0.01 and not r["cut"] for r in rows), rows
    assert all(r["en"] is None or r["en"] >= least * 0.75 / 0.8 - 0.01 for r in rows), rows
    assert all(r["count"] >= least - 0.01 for r in rows), rows
    return rows


@pytest.mark.parametrize("size", [LANDSCAPE, SMALL_LANDSCAPE, PORTRAIT], ids=["1920x1080", "1366x768", "1080x1920"])
def test_nineteen_services_are_listed_at_a_readable_size(page: Page, server: ServerProcess, size: dict) -> None:
    add_services(server, 19)
    open_board(page, size=size)
    rows = readable(page, size)
    assert len(rows) == 19                                       # all on one screen, no pages
    expect(page.locator("#waiting-page")).to_be_hidden()
    if size == LANDSCAPE:
        assert min(r["name"] for r in rows) >= 16, rows
    page.screenshot(path=f"/tmp/motcua-display-19-services-{size['width']}x{size['height']}.png")


def test_more_services_than_fit_take_turns_a_page_at_a_time(page: Page, server: ServerProcess) -> None:
    add_services(server, 30)
    open_board(page, size=LANDSCAPE)
    first = readable(page, LANDSCAPE)
    assert 0 < len(first) < 30
    expect(page.locator("#waiting-page")).to_be_visible()
    expect(page.locator("#waiting-page")).to_have_text("1/2")
    page.screenshot(path="/tmp/motcua-display-30-services-1920x1080.png")
    expect(page.locator("#waiting-page")).to_have_text("2/2", timeout=20_000)    # the next page comes by itself
    second = readable(page, LANDSCAPE)
    assert sorted(r["service"] for r in first + second) == sorted(
        page.evaluate("fetch('/api/v1/services').then(r => r.json()).then(b => b.services"
                      ".filter(s => s.active !== false).map(s => s.code))"))    # every service, once
