"""The hall display board in a real Chromium against a real server: what the hall sees.

Tests share one server (starting one costs seconds), so each asserts only on the calls it made; the
numbers come from the server's answers, never guessed. Screenshots land in /tmp/motcua-display-*.png.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from queue_server.services.demo import DEMO_PASSWORD
from tests.server_process import ServerProcess

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1920, "height": 1080}
SMALL_LANDSCAPE = {"width": 1366, "height": 768}
PORTRAIT = {"width": 1080, "height": 1920}
WEEKDAYS_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]   # Monday first
HOLD = "hold=1"   # a new call stays highlighted 1 s here (6 s in a hall), so bursts pass quickly


class Desk:
    """Counter actions through the REST API with a bearer token, as a counter console sends them."""

    def __init__(self, server: ServerProcess, username: str) -> None:
        self.base_url = server.url
        status, body = self._send("POST", "/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD})
        assert status == 200, body
        self.token = body["token"]

    def _send(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def post(self, path: str, body: dict | None = None) -> dict:
        status, answer = self._send("POST", path, body if body is not None else {}, self.token)
        assert status in (200, 201), (path, status, answer)
        return answer

    def put(self, path: str, body: dict) -> dict:
        status, answer = self._send("PUT", path, body, self.token)
        assert status == 200, (path, status, answer)
        return answer

    def issue(self, service: str) -> dict:
        status, ticket = self._send("POST", "/api/v1/tickets", {"service": service})
        assert status == 201, ticket
        return ticket

    def call_next(self, counter: int) -> str:
        return self.call(counter)["number"]

    def call(self, counter: int) -> dict:
        return self.post(f"/api/v1/counters/{counter}/call-next")

    def waiting(self, service: str) -> int:
        status, body = self._send("GET", "/api/v1/services")
        assert status == 200, body
        return next(s["waiting"] for s in body["services"] if s["code"] == service)

    def display_token(self, code: str, board: dict) -> str:
        return self.post("/api/v1/devices/token", {"kind": "display", "code": code, "board": board})["token"]


def open_board(page: Page, query: str = HOLD, size: dict | None = None) -> None:
    """The board, ready: first snapshot drawn and the live connection up."""
    page.set_viewport_size(size or LANDSCAPE)
    page.goto("/display" + ("?" + query if query else ""))
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    expect(page.locator("body")).to_have_attribute("data-live", "online")


def watch_calls(page: Page) -> None:
    """Records every number the big panel shows from now on, in order (window.shownCalls), when it came
    (window.shownAt, performance.now() in ms) and whether a recall was ever shown (window.recallShown)."""
    page.evaluate("""() => {
        window.shownCalls = [];
        window.shownAt = [];
        window.recallShown = false;
        const panel = document.getElementById('now');
        const showing = () => panel.dataset.mode === 'idle' ? null : document.getElementById('call-number').textContent;
        let last = showing();                   // already on screen: not news
        const note = () => {
            const number = showing();
            if (panel.dataset.mode === 'recall') { window.recallShown = true; }
            if (number !== null && number !== last) {
                window.shownCalls.push(number);
                window.shownAt.push(performance.now());
            }
            last = number === null ? last : number;
        };
        new MutationObserver(note).observe(panel, {subtree: true, childList: true, characterData: true,
                                                   attributes: true});
    }""")


def recent_numbers(page: Page) -> list[str]:
    return page.locator("#recent-list .r-number").all_text_contents()


def test_a_call_shows_large_in_the_table_and_in_the_last_calls(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff1")
    open_board(page, "hold=2")
    page.evaluate("window.sameDocument = true")   # gone if anything reloads the page
    hall_time = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    expect(page.locator("#office-name")).to_have_text(
        "Trung tâm Phục vụ hành chính công phường Hòa Bình (bản trình diễn)")
    expect(page.locator("#date-vi")).to_have_text(f"{WEEKDAYS_VI[hall_time.weekday()]}, {hall_time:%d/%m/%Y}")
    clock = page.locator("#clock").text_content()
    assert clock in {f"{hall_time + timedelta(minutes=m):%H:%M}" for m in (-1, 0, 1)}, clock
    expect(page.locator("#counter-list .counter-row")).to_have_count(5)
    expect(page.locator("#waiting-list .wait")).to_have_count(8)
    expect(page.locator("#offline")).to_be_hidden()

    desk.issue("HOTICH")
    waiting = page.locator("#waiting-list .wait[data-service='HOTICH'] .w-count")
    expect(waiting).to_have_text(str(desk.waiting("HOTICH")))
    number = desk.call_next(1)

    now = page.locator("#now")
    expect(page.locator("#call-number")).to_have_text(number)
    expect(now).to_have_attribute("data-mode", "call")
    expect(now).to_have_class("panel now fresh")                       # highlighted…
    expect(page.locator("#now-label-vi")).to_have_text("Xin mời số")
    expect(page.locator("#call-counter")).to_have_text("1")
    expect(page.locator("#call-service")).to_have_text("Hộ tịch")
    expect(page.locator("#call-service-en")).to_have_text("Civil status registration")
    row = page.locator("#counter-list .counter-row[data-counter='1']")
    expect(row.locator(".c-ticket")).to_have_text(number)
    expect(row).to_have_class("counter-row fresh")
    first = page.locator("#recent-list .recent-call").first
    expect(first.locator(".r-number")).to_have_text(number)
    expect(first.locator(".r-counter")).to_have_text("Quầy 1")
    expect(waiting).to_have_text(str(desk.waiting("HOTICH")))
    expect(now).to_have_class("panel now", timeout=5_000)              # …for a few seconds
    expect(page.locator("#call-number")).to_have_text(number)          # and stays while it is served
    assert page.locator("#call-number").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") > 150

    # A recall is announced again; the last calls move the number up instead of listing it twice.
    desk.post("/api/v1/counters/1/recall")
    expect(page.locator("#now-label-vi")).to_have_text("Gọi lại số")
    expect(now).to_have_attribute("data-mode", "recall")
    expect(now).to_have_class("panel now fresh")
    expect(first).to_have_attribute("data-recall", "true")
    ticket = first.get_attribute("data-ticket")
    expect(page.locator(f"#recent-list .recent-call[data-ticket='{ticket}']")).to_have_count(1)

    # Once the citizen is done, the number is no longer shown as the current call.
    desk.post("/api/v1/counters/1/finish")
    expect(now).to_have_attribute("data-mode", "idle")
    expect(now).to_contain_text("Mời quý vị chờ đến lượt")
    expect(row.locator(".c-ticket")).to_have_text("—")
    expect(first.locator(".r-number")).to_have_text(number)            # still among the last calls
    assert page.evaluate("window.sameDocument") is True


def test_the_boards_websocket_is_not_compressed(page: Page, server: ServerProcess) -> None:
    """Chromium offers permessage-deflate on every websocket; the server declines it (a compressor per
    board and a deflate per board per event would cost more than the bytes it saves on a LAN)."""
    open_board(page)
    extensions = page.evaluate("""() => new Promise((resolve, reject) => {
        const ws = new WebSocket(location.origin.replace('http', 'ws') + '/socket.io/?EIO=4&transport=websocket');
        ws.onopen = () => { resolve(ws.extensions); ws.close(); };
        ws.onerror = () => reject(new Error('websocket failed'));
    })""")
    assert extensions == ""
    expect(page.locator("#offline")).to_be_hidden()                     # and the board itself is live


def test_a_burst_of_calls_is_shown_one_after_another_in_order(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "admin")
    for service in ("DATDAI", "BAOTRO", "HOKINHDOANH", "TRAKETQUA", "HOTICH"):
        desk.issue(service)
    open_board(page)
    watch_calls(page)

    # Five counters call back to back: each call is still current when its turn comes (a counter calling
    # twice in a burst is test_a_call_over_before_its_turn_is_dropped_and_the_others_keep_their_order).
    called = [(counter, desk.call_next(counter)) for counter in (3, 4, 2, 5, 1)]
    numbers = [number for _, number in called]
    assert len(set(numbers)) == 5

    expect(page.locator("#recent-list .r-number").nth(4)).to_have_text(numbers[0], timeout=20_000)
    assert recent_numbers(page)[:5] == numbers[::-1]
    assert page.locator("#recent-list .r-counter").all_text_contents()[:5] == [f"Quầy {c}" for c, _ in called[::-1]]
    expect(page.locator("#now")).to_have_class("panel now")            # the queue has run dry
    assert page.evaluate("window.shownCalls") == numbers                # each one had its turn, in order
    expect(page.locator("#call-number")).to_have_text(numbers[-1])
    for counter, number in called:
        expect(page.locator(f".counter-row[data-counter='{counter}'] .c-ticket")).to_have_text(number)


def test_a_board_bound_to_counters_1_and_2_ignores_other_counters(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "admin")
    token = desk.display_token("board-a", {"counters": [1, 2]})
    open_board(page, f"{HOLD}&token={token}")
    assert "token" not in page.url                                      # not left in the address bar
    expect(page.locator("#board-scope")).to_contain_text("Bảng của quầy 1, 2")
    expect(page.locator("#counter-list .counter-row")).to_have_count(2)
    served = {"HOTICH", "CHUNGTHUC", "TUPHAP", "HOKINHDOANH", "XAYDUNG"}
    assert set(page.locator("#waiting-list .wait").evaluate_all("items => items.map(i => i.dataset.service)")) == served
    watch_calls(page)

    desk.issue("DATDAI")
    desk.issue("XAYDUNG")
    elsewhere = desk.call_next(3)
    here = desk.call_next(2)
    expect(page.locator("#call-number")).to_have_text(here)
    expect(page.locator("#call-counter")).to_have_text("2")
    expect(page.locator("#call-service")).to_have_text("Hoạt động xây dựng")
    expect(page.locator("#recent-list .r-number").first).to_have_text(here)
    expect(page.locator("#now")).to_have_class("panel now")
    assert page.evaluate("window.shownCalls") == [here]                 # the call at counter 3 never showed
    assert elsewhere not in recent_numbers(page)
    expect(page.locator(".counter-row[data-counter='3']")).to_have_count(0)

    page.goto("/display")                                               # the browser remembers its board
    expect(page.locator("body")).to_have_attribute("data-live", "online")
    expect(page.locator("#counter-list .counter-row")).to_have_count(2)
    page.goto("/display?token=")                                        # …until told to forget it
    expect(page.locator("body")).to_have_attribute("data-live", "online")
    expect(page.locator("#counter-list .counter-row")).to_have_count(5)
    expect(page.locator("#board-scope")).to_be_hidden()


def test_a_board_bound_to_a_service_shows_the_counters_serving_it(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "admin")
    token = desk.display_token("board-b", {"services": ["CHUNGTHUC"]})
    open_board(page, f"{HOLD}&token={token}")
    rows = page.locator("#counter-list .counter-row")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.counter)") == ["1", "5"]
    expect(page.locator("#waiting-list .wait")).to_have_count(1)
    expect(page.locator("#waiting-list .wait .vi")).to_have_text("Chứng thực")
    desk.issue("HOTICH")
    ticket = desk.call(1)                 # counter 1 also serves Hộ tịch: the call shows, with its name
    assert ticket["service"] == "HOTICH", ticket
    expect(page.locator("#call-number")).to_have_text(ticket["number"])
    expect(page.locator("#call-service")).to_have_text("Hộ tịch")
    expect(page.locator("#call-service-en")).to_have_text("Civil status registration")
    desk.post("/api/v1/counters/1/finish")
    expect(page.locator("#now")).to_have_attribute("data-mode", "idle")


def test_a_refused_board_says_so_clearly(page: Page, server: ServerProcess) -> None:
    page.set_viewport_size(SMALL_LANDSCAPE)
    page.goto("/display?token=not-a-real-token")
    refused = page.locator("#refused")
    expect(refused).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live", "refused")
    expect(refused.get_by_role("heading")).to_have_text("Bảng hiển thị chưa hoạt động")
    expect(page.locator("#refused-staff-vi")).to_contain_text("mã thiết bị của bảng hiển thị này không hợp lệ")
    expect(page.locator("#refused-staff-en")).to_contain_text("this board's device token is invalid")
    expect(page.locator("#refused-detail")).to_contain_text("invalid_token")
    expect(page.locator("#offline")).to_be_hidden()
    page.screenshot(path="/tmp/motcua-display-refused-1366x768.png")

    empty = Desk(server, "admin").display_token("board-empty", {"counters": [], "services": []})
    page.goto(f"/display?token={empty}")
    expect(page.locator("#refused-staff-vi")).to_contain_text("chưa được gán quầy hoặc dịch vụ nào")
    expect(page.locator("#refused-detail")).to_contain_text("empty_board")

    page.goto("/display?token=")                                        # staff put it back to the whole board
    expect(page.locator("body")).to_have_attribute("data-live", "online")
    expect(refused).to_be_hidden()


def test_the_board_recovers_after_the_server_restarts(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff5")
    open_board(page)
    page.evaluate("window.sameDocument = true")
    watch_calls(page)

    server.kill()                                                       # a crash: the live link drops
    expect(page.locator("#offline")).to_be_visible()
    expect(page.locator("#offline")).to_contain_text("Mất kết nối")
    expect(page.locator("body")).to_have_attribute("data-live", "offline")
    server.start()
    desk = Desk(server, "staff5")                                       # tokens outlive the process
    desk.issue("TRAKETQUA")
    desk.issue("TRAKETQUA")
    missed = desk.call_next(5)            # most likely before the board is back: it comes with the snapshot
    expect(page.locator("#offline")).to_be_hidden(timeout=20_000)
    expect(page.locator("body")).to_have_attribute("data-live", "online")
    expect(page.locator("#call-number")).to_have_text(missed)          # the snapshot is in (the next call ends it)
    live = desk.call_next(5)
    expect(page.locator("#recent-list .r-number").nth(1)).to_have_text(missed, timeout=10_000)
    expect(page.locator("#recent-list .r-number").first).to_have_text(live)
    expect(page.locator("#call-number")).to_have_text(live)
    assert page.evaluate("window.shownCalls") == [missed, live]
    assert page.evaluate("window.sameDocument") is True


CUT_NETWORK = """() => {
    // Lets the test cut the board's live link and keep it cut, as an unplugged cable would.
    const Real = window.WebSocket;
    window.netDown = false;
    window.liveSockets = [];
    window.WebSocket = function (url, protocols) {
        if (window.netDown) { throw new Error('network unreachable'); }
        const ws = new Real(url, protocols);
        window.liveSockets.push(ws);
        return ws;
    };
    window.WebSocket.prototype = Real.prototype;
}"""


def test_calls_made_while_the_board_was_cut_off_are_shown_after_it_is_back(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff4")
    for _ in range(2):
        desk.issue("BAOTRO")
    page.add_init_script(f"({CUT_NETWORK})()")
    open_board(page)
    watch_calls(page)

    page.evaluate("window.netDown = true; window.liveSockets.forEach(ws => ws.close())")
    expect(page.locator("#offline")).to_be_visible()
    page.screenshot(path="/tmp/motcua-display-offline-1920x1080.png")
    missed = [desk.call_next(4), desk.call_next(4)]    # the second call also finishes the first
    page.evaluate("window.netDown = false")
    expect(page.locator("#offline")).to_be_hidden(timeout=20_000)
    expect(page.locator("#recent-list .r-number").nth(1)).to_have_text(missed[0], timeout=10_000)
    expect(page.locator("#recent-list .r-number").first).to_have_text(missed[1])
    expect(page.locator("#now")).to_have_class("panel now")
    assert page.evaluate("window.shownCalls") == missed[1:]   # the first was over already: listed, not announced
    expect(page.locator(".counter-row[data-counter='4'] .c-ticket")).to_have_text(missed[1])
    desk.post("/api/v1/counters/4/finish")


def call_number(desk: Desk, counter: int, ticket: dict) -> None:
    desk.post(f"/api/v1/counters/{counter}/call", {"number": ticket["number"]})


def test_a_call_over_before_its_turn_is_dropped_and_the_others_keep_their_order(
        page: Page, server: ServerProcess) -> None:
    """Calls wait their turn behind the one on screen; one that is over by then (its counter called another
    number, or marked it missed or finished) joins the last calls but is never shown as "now calling"."""
    desk = Desk(server, "admin")
    first, missed, replaced, finished, waiting = (
        desk.issue(s) for s in ("DATDAI", "HOKINHDOANH", "XAYDUNG", "XAYDUNG", "BAOTRO"))
    open_board(page, "hold=60")                  # the first call holds the panel until it is over
    watch_calls(page)
    call_number(desk, 3, first)
    expect(page.locator("#call-number")).to_have_text(first["number"])
    call_number(desk, 2, missed)
    desk.post("/api/v1/counters/2/no-show")
    call_number(desk, 2, replaced)
    call_number(desk, 2, finished)                # the counter moved on from `replaced`…
    desk.post("/api/v1/counters/2/finish")        # …and is done with `finished`
    call_number(desk, 4, waiting)                 # still at counter 4 when its turn comes
    expect(page.locator(".counter-row[data-counter='2'] .c-ticket")).to_have_text("—")
    expect(page.locator(".counter-row[data-counter='4'] .c-ticket")).to_have_text(waiting["number"])
    expect(page.locator("#call-number")).to_have_text(first["number"])
    expect(page.locator("#now")).to_have_class("panel now fresh")

    desk.post("/api/v1/counters/3/finish")        # the first is over: its hold ends, the queue moves on
    expect(page.locator("#call-number")).to_have_text(waiting["number"])
    expect(page.locator("#now")).to_have_attribute("data-mode", "call")
    assert page.evaluate("window.shownCalls") == [first["number"], waiting["number"]]
    expect(page.locator("#recent-list .r-number").first).to_have_text(waiting["number"])
    assert recent_numbers(page)[:5] == [t["number"] for t in (waiting, finished, replaced, missed, first)]
    desk.post("/api/v1/counters/4/finish")
    expect(page.locator("#now")).to_have_attribute("data-mode", "idle")


def test_the_counter_consoles_actions_leave_no_stale_call_on_the_board(page: Page, server: ServerProcess) -> None:
    """Call, recall, finish, call, no-show, call, transfer, call, finish at one counter, faster than the
    board's hold: what ends stays ended on the board, which comes back to idle with the counter."""
    desk = Desk(server, "staff1")
    tickets = [desk.issue("HOTICH") for _ in range(4)]
    open_board(page, "hold=60")
    watch_calls(page)
    for ticket, end in zip(tickets, ("finish", "no-show", "transfer", "finish"), strict=True):
        call_number(desk, 1, ticket)
        if ticket is tickets[0]:
            desk.post("/api/v1/counters/1/recall")
        desk.post(f"/api/v1/counters/1/{end}", {"service": "TUPHAP"} if end == "transfer" else {})
    try:
        expect(page.locator(".counter-row[data-counter='1'] .c-ticket")).to_have_text("—")
        expect(page.locator("#now")).to_have_attribute("data-mode", "idle")
        expect(page.locator("#now")).to_contain_text("Mời quý vị chờ đến lượt")
        expect(page.locator("#recent-list .r-number").first).to_have_text(tickets[3]["number"])
        assert page.evaluate("window.recallShown") is False     # the recall was over before its turn
    finally:
        call_number(desk, 1, tickets[2])                          # the transferred copy, out of the way
        desk.post("/api/v1/counters/1/finish")


