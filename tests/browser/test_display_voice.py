"""The hall board's voice in a real Chromium against a real server with real clips: what the hall hears.

The server of this module has the espeak-ng clips `motcua voice generate` writes, less one: the letter F
("ép"), so a ticket of Hoạt động xây dựng (prefix F) cannot be joined and answers 409 clip_missing, while
every other number can. The page is instrumented, not mocked: HTMLMediaElement.play, OscillatorNode.start
and speechSynthesis.speak are wrapped to note what sounded and when. Announcements are real WAVs from the
server played to the end, but at RATE times their speed so a burst takes seconds; the order and the gaps
between them do not depend on the speed. Headless Chromium has no voices, so the browser-voice test
plugs in a fake speech engine. Screenshots land in /tmp/motcua-voice-*.png.
"""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_display import HOLD, Desk, open_board
from tests.server_process import ServerProcess, motcua

pytestmark = pytest.mark.browser

RATE = 16                                  # playback speed of the announcements in these tests
CHIME = [1318.5, 2637.0, 1046.5, 2093.0]   # the page's chime: E6 and its octave, then C6 and its octave
AUDIO = "/api/v1/announcements/audio"
JITTER_MS = 1          # performance.now() is coarsened: "after" allows this much

RECORD_SOUND = """((rate) => {
    // Notes every sound the page makes: {kind: 'audio'|'tone'|'speech', source, start, end}.
    const log = window.soundLog = [];
    const now = () => performance.now();
    const play = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function () {
        this.defaultPlaybackRate = this.playbackRate = rate;
        const element = this;
        const entry = {kind: 'audio', source: this.dataset.source || null, src: this.src, start: now(), end: null,
                       duration: null};
        log.push(entry);
        const ended = () => {
            if (element.src !== entry.src) { return; }            // the end of a later sound
            entry.end = now();
            entry.duration = element.duration;
            element.removeEventListener('ended', ended);
        };
        this.addEventListener('ended', ended);
        return play.apply(this, arguments);
    };
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function () {
        const entry = {kind: 'tone', source: this.frequency.value, start: now(), end: null};
        log.push(entry);
        this.addEventListener('ended', () => { entry.end = now(); });
        return start.apply(this, arguments);
    };
    if (window.speechSynthesis) {
        const speak = speechSynthesis.speak.bind(speechSynthesis);
        speechSynthesis.speak = (utterance) => {
            const entry = {kind: 'speech', source: utterance.text, lang: utterance.lang, start: now(), end: null};
            log.push(entry);
            utterance.addEventListener('end', () => { entry.end = now(); });
            return speak(utterance);
        };
    }
})"""

FAKE_VIETNAMESE_VOICE = """(() => {
    // A speech engine with one Vietnamese voice, as Windows or Android have: says each sentence in 300 ms.
    const SAYING_MS = 300;
    const voice = {name: 'Fake Vietnamese', lang: 'vi-VN', localService: true, default: false, voiceURI: 'fake-vi'};
    class Utterance extends EventTarget {
        constructor(text) { super(); this.text = text; this.lang = ''; this.voice = null; this.rate = 1; }
        fire(name, extra) {
            const event = Object.assign(new Event(name), extra || {});
            if (typeof this['on' + name] === 'function') { this['on' + name](event); }
            this.dispatchEvent(event);
        }
    }
    const speaking = [];
    const synth = {
        getVoices: () => [voice],
        speak(u) {
            speaking.push(u);
            setTimeout(() => u.fire('start'), 10);
            setTimeout(() => {
                if (speaking.includes(u)) { speaking.splice(speaking.indexOf(u), 1); u.fire('end'); }
            }, SAYING_MS);
        },
        cancel() { speaking.splice(0).forEach(u => u.fire('error', {error: 'canceled'})); },
        addEventListener() {}, removeEventListener() {},
        get speaking() { return speaking.length > 0; },
    };
    Object.defineProperty(window, 'speechSynthesis', {value: synth, configurable: true});
    window.SpeechSynthesisUtterance = Utterance;
})()"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The demo office with the generated clips in the server's VOICE_DIR, without the clip of "ép" (F)."""
    proc = ServerProcess(tmp_path_factory.mktemp("voice-server"))
    proc.prepare_demo()
    motcua(["voice", "generate"], proc.env)
    (proc.var_dir / "voice" / "ép.wav").unlink()
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def record_sound(rate: float = RATE) -> str:
    return f"({RECORD_SOUND})({rate})"


