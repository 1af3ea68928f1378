"""The counter's rating tablet (/rate/<counter>) and the rating on the tracking page, in a real Chromium
against a real server: a counter finishes a visit, the citizen taps a level, the rating is stored once.

Tests share one server, so each uses its own counter. Screenshots land in /tmp/motcua-rating-*.png.
"""
from __future__ import annotations

import io
import itertools
import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
import socketio
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from queue_server.persistence.tables import ratings, services, users
from tests.server_process import ServerProcess

from .kiosk_fixtures import revoke_token
from .test_display import Desk

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1280, "height": 800}
PORTRAIT = {"width": 800, "height": 1280}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
QUESTION = "Ông/Bà đánh giá thế nào về thái độ phục vụ của công chức?"
_codes = itertools.count(1)


def open_context(browser: Browser, server: ServerProcess, **options: object) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, locale="vi-VN", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def tablet(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    yield from open_context(browser, server, viewport=LANDSCAPE, has_touch=True)


@pytest.fixture
def phone(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    yield from open_context(browser, server, **PHONE)


def rating_token(server: ServerProcess, counter: int) -> str:
    admin = Desk(server, "admin")
    return admin.post("/api/v1/devices/token", {"kind": "rating", "code": f"rate-t{next(_codes)}",
                                                "counter": counter})["token"]


def serve(server: ServerProcess, counter: int, service: str) -> dict:
    """A visit at the counter from issue to finish, as the counter console does it."""
    desk = Desk(server, f"staff{counter}")
    ticket = desk.issue(service)
    assert desk.call(counter)["number"] == ticket["number"]
    desk.post(f"/api/v1/counters/{counter}/finish")
    return ticket


def stored(server: ServerProcess, ticket_id: int) -> list[dict]:
    """The ratings of a ticket, read from the server's database, with the officer and service named."""
    engine = sa.create_engine(f"sqlite:///{server.var_dir / 'motcua.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(ratings, users.c.username, services.c.code.label("service"))
                .join(users, users.c.id == ratings.c.user_id).join(services, services.c.id == ratings.c.service_id)
                .where(ratings.c.ticket_id == ticket_id)).mappings().all()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def open_tablet(page: Page, counter: int, token: str | None, query: str = "thanks=2") -> None:
    params = "&".join(p for p in ([f"token={token}"] if token else []) + [query] if p)
    page.goto(f"/rate/{counter}" + (f"?{params}" if params else ""))


def test_a_finished_visit_is_rated_on_the_tablet_once(tablet: Page, server: ServerProcess) -> None:
    token = rating_token(server, 3)
    open_tablet(tablet, 3, token)
    body = tablet.locator("body")
    expect(body).to_have_attribute("data-screen", "idle")
    expect(body).to_have_attribute("data-live", "online")
    assert "token=" not in tablet.url                           # remembered, not left in the address bar
    expect(tablet.locator("#counter-number")).to_have_text("Quầy 3")
    expect(tablet.locator("#counter-name")).to_have_text("Đất đai")
    expect(tablet.locator("#officer-name")).to_have_text("Cán bộ quầy 3")
    expect(tablet.locator("#idle")).to_contain_text("Mời quý vị đánh giá sau khi được phục vụ")
    tablet.screenshot(path="/tmp/motcua-rating-idle.png")

    ticket = serve(server, 3, "DATDAI")
    expect(body).to_have_attribute("data-screen", "ask")
    expect(tablet.locator("#question-vi")).to_have_text(QUESTION)
    expect(tablet.locator("#question-en")).to_have_text("How would you rate the officer's attitude?")
    expect(tablet.locator("#visit")).to_have_text(f"Phiếu {ticket['number']} · Đất đai")
    levels = tablet.locator("#levels .level")
    expect(levels).to_have_count(3)
    assert levels.locator(".level-vi").all_text_contents() == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    assert levels.locator(".level-en").all_text_contents() == ["Very satisfied", "Satisfied", "Not satisfied"]
    for i in range(3):
        box = levels.nth(i).bounding_box()
        assert box is not None and box["height"] >= 120 and box["y"] + box["height"] <= LANDSCAPE["height"], box
    colours = [levels.nth(i).evaluate("b => getComputedStyle(b).backgroundColor") for i in range(3)]
    assert len(set(colours)) == 3                              # green, blue, red
    tablet.screenshot(path="/tmp/motcua-rating-ask-landscape.png")

    tablet.evaluate("window.sameDocument = true")
    satisfied = tablet.locator("#levels .level[data-level='satisfied']")
    satisfied.dispatch_event("click")
    satisfied.dispatch_event("click")                          # a double tap counts once
    expect(body).to_have_attribute("data-screen", "thanks")
    satisfied.dispatch_event("click")                          # …and so does a tap queued behind the thanks
    time.sleep(0.3)
    expect(body).to_have_attribute("data-screen", "thanks")
    assert tablet.evaluate("document.body.dataset.notice") is None
    expect(tablet.locator("#thanks")).to_contain_text("Cảm ơn Ông/Bà đã đánh giá!")
    tablet.screenshot(path="/tmp/motcua-rating-thanks.png")
    expect(body).to_have_attribute("data-screen", "idle", timeout=6_000)
    assert tablet.evaluate("window.sameDocument") is True

    [rating] = stored(server, ticket["id"])
    assert (rating["level"], rating["score"], rating["satisfied"], rating["channel"]) == (
        "satisfied", 2, True, "tablet")
    assert (rating["username"], rating["service"]) == ("staff3", "DATDAI")

    tablet.reload()                                            # a reload does not ask again
    expect(body).to_have_attribute("data-screen", "idle")
    time.sleep(0.5)
    expect(body).to_have_attribute("data-screen", "idle")
    status, answer = Desk(server, "admin")._send("POST", "/api/v1/ratings",
                                                 {"ticket_id": ticket["id"], "level": "very_satisfied"}, token)
    assert (status, answer["error"]["code"]) == (409, "already_rated")
    assert len(stored(server, ticket["id"])) == 1


def test_not_satisfied_asks_why_in_portrait(browser: Browser, server: ServerProcess) -> None:
    for tablet in open_context(browser, server, viewport=PORTRAIT, has_touch=True):
        open_tablet(tablet, 4, rating_token(server, 4))
        body = tablet.locator("body")
        expect(body).to_have_attribute("data-screen", "idle")
        tablet.screenshot(path="/tmp/motcua-rating-idle-portrait.png")
        ticket = serve(server, 4, "BAOTRO")
        expect(body).to_have_attribute("data-screen", "ask")
        levels = tablet.locator("#levels .level")
        boxes = [levels.nth(i).bounding_box() for i in range(3)]
        assert all(b is not None and b["height"] >= 120 for b in boxes)
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]       # stacked
        assert boxes[2]["y"] + boxes[2]["height"] <= PORTRAIT["height"]
        tablet.screenshot(path="/tmp/motcua-rating-ask-portrait.png")

        tablet.locator("#levels .level[data-level='unsatisfied']").tap()
        expect(body).to_have_attribute("data-screen", "reason")
        expect(tablet.locator("#reason-title")).to_contain_text("Xin Ông/Bà cho biết lý do")
        chips = tablet.locator("#reason-list .chip")
        expect(chips).to_have_count(4)
        chips.nth(2).tap()
        expect(chips.nth(2)).to_have_attribute("aria-pressed", "true")
        tablet.locator("#reason-text").fill("Chờ gần một tiếng")
        tablet.screenshot(path="/tmp/motcua-rating-reason-portrait.png")
        tablet.locator("#reason-send").tap()
        expect(body).to_have_attribute("data-screen", "thanks")
        [rating] = stored(server, ticket["id"])
        assert (rating["level"], rating["satisfied"], rating["username"]) == ("unsatisfied", False, "staff4")
        assert rating["reason"] == "Giải quyết chậm, phải chờ lâu; Chờ gần một tiếng"


def test_a_device_of_another_counter_is_told_clearly(tablet: Page, server: ServerProcess) -> None:
    open_tablet(tablet, 1, rating_token(server, 2))
    expect(tablet.locator("body")).to_have_attribute("data-screen", "refused")
    expect(tablet.locator("#refused-title")).to_have_text("Thiết bị đánh giá chưa hoạt động")
    expect(tablet.locator("#refused-staff-vi")).to_have_text("Cán bộ: mã thiết bị này thuộc quầy khác.")
    expect(tablet.locator("#refused-detail").first).to_contain_text(
        "Thiết bị đánh giá này được cấp cho quầy 2, không phải quầy 1.")
    tablet.screenshot(path="/tmp/motcua-rating-wrong-counter.png")


def test_a_missing_or_revoked_token_is_explained_to_the_staff(tablet: Page, server: ServerProcess) -> None:
    open_tablet(tablet, 4, None, "")
    expect(tablet.locator("body")).to_have_attribute("data-screen", "refused")
    expect(tablet.locator("#refused-staff-vi")).to_contain_text("trang này cần mã thiết bị đánh giá của quầy 4")

    token = rating_token(server, 4)
    open_tablet(tablet, 4, token)
    expect(tablet.locator("body")).to_have_attribute("data-screen", "idle")
    revoke_token(server, token)
    tablet.reload()
    expect(tablet.locator("body")).to_have_attribute("data-screen", "refused")
    expect(tablet.locator("#refused-staff-vi")).to_contain_text("không hợp lệ hoặc đã bị thu hồi")


def test_a_keypad_press_thanks_the_citizen_on_the_tablet(tablet: Page, server: ServerProcess) -> None:
    token = rating_token(server, 2)
    open_tablet(tablet, 2, token)
    body = tablet.locator("body")
    expect(body).to_have_attribute("data-screen", "idle")
    ticket = serve(server, 2, "HOKINHDOANH")
    expect(body).to_have_attribute("data-screen", "ask")
    keypad = socketio.Client()
    keypad.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    try:
        answer = keypad.call("rating_key", {"token": token, "position": 1}, timeout=10)
        assert answer["ok"] is True and answer["rating"]["level"] == "very_satisfied", answer
        expect(body).to_have_attribute("data-screen", "thanks")
        again = keypad.call("rating_key", {"token": token, "position": 3}, timeout=10)
        assert again["ok"] is False and again["error"]["code"] == "nothing_to_rate", again
    finally:
        keypad.disconnect()
    [rating] = stored(server, ticket["id"])
    assert (rating["channel"], rating["username"]) == ("keypad", "staff2")


def test_the_tracking_page_rates_the_visit_after_it(phone: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff5")
    ticket = desk.issue("TRAKETQUA")
    phone.goto(ticket["track_url"])
    expect(phone.locator("#number")).to_have_text(ticket["number"])
    expect(phone.locator("#rate")).to_be_hidden()              # nothing to rate before the visit
    assert desk.call(5)["number"] == ticket["number"]
    desk.post("/api/v1/counters/5/finish")
    expect(phone.locator("#status")).to_have_text("Đã phục vụ xong. Xin cảm ơn!")
    box = phone.locator("#rate")
    expect(box).to_be_visible()
    expect(phone.locator("#rate-question")).to_have_text(QUESTION)
    expect(phone.locator("#rate-levels button")).to_have_count(3)
    phone.screenshot(path="/tmp/motcua-rating-track-open.png")
    phone.locator("#rate-levels button[data-level='very_satisfied']").tap()
    expect(phone.locator("#rate-done")).to_have_text("Cảm ơn Ông/Bà đã đánh giá!")
    [rating] = stored(server, ticket["id"])
    assert (rating["level"], rating["channel"], rating["username"], rating["service"]) == (
        "very_satisfied", "web", "staff5", "TRAKETQUA")

    phone.reload()
    expect(phone.locator("#rate-done")).to_have_text("Ông/Bà đã đánh giá: Rất hài lòng")
    expect(phone.locator("#rate-levels")).to_be_hidden()
    phone.screenshot(path="/tmp/motcua-rating-track-rated.png")
    phone.goto(ticket["track_url"] + "?lang=en")
    expect(phone.locator("#rate-done")).to_have_text("You rated: Very satisfied")


def test_the_idle_tablet_shows_the_officers_photo(tablet: Page, server: ServerProcess) -> None:
    token = rating_token(server, 1)
    open_tablet(tablet, 1, token)
    expect(tablet.locator("body")).to_have_attribute("data-screen", "idle")
    expect(tablet.locator("#photo-img")).to_be_hidden()
    expect(tablet.locator("#photo-blank")).to_be_visible()
    _, state = Desk(server, "admin")._send("GET", "/api/v1/rating/state", None, token)
    picture = io.BytesIO()
    Image.new("RGB", (600, 800), (30, 90, 160)).save(picture, "JPEG")
    headers = {"Content-Type": "image/jpeg", "Authorization": f"Bearer {Desk(server, 'admin').token}"}
    request = urllib.request.Request(f"{server.url}/api/v1/users/{state['officer']['id']}/photo", method="PUT",
                                     data=picture.getvalue(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["content_type"] == "image/jpeg"
    tablet.reload()
    photo = tablet.locator("#photo-img")
    expect(photo).to_be_visible()
    tablet.wait_for_function("() => document.getElementById('photo-img').naturalWidth === 384")
    expect(tablet.locator("#photo-blank")).to_be_hidden()
    tablet.screenshot(path="/tmp/motcua-rating-idle-photo.png")


def test_a_rating_not_sent_or_refused_is_said_clearly(tablet: Page, server: ServerProcess) -> None:
    open_tablet(tablet, 5, rating_token(server, 5), "thanks=3")
    body = tablet.locator("body")
    expect(body).to_have_attribute("data-screen", "idle")
    ticket = serve(server, 5, "TRAKETQUA")
    expect(body).to_have_attribute("data-screen", "ask")

    tablet.route("**/api/v1/ratings", lambda route: route.abort("connectionrefused"))
    tablet.locator("#levels .level[data-level='very_satisfied']").tap()
    expect(tablet.locator("#ask-error")).to_have_text(
        "Chưa gửi được đánh giá — mất kết nối. Xin vui lòng chạm lại. · "
        "The rating was not sent — no connection. Please touch again.")
    expect(body).to_have_attribute("data-screen", "ask")            # the question stays: touch again
    assert stored(server, ticket["id"]) == []

    tablet.unroute("**/api/v1/ratings")
    tablet.route("**/api/v1/ratings", lambda route: route.fulfill(status=409, json={"error": {
        "code": "already_rated", "message": "x", "message_vi": "Lượt phục vụ này đã được đánh giá.",
        "message_en": "This visit has already been rated."}}))
    tablet.locator("#levels .level[data-level='very_satisfied']").tap()
    expect(body).to_have_attribute("data-screen", "notice")
    expect(tablet.locator("#notice-title")).to_have_text("Lượt phục vụ này đã được đánh giá")
    expect(tablet.locator("#notice-en")).to_have_text("This visit has already been rated.")
    tablet.screenshot(path="/tmp/motcua-rating-notice.png")
    expect(body).to_have_attribute("data-screen", "idle", timeout=6_000)
    assert stored(server, ticket["id"]) == []        # the page does not ask again about a visit it saw refused