def test_a_call_is_held_shorter_once_another_waits(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "admin")
    alone, behind = desk.issue("DATDAI"), desk.issue("BAOTRO")
    open_board(page, "hold=8")                    # 8 s for a call alone, 4 s while others wait
    watch_calls(page)
    call_number(desk, 3, alone)
    expect(page.locator("#call-number")).to_have_text(alone["number"])
    call_number(desk, 4, behind)                  # comes while the first is held
    expect(page.locator("#call-number")).to_have_text(behind["number"], timeout=20_000)
    shown_at = page.evaluate("window.shownAt")
    assert page.evaluate("window.shownCalls") == [alone["number"], behind["number"]]
    assert shown_at[1] - shown_at[0] < 8000, shown_at             # the first gave way before its full hold
    desk.post("/api/v1/counters/3/finish")
    desk.post("/api/v1/counters/4/finish")


NOTICE = {"vi": "Từ ngày 01/12/2026, Trung tâm nhận hồ sơ đất đai vào buổi sáng thứ Bảy. Xin cảm ơn quý vị!",
          "en": "From 1 December 2026 the centre takes land dossiers on Saturday mornings. Thank you!"}


def test_the_admins_notice_scrolls_along_the_bottom_and_changes_live(page: Page, server: ServerProcess) -> None:
    admin = Desk(server, "admin")
    open_board(page)
    page.locator("#now").click()                   # the first touch: the unlock banner leaves the header
    expect(page.locator("#notice")).to_be_hidden()
    admin.put("/api/v1/office/notice", NOTICE)
    try:
        expect(page.locator("#notice-vi")).to_have_text(NOTICE["vi"])        # live, without a reload
        expect(page.locator("#notice-en")).to_have_text(NOTICE["en"])
        expect(page.locator("#notice")).to_be_visible()
        assert page.evaluate("document.getElementById('notice-track').getAnimations()"
                             ".some(a => a.playState === 'running')")
        expect(page.locator("#office-name-en")).to_have_css("display", "none")   # the notice takes its line
        page.screenshot(path="/tmp/motcua-display-notice-1920x1080.png")
        box = page.locator("#notice").bounding_box()                       # under the office name
        assert box["y"] > page.locator("#office-name").bounding_box()["y"]
        assert box["y"] + box["height"] <= page.locator("#now").bounding_box()["y"]
        page.reload()                                                         # and from the snapshot
        expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        expect(page.locator("#notice-vi")).to_have_text(NOTICE["vi"])
        admin.put("/api/v1/office/notice", {"vi": "Chỉ tiếng Việt.", "en": ""})
        expect(page.locator("#notice-vi")).to_have_text("Chỉ tiếng Việt.")
        expect(page.locator("#notice-sep")).to_be_hidden()
    finally:
        admin.put("/api/v1/office/notice", {"vi": "", "en": ""})
    expect(page.locator("#notice")).to_be_hidden()
    expect(page.locator("#office-name-en")).to_have_css("display", "block")


