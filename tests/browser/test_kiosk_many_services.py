"""The kiosk of a busy office that issues numbers for many services: with 19+ tiles on a portrait
1080×1920 screen the names must stay large enough for elderly citizens, wrapping rather than
shrinking, and nothing may overflow its tile. A module of its own: its server has the extra services."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.many_services import add_services
from tests.server_process import ServerProcess

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def busy_office(server: ServerProcess) -> Iterator[ServerProcess]:
    """The demo office with 19 active services, added through the admin API."""
    add_services(server, 19)
    yield server


MEASURE = """() => {
  const tiles = [...document.querySelectorAll('.tile')];
  const px = node => parseFloat(getComputedStyle(node).fontSize);
  const over = node => node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1;
  const inside = (child, box) => { const c = child.getBoundingClientRect(), b = box.getBoundingClientRect();
                                   return c.top >= b.top - 0.5 && c.bottom <= b.bottom + 0.5 &&
                                          c.left >= b.left - 0.5 && c.right <= b.right + 0.5; };
  const doc = document.scrollingElement;
  return {
    tiles: tiles.length,
    tile_height: Math.min(...tiles.map(t => t.getBoundingClientRect().height)),
    name_px: Math.min(...tiles.map(t => px(t.querySelector('.tile-name')))),
    info_px: Math.min(...tiles.map(t => px(t.querySelector('.tile-info')))),
    overflowing: tiles.filter(t => over(t) || ![...t.children].every(c => c.offsetParent === null || inside(c, t)))
                      .map(t => t.dataset.service),
    wrapped: tiles.filter(t => { const n = t.querySelector('.tile-name');
                                 const line = parseFloat(getComputedStyle(n).lineHeight);
                                 return n.getBoundingClientRect().height > 1.5 * line; }).length,
    scrolls: doc.scrollHeight > innerHeight || doc.scrollWidth > innerWidth,
  };
}"""


@pytest.mark.parametrize(("name", "size", "lang"), [("portrait", PORTRAIT, "vi"), ("portrait-en", PORTRAIT, "en"),
                                                    ("landscape", LANDSCAPE, "vi")])
def test_many_services_keep_large_wrapped_names(page: Page, busy_office: ServerProcess, name: str, size: dict,
                                                lang: str) -> None:
    page.set_viewport_size(size)
    page.goto("/kiosk?kiosk=kiosk-1")
    expect(page.locator(".tile")).to_have_count(19)
    expect(page.locator("body")).to_have_attribute("data-live", "online")
    if lang == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator(".tile[data-service='LLTP'] .tile-name")).to_have_text("Criminal record certificates")
    page.wait_for_function("document.fonts.status === 'loaded'")
    measured = page.evaluate(MEASURE)
    page.screenshot(path=f"/tmp/kiosk-19-{name}.png")
    assert measured["tiles"] == 19
    assert (measured["overflowing"], measured["scrolls"]) == ([], False), measured
    assert measured["name_px"] >= 24, measured
    assert measured["info_px"] >= 16, measured
    assert measured["wrapped"] > 0 or name == "landscape", measured   # long names wrap instead of shrinking

    page.set_viewport_size({"width": size["width"] - 40, "height": size["height"] - 60})   # a resize refits
    expect(page.locator(".tile").first).to_be_visible()
    resized = page.evaluate(MEASURE)
    assert (resized["overflowing"], resized["scrolls"]) == ([], False), resized
