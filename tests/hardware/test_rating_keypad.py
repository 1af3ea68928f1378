"""The USB rating keypad: presses decoded from real evdev events, the reader's loop on a pipe of kernel-format
events, and the URLs the agent takes."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from evdev import InputEvent, KeyEvent, categorize, ecodes

from hardware import rating_keypad
from hardware.rating_keypad import (
    DEFAULT_MAP,
    Choice,
    EvdevRatingKeypad,
    KeypadUnavailable,
    RatingKeyDecoder,
    key_codes,
    open_rating_keypad,
    parse_map,
)

from .test_scanners import FakeInputDevices, Received, running, wait_for

ROOT = Path(__file__).resolve().parents[2]
FIRST, SECOND, THIRD = Choice(position=1), Choice(position=2), Choice(position=3)


class Keypad:
    """The events a USB keypad sends for each press: MSC_SCAN, key down, SYN, then MSC_SCAN, key up, SYN;
    `hold` seconds between down and up, `gap` seconds between presses."""

    def __init__(self, start: float = 1_764_000_000.0, hold: float = 0.08, gap: float = 1.0) -> None:
        self.now, self.hold, self.gap = start, hold, gap

    def _at(self, kind: int, code: int, value: int) -> InputEvent:
        sec = int(self.now)
        return InputEvent(sec, round((self.now - sec) * 1_000_000), kind, code, value)

    def press(self, name: str, repeats: int = 0) -> list[InputEvent]:
        code = ecodes.ecodes[name]
        events = [self._at(ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code), self._at(ecodes.EV_KEY, code, 1),
                  self._at(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]
        for _ in range(repeats):                     # a key held down: the kernel repeats it
            self.now += 0.05
            events += [self._at(ecodes.EV_KEY, code, 2), self._at(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]
        self.now += self.hold
        events += [self._at(ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code), self._at(ecodes.EV_KEY, code, 0),
                   self._at(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]
        self.now += self.gap
        return events

    def presses(self, *names: str) -> list[InputEvent]:
        return [e for name in names for e in self.press(name)]


def test_the_events_are_real_key_events() -> None:
    events = Keypad().press("KEY_KP1")
    assert [type(categorize(e)).__name__ for e in events] == [
        "InputEvent", "KeyEvent", "SynEvent", "InputEvent", "KeyEvent", "SynEvent"]
    assert categorize(events[1]).keycode == "KEY_KP1" and categorize(events[1]).keystate == KeyEvent.key_down


@pytest.mark.parametrize(("keys", "choices"), [
    (("KEY_1", "KEY_2", "KEY_3"), [FIRST, SECOND, THIRD]),
    (("KEY_KP1", "KEY_KP2", "KEY_KP3"), [FIRST, SECOND, THIRD]),
    (("KEY_KP3", "KEY_4", "KEY_KP5"), [THIRD, Choice(position=4), Choice(position=5)]),
    (("KEY_6", "KEY_KP0", "KEY_A", "KEY_ENTER", "KEY_NUMLOCK"), []),     # not on the map
])
def test_keys_one_to_five_are_the_places_on_the_scale(keys: tuple[str, ...], choices: list[Choice]) -> None:
    assert RatingKeyDecoder().feed_many(Keypad().presses(*keys)) == choices


def test_a_map_of_level_codes() -> None:
    keys = parse_map("1:very_satisfied,2:satisfied,3:unsatisfied")
    decoder = RatingKeyDecoder(keys)
    assert decoder.feed_many(Keypad().presses("KEY_KP3", "KEY_2", "KEY_KP1", "KEY_4")) == [
        Choice(level="unsatisfied"), Choice(level="satisfied"), Choice(level="very_satisfied")]
    assert Choice(level="satisfied").event() == {"level": "satisfied"}
    assert SECOND.event() == {"position": 2}


def test_a_three_button_box_that_types_f_keys() -> None:
    decoder = RatingKeyDecoder(parse_map("f1:great , f2:ok, f3:poor"))
    choices = decoder.feed_many(Keypad().presses("KEY_F3", "KEY_F1", "KEY_F2"))
    assert [str(c) for c in choices] == ["poor", "great", "ok"]


def test_releases_repeats_and_other_events_are_not_presses() -> None:
    pad = Keypad()
    held = pad.press("KEY_KP2", repeats=10)
    noise = [InputEvent(int(pad.now), 0, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x7001e),
             InputEvent(int(pad.now), 0, ecodes.EV_KEY, ecodes.KEY_KP1, 0),         # a stray release
             InputEvent(int(pad.now), 0, ecodes.EV_LED, ecodes.LED_NUML, 1)]
    assert RatingKeyDecoder().feed_many(held + noise) == [SECOND]


def test_a_second_press_within_the_debounce_time_is_the_same_press() -> None:
    quick = Keypad(gap=0.1)
    assert RatingKeyDecoder(debounce=0.4).feed_many(quick.presses("KEY_1", "KEY_1", "KEY_3")) == [FIRST]
    slow = Keypad(gap=0.5)
    assert RatingKeyDecoder(debounce=0.4).feed_many(slow.presses("KEY_1", "KEY_3")) == [FIRST, THIRD]
    assert RatingKeyDecoder(debounce=0).feed_many(quick.presses("KEY_1", "KEY_1")) == [FIRST, FIRST]
    with pytest.raises(ValueError, match="debounce"):
        RatingKeyDecoder(debounce=-1)


def test_key_names_are_the_kernels_codes() -> None:
    assert key_codes("1") == {ecodes.KEY_1, ecodes.KEY_KP1}
    assert key_codes("0") == {ecodes.KEY_0, ecodes.KEY_KP0}
    assert key_codes("kp7") == key_codes("KEY_KP7") == {ecodes.KEY_KP7}
    assert key_codes("a") == {ecodes.KEY_A} and key_codes("Z") == {ecodes.KEY_Z}
    assert key_codes("f1") == {ecodes.KEY_F1} and key_codes("f10") == {ecodes.KEY_F10}
    assert key_codes("f11") == {ecodes.KEY_F11} and key_codes("f12") == {ecodes.KEY_F12}
    assert key_codes("enter") == {ecodes.KEY_ENTER} and key_codes("kpenter") == {ecodes.KEY_KPENTER}
    assert key_codes("space") == {ecodes.KEY_SPACE} and key_codes("code200") == {200}
    assert set(DEFAULT_MAP) == {ecodes.ecodes[f"KEY_{p}{n}"] for n in range(1, 6) for p in ("", "KP")}


@pytest.mark.parametrize(("spec", "message"), [
    ("", "at least one"),
    ("1", "expected KEY:LEVEL"),
    ("x1:satisfied", "unknown key 'x1'"),
    ("f13:satisfied", "unknown key 'f13'"),
    ("code0:satisfied", "unknown key"),
    ("1:Satisfied", "must be a level code"),
    ("1:0", "must be 1 to 9"),
    ("1:10", "must be 1 to 9"),
    ("1:satisfied,kp1:unsatisfied", "two levels"),
])
def test_bad_maps_are_refused_clearly(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_map(spec)


def test_open_rating_keypad() -> None:
    keypad = open_rating_keypad("evdev:///dev/input/by-id/usb-RatingPad-event-kbd")
    assert (keypad.path, keypad.grab, keypad.keys, keypad.debounce) == (
        "/dev/input/by-id/usb-RatingPad-event-kbd", True, DEFAULT_MAP, 0.4)
    keypad = open_rating_keypad("evdev:///dev/input/event5?map=1:very_satisfied,2:satisfied,3:unsatisfied"
                                "&grab=0&debounce=1.5")
    assert (keypad.url, keypad.grab, keypad.debounce) == ("evdev:///dev/input/event5", False, 1.5)
    assert keypad.keys[ecodes.KEY_KP3] == Choice(level="unsatisfied")


@pytest.mark.parametrize(("url", "message"), [
    ("/dev/input/event3", "expected evdev:///dev/input"),
    ("serial:///dev/ttyACM0", "unknown scheme 'serial'"),
    ("evdev://dev/input/event3", "three slashes"),
    ("evdev:///dev/input/event3#x", "fragments"),
    ("evdev:///dev/input/event3?terminator=enter", "unknown parameter 'terminator'"),
    ("evdev:///dev/input/event3?map=1:x&map=2:y", "given twice"),
    ("evdev:///dev/input/event3?map=q1:satisfied", "unknown key 'q1'"),
    ("evdev:///dev/input/event3?grab=maybe", "grab"),
    ("evdev:///dev/input/event3?debounce=11", "debounce: expected 0 to 10 seconds"),
])
def test_bad_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_rating_keypad(url)


def test_the_reader_grabs_the_keypad_decodes_presses_and_reopens_it(monkeypatch: pytest.MonkeyPatch) -> None:
    devices, path = FakeInputDevices(), "/dev/input/by-id/usb-RatingPad_3K-event-kbd"
    monkeypatch.setattr(rating_keypad.evdev, "InputDevice", devices)
    devices.plug(path)
    keypad, received = EvdevRatingKeypad(path, retry_min=0.02, retry_max=0.05), Received()
    with running(keypad, received):                     # type: ignore[arg-type]  (any reader of the shared loop)
        assert devices.grabbed == [path]
        devices.send(path, Keypad(start=time.time()).presses("KEY_KP2", "KEY_KP2"))   # 1 s apart: two presses
        assert [received.next(), received.next()] == [SECOND, SECOND]
        devices.send(path, Keypad(start=time.time() + 5, gap=0.05).presses("KEY_KP1", "KEY_KP3"))
        assert received.next() == FIRST and received.none_within(0.2)                 # a double tap
        devices.unplug(path)
        wait_for(lambda: len(received.errors) == 2)
        assert [str(e) for e in received.errors] == [
            f"evdev://{path}: the rating keypad went away (No such device); waiting for it to come back",
            f"evdev://{path}: no such device (is the rating keypad plugged in? see ls -l /dev/input/by-id/)"]
        devices.plug(path)
        wait_for(lambda: keypad.connected)
        devices.send(path, Keypad(start=time.time() + 10).press("KEY_3"))
        assert received.next() == THIRD
    assert devices.grabbed == devices.released == [path, path]
    assert not keypad.connected
    devices.unplug(path)


def test_a_missing_keypad_is_reported_and_retried() -> None:
    keypad, received = EvdevRatingKeypad("/dev/input/by-id/usb-absent-event-kbd", retry_min=0.02, retry_max=0.05), \
        Received()
    with running(keypad, received, connected=False):    # type: ignore[arg-type]
        wait_for(lambda: received.errors)
        time.sleep(0.15)
        assert keypad._thread is not None and keypad._thread.is_alive()
    [error] = received.errors
    assert isinstance(error, KeypadUnavailable) and "is the rating keypad plugged in?" in str(error)
    assert keypad.last_error == str(error)


def test_a_failing_handler_does_not_stop_the_keypad(monkeypatch: pytest.MonkeyPatch) -> None:
    devices, path = FakeInputDevices(), "/dev/input/event9"
    monkeypatch.setattr(rating_keypad.evdev, "InputDevice", devices)
    devices.plug(path)
    keypad, received, calls = EvdevRatingKeypad(path), Received(), []

    def flaky(choice: Choice) -> None:
        calls.append(choice)
        if len(calls) == 1:
            raise RuntimeError("the server answered nonsense")
        received.on_scan(choice)                           # type: ignore[arg-type]

    keypad.start(flaky, received.on_error)
    try:
        wait_for(lambda: keypad.connected)
        devices.send(path, Keypad(start=time.time()).presses("KEY_1", "KEY_2"))
        assert received.next() == SECOND and calls == [FIRST, SECOND]
    finally:
        keypad.stop()
        devices.unplug(path)


def test_the_keypad_module_imports_without_evdev_and_without_the_server() -> None:
    code = (
        "import sys\n"
        "sys.modules['evdev'] = None\n"
        "from hardware.rating_keypad import open_rating_keypad, RatingKeyDecoder, KeypadUnavailable\n"
        "try:\n"
        "    open_rating_keypad('evdev:///dev/input/event3')\n"
        "except KeypadUnavailable as exc:\n"
        "    print(exc)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'queue_server', 'flask', 'flask_socketio'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "evdev:///dev/input/event3: python-evdev is not installed (pip install evdev, Linux only)", "[]"]