NO_OVERFLOW = """() => {
    const problems = [];
    const de = document.documentElement;
    if (de.scrollWidth > innerWidth || de.scrollHeight > innerHeight) { problems.push('the page scrolls'); }
    const safe = document.querySelector('.safe').getBoundingClientRect();
    const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.') +
        ' "' + (e.textContent || '').trim().slice(0, 30) + '"';
    let smallest = Infinity;
    let smallestText = '';
    for (const e of document.querySelectorAll('.safe *')) {
        const r = e.getBoundingClientRect();
        if (!r.width || !r.height) { continue; }                       // hidden
        if (e.closest('.notice-track')) { continue; }                  // the notice scrolls through its box
        if (r.left < safe.left - .5 || r.top < safe.top - .5 ||
            r.right > safe.right + .5 || r.bottom > safe.bottom + .5) {
            problems.push('outside the TV-safe area: ' + name(e));
        }
        const style = getComputedStyle(e);
        const scrolls = e.classList.contains('notice');               // the notice's box cuts it on purpose
        if (!scrolls && ((style.overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1) ||
            (style.overflowY !== 'visible' && e.scrollHeight > e.clientHeight + 1))) {
            problems.push('cut off: ' + name(e));
        }
        const size = parseFloat(style.fontSize);
        if (size < smallest && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) {
            smallest = size;
            smallestText = name(e);
        }
    }
    return {problems, smallest, smallestText,
            safe: [safe.left, safe.top, innerWidth - safe.right, innerHeight - safe.bottom]};
}"""


