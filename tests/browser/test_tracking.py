"""The ticket tracking page (/t/<token>, what the QR on a ticket opens) on phones in a real Chromium:
it follows the queue live and says which counter to go to when the number is called."""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from queue_server.services.demo import DEMO_PASSWORD
from tests.server_process import ServerProcess

from .kiosk_fixtures import update_row
from .test_kiosk import wait_text

if TYPE_CHECKING:
    from .conftest import PublicApi

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def phone(browser: Browser, server: ServerProcess, locale: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, locale=locale, **PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def phone_vi(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    yield from phone(browser, server, "vi-VN")


@pytest.fixture
def phone_en(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    yield from phone(browser, server, "en-US")


def staff_post(server: ServerProcess, path: str, username: str = "staff1") -> dict:
    """A counter action through the API, as the counter console sends it."""
    def post(url: str, body: dict | None, headers: dict) -> dict:
        request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    token = post(server.url + "/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD}, {})["token"]
    return post(server.url + "/api/v1" + path, None, {"Authorization": f"Bearer {token}"})


def test_a_phone_follows_its_ticket_until_called(phone_vi: Page, phone_en: Page, server: ServerProcess,
                                                 public: PublicApi) -> None:
    first = public.issue("HOTICH")
    second = public.issue("HOTICH")
    assert second["position"] == 1

    page = phone_vi
    page.goto(second["track_url"])
    expect(page.locator("#number")).to_have_text(second["number"])
    expect(page.locator("#status")).to_have_text("Đang chờ gọi số")
    expect(page.locator("#ahead")).to_have_text("1")
    expect(page.locator("#wait")).to_have_text(wait_text(second["estimated_wait_s"]))     # the kiosk's words
    expect(page.locator("#waiting")).to_contain_text("Số người chờ trước")
    expect(page.locator("#waiting")).to_contain_text("Thời gian chờ dự kiến")
    expect(page.locator("#called")).to_be_hidden()
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    phone_en.goto(first["track_url"])
    expect(phone_en.locator("#number")).to_have_text(first["number"])
    expect(phone_en.locator("#status")).to_have_text("Waiting to be called")
    expect(phone_en.locator("#ahead")).to_have_text("0")

    # Counter 1 calls the first ticket: the second phone sees nobody ahead, the first is called.
    assert staff_post(server, "/counters/1/call-next")["number"] == first["number"]
    expect(page.locator("#ahead")).to_have_text("0")
    expect(page.locator("#called")).to_be_hidden()
    expect(phone_en.locator("#called")).to_have_text("Please go to counter 1")
    expect(phone_en.locator("#status")).to_have_text("Being called")

    # Then the second one.
    assert staff_post(server, "/counters/1/call-next")["number"] == second["number"]
    expect(page.locator("#called")).to_be_visible()
    expect(page.locator("#called")).to_have_text("Mời đến quầy số 1")
    expect(page.locator("#status")).to_have_text("Đang được gọi")
    expect(phone_en.locator("#status")).to_have_text("Served. Thank you!")
    assert page.evaluate("window.sameDocument") is True
    page.screenshot(path="/tmp/tracking-called.png")


def test_the_tracking_page_names_the_service(phone_vi: Page, public: PublicApi) -> None:
    ticket = public.issue("CHUNGTHUC")
    phone_vi.goto(ticket["track_url"])
    expect(phone_vi.locator("#number")).to_have_text(ticket["number"])
    expect(phone_vi.locator("main")).to_contain_text("Chứng thực", timeout=1_000)


def test_a_called_ticket_no_longer_shows_people_ahead(phone_vi: Page, server: ServerProcess,
                                                      public: PublicApi) -> None:
    ticket = public.issue("HOKINHDOANH")
    phone_vi.goto(ticket["track_url"])
    expect(phone_vi.locator("#waiting")).to_be_visible()
    assert staff_post(server, "/counters/2/call-next", "staff2")["number"] == ticket["number"]
    expect(phone_vi.locator("#called")).to_have_text("Mời đến quầy số 2")
    expect(phone_vi.locator("#waiting")).to_be_hidden(timeout=1_000)


def test_an_unknown_ticket(phone_vi: Page, server: ServerProcess) -> None:
    response = phone_vi.goto(server.url + "/t/not-a-real-token")
    assert response is not None and response.status == 404
    expect(phone_vi.get_by_role("alert")).to_have_text("Không tìm thấy phiếu. Vui lòng kiểm tra lại mã QR trên phiếu.")


FOOTER = {
    "waiting": ("Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!",
                "Please keep your ticket and wait to be called. Thank you!"),
    "called": ("Mời Ông/Bà mang theo phiếu đến ngay quầy được gọi.", "Please bring your ticket to the counter now."),
    "finished": ("Lượt phục vụ theo phiếu này đã kết thúc. Cảm ơn Ông/Bà!",
                 "The visit for this ticket is over. Thank you!"),
    "no_show": ("Nếu Ông/Bà vẫn cần giải quyết, vui lòng mang phiếu đến quầy để được hướng dẫn.",
                "If you still need to be served, please bring your ticket to a counter for help."),
    "transferred": ("Vui lòng giữ phiếu và chờ gọi số ở dịch vụ mới. Xin cảm ơn!",
                    "Please keep your ticket and wait to be called for the new service. Thank you!"),
    "expired": ("Phiếu này không còn giá trị. Nếu cần, Ông/Bà vui lòng lấy số mới tại ki-ốt.",
                "This ticket is no longer valid. If needed, please take a new number at the kiosk."),
}


def update_ticket(server: ServerProcess, ticket_id: int, **values: object) -> None:
    """Changes a ticket straight in the server's SQLite file (the day's end expires waiting tickets)."""
    from queue_server.persistence.tables import tickets
    update_row(server, tickets, tickets.c.id == ticket_id, **values)


def no_informal_address(page: Page) -> None:
    """Citizens are "Ông/Bà" on this page, as in the rating question: never "bạn"."""
    text = page.locator("main").inner_text()
    assert "bạn" not in text.lower(), text


def test_the_last_line_follows_the_ticket(phone_vi: Page, phone_en: Page, server: ServerProcess,
                                          public: PublicApi) -> None:
    ticket = public.issue("BAOTRO")
    page = phone_vi
    page.goto(ticket["track_url"])
    expect(page.locator("main")).to_contain_text("Số thứ tự của Ông/Bà")
    expect(page.locator("#footer")).to_have_text(FOOTER["waiting"][0])
    expect(page.locator("#wait")).to_have_text(wait_text(ticket["estimated_wait_s"]))
    no_informal_address(page)
    phone_en.goto(ticket["track_url"])
    expect(phone_en.locator("#footer")).to_have_text(FOOTER["waiting"][1])
    expect(phone_en.locator("#wait")).to_have_text(wait_text(ticket["estimated_wait_s"], english=True))

    assert staff_post(server, "/counters/4/call-next", "staff4")["number"] == ticket["number"]
    expect(page.locator("#called")).to_have_text("Mời đến quầy số 4")
    expect(page.locator("#footer")).to_have_text(FOOTER["called"][0])
    expect(phone_en.locator("#footer")).to_have_text(FOOTER["called"][1])
    page.screenshot(path="/tmp/tracking-footer-called.png")

    staff_post(server, "/counters/4/finish", "staff4")
    expect(page.locator("#status")).to_have_text("Đã phục vụ xong. Xin cảm ơn!")
    expect(page.locator("#footer")).to_have_text(FOOTER["finished"][0])
    expect(phone_en.locator("#footer")).to_have_text(FOOTER["finished"][1])
    expect(page.locator("main")).not_to_contain_text("chờ gọi số")
    # The rating that follows speaks the same way.
    page.locator("#rate-levels button").first.click()
    expect(page.locator("#rate-done")).to_have_text("Cảm ơn Ông/Bà đã đánh giá!")
    page.reload()
    expect(page.locator("#footer")).to_have_text(FOOTER["finished"][0])
    expect(page.locator("#rate-done")).to_contain_text("Ông/Bà đã đánh giá: ")
    no_informal_address(page)
    page.screenshot(path="/tmp/tracking-footer-finished.png")


def test_a_missed_ticket_says_what_to_do(phone_vi: Page, server: ServerProcess, public: PublicApi) -> None:
    ticket = public.issue("BAOTRO")
    phone_vi.goto(ticket["track_url"])
    assert staff_post(server, "/counters/4/call-next", "staff4")["number"] == ticket["number"]
    expect(phone_vi.locator("#footer")).to_have_text(FOOTER["called"][0])
    staff_post(server, "/counters/4/no-show", "staff4")
    expect(phone_vi.locator("#status")).to_have_text("Đã gọi nhưng vắng mặt. Vui lòng liên hệ quầy.")
    expect(phone_vi.locator("#footer")).to_have_text(FOOTER["no_show"][0])


@pytest.mark.parametrize("status", ["transferred", "expired"])
def test_a_ticket_no_longer_in_the_queue_says_so(phone_vi: Page, phone_en: Page, server: ServerProcess,
                                                 public: PublicApi, status: str) -> None:
    ticket = public.issue("TRAKETQUA")
    update_ticket(server, ticket["id"], status=status)
    for page, lang in ((phone_vi, 0), (phone_en, 1)):
        page.goto(ticket["track_url"])
        expect(page.locator("#footer")).to_have_text(FOOTER[status][lang])
        expect(page.locator("#waiting")).to_be_hidden()
    no_informal_address(phone_vi)