def open_voiced_board(page: Page, query: str = HOLD, unlock: bool = True, rate: float = RATE) -> None:
    page.add_init_script(record_sound(rate))
    open_board(page, query)
    if unlock:
        page.locator("#now").click()        # a staff member touches the screen once
        expect(page.locator("#unlock")).to_be_hidden()


def sounds(page: Page, kind: str | None = None) -> list[dict]:
    """What the page played, oldest first; the short silence that unlocks the audio element left out."""
    return [s for s in page.evaluate("window.soundLog")
            if (kind is None or s["kind"] == kind) and not (s["kind"] == "audio" and s["source"] is None)]


def wait_for_sounds(page: Page, kind: str, count: int, timeout: float = 20_000) -> list[dict]:
    page.wait_for_function(
        """([kind, count]) => window.soundLog.filter(s => s.kind === kind && (kind !== 'audio' || s.source)
                                                   && s.end !== null).length >= count""",
        arg=[kind, count], timeout=timeout)
    return sounds(page, kind)


def announced(entry: dict) -> tuple[str, int]:
    """(number, counter) of an announcement WAV, read from the address it was downloaded from."""
    query = parse_qs(urlsplit(entry["source"]).query)
    return query["number"][0], int(query["counter"][0])


def follows(later: dict, earlier: dict) -> bool:
    """`later` started once `earlier` had ended: they did not overlap."""
    return earlier["end"] is not None and later["start"] >= earlier["end"] - JITTER_MS


def issue_and_call(desk: Desk, service: str, counter: int) -> dict:
    """A ticket of `service`, called by its number at `counter` (never someone else's left waiting)."""
    ticket = desk.issue(service)
    return desk.post(f"/api/v1/counters/{counter}/call", {"number": ticket["number"]})


def health_reports(admin: Desk) -> list[dict]:
    status, body = admin._send("GET", "/api/v1/health/reports", token=admin.token)
    assert status == 200, body
    return body["reports"]


def audio_answers(page: Page) -> list[Response]:
    answers: list[Response] = []
    page.on("response", lambda r: answers.append(r) if urlsplit(r.url).path == AUDIO else None)
    return answers


def expect_status(page: Page, engine: str, vi: str, en: str) -> None:
    status = page.locator("#sound")
    expect(status).to_have_attribute("data-engine", engine)
    expect(page.locator("#sound-vi")).to_have_text(vi)
    expect(page.locator("#sound-en")).to_have_text(en)