@pytest.mark.parametrize("size", [LANDSCAPE, SMALL_LANDSCAPE, PORTRAIT], ids=["1920x1080", "1366x768", "1080x1920"])
def test_layouts_fit_the_screen_without_scrolling(page: Page, server: ServerProcess, size: dict) -> None:
    desk = Desk(server, "admin")
    desk.issue("HOKINHDOANH")            # the longest service name, as the current call
    desk.issue("BAOTRO")
    desk.post("/api/v1/counters/4/pause", {"reason": "Họp"})
    desk.put("/api/v1/office/notice", NOTICE)
    try:
        open_board(page, "hold=60", size)
        expect(page.locator("#notice")).to_be_visible()
        number = desk.call_next(2)
        expect(page.locator("#call-number")).to_have_text(number)
        expect(page.locator("#now")).to_have_class("panel now fresh")
        expect(page.locator(".counter-row[data-counter='4'] .c-state .vi")).to_have_text("Tạm dừng")
        page.evaluate("document.fonts.ready")
        result = page.evaluate(NO_OVERFLOW)
        page.screenshot(path=f"/tmp/motcua-display-{size['width']}x{size['height']}.png")
    finally:
        desk.post("/api/v1/counters/4/resume")
        desk.put("/api/v1/office/notice", {"vi": "", "en": ""})
    assert result["problems"] == [], result
    short_side = min(size["width"], size["height"])
    assert min(result["safe"]) >= 0.035 * short_side - 1               # action-safe margins on every side
    assert result["smallest"] >= short_side / 70, result   # ≥ 15 px at 1080 (the English lines): nothing tiny