def test_the_board_asks_for_one_touch_before_it_makes_sound(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff1")
    answers = audio_answers(page)
    open_voiced_board(page, unlock=False)
    banner = page.locator("#unlock")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Chạm vào màn hình một lần để bật âm thanh thông báo")
    expect(banner).to_contain_text("Touch the screen once to turn on announcement sound")
    expect_status(page, "locked", "Âm thanh: chờ chạm màn hình", "Sound: waiting for a touch")

    silent = issue_and_call(desk, "HOTICH", 1)             # before the touch: shown, not heard
    expect(page.locator("#call-number")).to_have_text(silent["number"])
    expect(page.locator("#now")).to_have_class("panel now fresh")
    page.screenshot(path="/tmp/motcua-voice-unlock-1920x1080.png")
    expect(page.locator("#now")).to_have_class("panel now")
    assert sounds(page) == [] and answers == []
    box = banner.bounding_box()
    assert box and box["height"] > 40 and box["width"] > 500, box   # clear, not a footnote

    page.mouse.click(960, 700)                              # anywhere on the board
    expect(banner).to_be_hidden()
    expect_status(page, "clips", "Âm thanh: giọng ghi âm", "Sound: recorded voice")
    heard = issue_and_call(desk, "HOTICH", 1)               # after it: heard
    [entry] = wait_for_sounds(page, "audio", 1)
    assert announced(entry) == (heard["number"], 1)
    assert sounds(page, "tone") == [] and sounds(page, "speech") == []
    page.screenshot(path="/tmp/motcua-voice-unlocked-1920x1080.png")


def test_a_call_plays_the_wav_of_its_number_and_counter(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff3")
    answers = audio_answers(page)
    open_voiced_board(page)
    ticket = issue_and_call(desk, "DATDAI", 3)
    [entry] = wait_for_sounds(page, "audio", 1)

    [answer] = answers
    query = parse_qs(urlsplit(answer.url).query)
    assert query["number"] == [ticket["number"]] and query["counter"] == ["3"], answer.url
    assert answer.status == 200 and answer.headers["content-type"] == "audio/wav"
    assert entry["source"] == answer.url.removeprefix(server.url)
    # chime + the sentence twice: many seconds at normal speed, and the board waited for all of it
    assert entry["duration"] > 6, entry
    assert entry["end"] - entry["start"] >= entry["duration"] * 1000 / RATE * 0.9, entry
    expect_status(page, "clips", "Âm thanh: giọng ghi âm", "Sound: recorded voice")
    expect(page.locator("#sound")).not_to_have_class("sound fallback")
    assert sounds(page, "tone") == [] and sounds(page, "speech") == []


def test_a_burst_of_five_calls_is_heard_one_after_another_in_order(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "admin")
    plan = [(1, "HOTICH"), (2, "HOKINHDOANH"), (3, "DATDAI"), (4, "BAOTRO"), (5, "TRAKETQUA")]
    tickets = [desk.issue(service) for _, service in plan]
    open_voiced_board(page)
    for (counter, _), ticket in zip(plan, tickets, strict=True):    # back to back
        desk.post(f"/api/v1/counters/{counter}/call", {"number": ticket["number"]})
    expected = [(t["number"], c) for (c, _), t in zip(plan, tickets, strict=True)]

    page.wait_for_function("window.soundLog.filter(s => s.source).length >= 2")
    page.screenshot(path="/tmp/motcua-voice-burst-1920x1080.png")
    played = wait_for_sounds(page, "audio", 5, timeout=40_000)
    assert [announced(p) for p in played] == expected          # all five, in call order, each once
    for before, after in zip(played, played[1:], strict=False):
        assert follows(after, before), (before, after)          # never two at once
    assert sounds(page, "tone") == [] and sounds(page, "speech") == []
    expect(page.locator("#now")).to_have_class("panel now")     # the queue has run dry
    expect(page.locator("#call-number")).to_have_text(tickets[-1]["number"])


def test_a_recall_is_heard_again(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff3")
    open_voiced_board(page)
    ticket = issue_and_call(desk, "DATDAI", 3)
    desk.post("/api/v1/counters/3/recall")                    # while the first is still being said
    played = wait_for_sounds(page, "audio", 2)
    assert [announced(p) for p in played] == [(ticket["number"], 3)] * 2
    assert follows(played[1], played[0])
    expect(page.locator("#now-label-vi")).to_have_text("Gọi lại số")


def test_a_missing_clip_falls_back_to_the_chime_and_says_why(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff2")
    answers = audio_answers(page)
    open_voiced_board(page)
    lacking = issue_and_call(desk, "XAYDUNG", 2)             # F: "ép" has no clip
    tones = wait_for_sounds(page, "tone", 4)
    assert [t["source"] for t in tones] == pytest.approx(CHIME, abs=0.01)
    assert sounds(page, "audio") == []                       # nothing of the 409 was played
    [answer] = answers
    assert answer.status == 409 and answer.json()["error"]["code"] == "clip_missing"
    assert parse_qs(urlsplit(answer.url).query)["number"] == [lacking["number"]]
    expect_status(page, "chime", "Âm thanh: chỉ chuông — thiếu tệp ghi âm «ép»",
                  "Sound: chime only — voice clip “ép” missing")
    expect(page.locator("#sound")).to_have_class("sound fallback")
    expect(page.locator("#sound")).to_have_attribute("data-reason", "clip_missing")
    page.screenshot(path="/tmp/motcua-voice-fallback-1920x1080.png")
    admin = Desk(server, "admin")
    reports = {r["kind"]: r for r in health_reports(admin)}       # the admin hears of it from both sides
    assert reports["clip_missing"]["source"] == "server" and reports["clip_missing"]["detail"] == {"words": ["ép"]}
    board = reports["voice_fallback"]
    assert board["source"] == "board 127.0.0.1"
    assert board["detail"] == {"wanted": "clips", "engine": "chime", "reason": "clip_missing", "detail": "ép"}

    spoken = issue_and_call(desk, "HOKINHDOANH", 2)          # the next number has all its clips
    [entry] = wait_for_sounds(page, "audio", 1)
    assert announced(entry) == (spoken["number"], 2)
    assert follows(entry, tones[-1])
    expect_status(page, "clips", "Âm thanh: giọng ghi âm", "Sound: recorded voice")
    assert len(sounds(page, "tone")) == 4
    # The board spoke with its own engine again: its report is cleared; the clip is still missing.
    for _ in range(100):
        if not any(r["kind"] == "voice_fallback" for r in health_reports(admin)):
            break
        page.wait_for_timeout(50)
    assert [r["kind"] for r in health_reports(admin)] == ["clip_missing"]


def test_with_a_vietnamese_browser_voice_a_missing_clip_falls_back_to_it(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff2")
    page.add_init_script(FAKE_VIETNAMESE_VOICE)
    open_voiced_board(page)
    lacking = issue_and_call(desk, "XAYDUNG", 2)
    said = wait_for_sounds(page, "speech", 2)
    sentence = desk._send("GET", f"/api/v1/announcements/preview?number={lacking['number']}&counter=2")[1]["text"]
    assert sentence.startswith("Xin mời công dân có số thứ tự ép")
    assert [(s["source"], s["lang"]) for s in said] == [(sentence, "vi-VN")] * 2       # twice, in Vietnamese
    tones = sounds(page, "tone")
    assert [t["source"] for t in tones] == pytest.approx(CHIME, abs=0.01)            # after the chime
    assert follows(said[0], tones[-1]) and follows(said[1], said[0])
    assert sounds(page, "audio") == []
    expect_status(page, "browser", "Âm thanh: giọng của trình duyệt — thiếu tệp ghi âm «ép»",
                  "Sound: browser voice — voice clip “ép” missing")


def test_a_chime_only_board_plays_only_a_chime(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff4")
    answers = audio_answers(page)
    open_voiced_board(page, f"{HOLD}&voice=chime")
    expect_status(page, "chime", "Âm thanh: chỉ chuông", "Sound: chime only")
    issue_and_call(desk, "BAOTRO", 4)
    tones = wait_for_sounds(page, "tone", 4)
    assert [t["source"] for t in tones] == pytest.approx(CHIME, abs=0.01)
    assert page.evaluate("window.soundLog.filter(s => s.kind !== 'tone')") == []   # no WAV, not even silence
    assert answers == []
    expect(page.locator("#sound")).not_to_have_class("sound fallback")

    page.goto("/display?" + HOLD)                            # the board remembers its setting…
    expect(page.locator("#sound")).to_have_attribute("data-wanted", "chime")
    page.goto("/display?voice=")                             # …until told to forget it
    expect(page.locator("#sound")).to_have_attribute("data-wanted", "clips")
    page.goto("/display?voice=off")
    expect(page.locator("#unlock")).to_be_hidden()           # nothing to unlock
    expect_status(page, "off", "Âm thanh: tắt", "Sound: off")
    page.goto("/display?voice=")


def test_a_board_allowed_to_play_sound_needs_no_touch(browser: Browser, server: ServerProcess) -> None:
    """A TV browser started with --autoplay-policy=no-user-gesture-required: heard from the first call."""
    allowed = browser.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                          args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
    try:
        page = allowed.new_page(base_url=server.url)
        page.add_init_script(record_sound())
        open_board(page)
        expect(page.locator("#unlock")).to_be_hidden()
        expect_status(page, "clips", "Âm thanh: giọng ghi âm", "Sound: recorded voice")
        ticket = issue_and_call(Desk(server, "staff5"), "TRAKETQUA", 5)
        [entry] = wait_for_sounds(page, "audio", 1)
        assert announced(entry) == (ticket["number"], 5)
    finally:
        allowed.close()


def test_a_server_gone_mid_burst_is_heard_as_a_chime_then_clips_again(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "staff4")
    first, second = desk.issue("BAOTRO"), desk.issue("BAOTRO")
    open_voiced_board(page, rate=RATE / 2)                             # the first lasts a while here
    desk.post("/api/v1/counters/4/call", {"number": first["number"]})
    desk.post("/api/v1/counters/4/call", {"number": second["number"]})
    expect(page.locator(".counter-row[data-counter='4'] .c-ticket")).to_have_text(second["number"])   # queued
    page.wait_for_function("window.soundLog.some(s => s.source)")     # the first is playing…
    server.kill()                                                      # …when the server dies
    tones = wait_for_sounds(page, "tone", 4)
    [entry] = sounds(page, "audio")
    assert announced(entry) == (first["number"], 4)                    # the first was heard whole
    assert follows(tones[0], entry)
    expect_status(page, "chime", "Âm thanh: chỉ chuông — máy chủ không gửi âm thanh",
                  "Sound: chime only — no audio from the server")

    server.start()
    expect(page.locator("body")).to_have_attribute("data-live", "online", timeout=20_000)
    desk = Desk(server, "staff4")
    back = issue_and_call(desk, "BAOTRO", 4)
    played = wait_for_sounds(page, "audio", 2)
    assert announced(played[1]) == (back["number"], 4)
    expect_status(page, "clips", "Âm thanh: giọng ghi âm", "Sound: recorded voice")


def test_a_call_over_before_its_turn_is_never_heard(page: Page, server: ServerProcess) -> None:
    """While one call is said, the next ones wait; those that are over by their turn (missed, finished, the
    counter already on another number) are not said late: the hall hears only numbers still being called."""
    desk = Desk(server, "admin")
    first, missed, finished, waiting = (desk.issue(s) for s in ("DATDAI", "HOKINHDOANH", "HOKINHDOANH", "BAOTRO"))
    open_voiced_board(page, "hold=60")                   # the first holds the queue until it is over
    desk.post("/api/v1/counters/3/call", {"number": first["number"]})
    desk.post("/api/v1/counters/2/call", {"number": missed["number"]})
    desk.post("/api/v1/counters/2/no-show")
    desk.post("/api/v1/counters/2/call", {"number": finished["number"]})
    desk.post("/api/v1/counters/2/finish")
    desk.post("/api/v1/counters/4/call", {"number": waiting["number"]})
    expect(page.locator(".counter-row[data-counter='2'] .c-ticket")).to_have_text("—")
    expect(page.locator(".counter-row[data-counter='4'] .c-ticket")).to_have_text(waiting["number"])
    wait_for_sounds(page, "audio", 1)
    expect(page.locator("#call-number")).to_have_text(first["number"])

    desk.post("/api/v1/counters/3/finish")
    played = wait_for_sounds(page, "audio", 2)
    assert [announced(p) for p in played] == [(first["number"], 3), (waiting["number"], 4)]
    assert "repeat" not in parse_qs(urlsplit(played[1]["source"]).query)   # nothing behind it: said in full
    expect(page.locator("#call-number")).to_have_text(waiting["number"])
    expect(page.locator("#recent-list .r-number")).to_contain_text(
        [waiting["number"], finished["number"], missed["number"], first["number"]])
    desk.post("/api/v1/counters/4/finish")
    expect(page.locator("#now")).to_have_attribute("data-mode", "idle")
    assert len(sounds(page, "audio")) == 2 and sounds(page, "tone") == []


def test_each_call_of_a_burst_is_said_in_full_one_after_another(page: Page, server: ServerProcess) -> None:
    """A burst waits its turn, and every call still current is said as the office says it (twice): a
    citizen who misses the first saying hears the second."""
    desk = Desk(server, "admin")
    alone, queued, last = (desk.issue(s) for s in ("DATDAI", "BAOTRO", "TRAKETQUA"))
    open_voiced_board(page, "hold=60")
    desk.post("/api/v1/counters/3/call", {"number": alone["number"]})
    wait_for_sounds(page, "audio", 1)
    desk.post("/api/v1/counters/4/call", {"number": queued["number"]})
    desk.post("/api/v1/counters/5/call", {"number": last["number"]})
    expect(page.locator(".counter-row[data-counter='5'] .c-ticket")).to_have_text(last["number"])
    desk.post("/api/v1/counters/3/finish")                # the first gives way…
    wait_for_sounds(page, "audio", 2)
    desk.post("/api/v1/counters/4/finish")                # …and so does the second, once it has been said
    played = wait_for_sounds(page, "audio", 3)
    assert [announced(p) for p in played] == [(alone["number"], 3), (queued["number"], 4), (last["number"], 5)]
    assert [parse_qs(urlsplit(p["source"]).query).get("repeat") for p in played] == [None, None, None]
    for before, after in zip(played, played[1:], strict=False):
        assert follows(after, before), (before, after)
    desk.post("/api/v1/counters/5/finish")


def test_the_browser_voice_does_not_say_a_call_again_once_it_is_over(page: Page, server: ServerProcess) -> None:
    desk = Desk(server, "admin")
    page.add_init_script(FAKE_VIETNAMESE_VOICE.replace("SAYING_MS = 300", "SAYING_MS = 5000"))
    first, second = desk.issue("DATDAI"), desk.issue("BAOTRO")
    open_voiced_board(page, "hold=60&voice=browser")
    desk.post("/api/v1/counters/3/call", {"number": first["number"]})
    desk.post("/api/v1/counters/4/call", {"number": second["number"]})
    expect(page.locator(".counter-row[data-counter='4'] .c-ticket")).to_have_text(second["number"])
    wait_for_sounds(page, "speech", 1)
    desk.post("/api/v1/counters/3/finish")                 # while the first is said for the first time
    said = wait_for_sounds(page, "speech", 3)

    def sentence(ticket: dict, counter: int) -> str:
        query = f"number={ticket['number']}&counter={counter}"
        return desk._send("GET", f"/api/v1/announcements/preview?{query}")[1]["text"]
    assert [s["source"] for s in said] == [sentence(first, 3)] + [sentence(second, 4)] * 2   # once, then twice
    desk.post("/api/v1/counters/4/finish")
