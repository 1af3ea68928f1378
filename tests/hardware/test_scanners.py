"""Scanners: keyboard-mode scans decoded from real evdev events, serial scanners on real ptys."""
from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import struct
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from evdev import InputEvent, KeyEvent, categorize, ecodes

from hardware import keymap, scanners
from hardware.cp1258 import encode_cp1258
from hardware.scanners import (
    EvdevBarcodeReader,
    KeyEventDecoder,
    ScannerError,
    ScannerUnavailable,
    SerialBarcodeReader,
    SerialScanDecoder,
    open_reader,
)

ROOT = Path(__file__).resolve().parents[2]
DOSSIER = "000.00.12.H56-250915-0007"
LOOKUP_URL = f"https://dichvucong.example.gov.vn/tra-cuu?ma={DOSSIER}&nguon=qr_phieu%20hen"
QR_BLOCK = f"Mã hồ sơ: {DOSSIER}\nHọ tên: Nguyễn Thị Hồng Nhung\nNgày hẹn trả: 22/09/2025"

# --- keyboard-mode scanners: events as a US-layout scanner sends them ---------------------------------

# How a US keyboard types each printable ASCII character, by the kernel's key names: written out
# here independently of hardware.keymap, so the decoder is checked against evdev's own codes.
_PUNCTUATION = {
    " ": ("KEY_SPACE", False), "-": ("KEY_MINUS", False), "_": ("KEY_MINUS", True), "=": ("KEY_EQUAL", False),
    "+": ("KEY_EQUAL", True), "[": ("KEY_LEFTBRACE", False), "{": ("KEY_LEFTBRACE", True),
    "]": ("KEY_RIGHTBRACE", False), "}": ("KEY_RIGHTBRACE", True), ";": ("KEY_SEMICOLON", False),
    ":": ("KEY_SEMICOLON", True), "'": ("KEY_APOSTROPHE", False), '"': ("KEY_APOSTROPHE", True),
    "`": ("KEY_GRAVE", False), "~": ("KEY_GRAVE", True), "\\": ("KEY_BACKSLASH", False), "|": ("KEY_BACKSLASH", True),
    ",": ("KEY_COMMA", False), "<": ("KEY_COMMA", True), ".": ("KEY_DOT", False), ">": ("KEY_DOT", True),
    "/": ("KEY_SLASH", False), "?": ("KEY_SLASH", True), "\n": ("KEY_ENTER", False), "\t": ("KEY_TAB", False),
}
_SHIFTED_DIGITS = dict(zip(")!@#$%^&*(", "0123456789", strict=True))


def key_for(char: str) -> tuple[int, bool]:
    if char.isascii() and char.isalpha():
        return ecodes.ecodes[f"KEY_{char.upper()}"], char.isupper()
    if char.isascii() and char.isdigit():
        return ecodes.ecodes[f"KEY_{char}"], False
    if char in _SHIFTED_DIGITS:
        return ecodes.ecodes[f"KEY_{_SHIFTED_DIGITS[char]}"], True
    name, shift = _PUNCTUATION[char]
    return ecodes.ecodes[name], shift


class Scanner:
    """Builds the events a keyboard-mode scanner sends, with its timing: each key is an MSC_SCAN,
    a press, a SYN, an MSC_SCAN, a release and a SYN, `step` seconds apart; Shift (left or right)
    is held around shifted characters."""

    def __init__(self, start: float = 1_757_900_000.0, step: float = 0.002, shift: str = "KEY_LEFTSHIFT") -> None:
        self.now, self.step, self.shift = start, step, ecodes.ecodes[shift]

    def _at(self, kind: int, code: int, value: int) -> InputEvent:
        sec = int(self.now)
        return InputEvent(sec, round((self.now - sec) * 1_000_000), kind, code, value)

    def key(self, code: int, value: int = 1) -> list[InputEvent]:
        events = [self._at(ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code),
                  self._at(ecodes.EV_KEY, code, value), self._at(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]
        self.now += self.step
        return events

    def tap(self, code: int) -> list[InputEvent]:
        return self.key(code, 1) + self.key(code, 0)

    def type(self, text: str, end: str | None = "KEY_ENTER") -> list[InputEvent]:
        events: list[InputEvent] = []
        for char in text:
            code, shifted = key_for(char)
            if shifted:
                events += self.key(self.shift, 1)
            events += self.tap(code)
            if shifted:
                events += self.key(self.shift, 0)
        if end is not None:
            events += self.tap(ecodes.ecodes[end])
        return events

    def wait(self, seconds: float) -> None:
        self.now += seconds


def decode_all(decoder: KeyEventDecoder, events: list[InputEvent]) -> list[str]:
    scans = decoder.feed_many(events)
    if (last := decoder.flush()) is not None:
        scans.append(last)
    return scans


def test_the_events_are_real_key_events() -> None:
    events = Scanner().type("A")
    assert [type(categorize(e)).__name__ for e in events[:6]] == [
        "InputEvent", "KeyEvent", "SynEvent", "InputEvent", "KeyEvent", "SynEvent"]
    assert categorize(events[1]).keycode == "KEY_LEFTSHIFT"
    assert categorize(events[4]).keystate == KeyEvent.key_down


def test_keymap_uses_the_kernels_key_codes() -> None:
    for name in ("EV_SYN", "EV_KEY", "EV_MSC", "KEY_TAB", "KEY_ENTER", "KEY_KPENTER", "KEY_LEFTSHIFT",
                 "KEY_RIGHTSHIFT", "KEY_CAPSLOCK", "KEY_LEFTCTRL", "KEY_RIGHTALT", "KEY_LEFTMETA"):
        assert getattr(keymap, name) == ecodes.ecodes[name], name
    pad = {"7": "KP7", "8": "KP8", "9": "KP9", "4": "KP4", "5": "KP5", "6": "KP6", "1": "KP1", "2": "KP2",
           "3": "KP3", "0": "KP0", ".": "KPDOT", "-": "KPMINUS", "+": "KPPLUS", "*": "KPASTERISK", "/": "KPSLASH",
           "=": "KPEQUAL", ",": "KPCOMMA"}
    assert {ecodes.ecodes[f"KEY_{name}"]: char for char, name in pad.items()} == keymap.KEYPAD_KEYS


def test_every_printable_ascii_character_comes_through() -> None:
    text = "".join(map(chr, range(0x21, 0x7F)))          # without the space, which a scan cannot end with
    assert decode_all(KeyEventDecoder(), Scanner().type(text)) == [text]
    assert len(keymap.US_KEYS) == 48                        # every key of the US main block, and no other


@pytest.mark.parametrize("shift", ["KEY_LEFTSHIFT", "KEY_RIGHTSHIFT"])
@pytest.mark.parametrize("text", ["abc", "ABC", "AbC dEf", "H56", "a:b?c_d", "Q&A=100%"])
def test_letters_and_punctuation_with_either_shift(text: str, shift: str) -> None:
    assert decode_all(KeyEventDecoder(), Scanner(shift=shift).type(text)) == [text]


@pytest.mark.parametrize("text", [DOSSIER, LOOKUP_URL, "000.00.04.G14-260102-0123", "H55.242-251231-9999"])
def test_dossier_codes_and_lookup_urls(text: str) -> None:
    assert decode_all(KeyEventDecoder(), Scanner().type(text)) == [text]


def test_shift_applies_only_while_held() -> None:
    s = Scanner()
    events = s.key(ecodes.KEY_RIGHTSHIFT, 1) + s.tap(ecodes.KEY_H) + s.key(ecodes.KEY_RIGHTSHIFT, 0)
    events += s.tap(ecodes.KEY_5) + s.tap(ecodes.KEY_6) + s.tap(ecodes.KEY_ENTER)
    assert decode_all(KeyEventDecoder(), events) == ["H56"]


def test_caps_lock_changes_letters_only() -> None:
    s = Scanner()
    events = s.tap(ecodes.KEY_CAPSLOCK) + s.type("h56-", end=None)                # CapsLock: upper letters
    events += s.type("A", end=None)                                              # Shift under CapsLock: lower
    events += s.tap(ecodes.KEY_CAPSLOCK) + s.type("b")
    assert decode_all(KeyEventDecoder(), events) == ["H56-ab"]
    assert decode_all(KeyEventDecoder(caps_lock=True), Scanner().type("abc")) == ["ABC"]


def test_keypad_digits() -> None:
    s = Scanner()
    codes = [ecodes.KEY_KP2, ecodes.KEY_KP5, ecodes.KEY_KPDOT, ecodes.KEY_KP0, ecodes.KEY_KPMINUS, ecodes.KEY_KP7,
             ecodes.KEY_KPENTER]
    assert decode_all(KeyEventDecoder(), [e for code in codes for e in s.tap(code)]) == ["25.0-7"]


def test_noise_events_are_ignored() -> None:
    s = Scanner()
    noise = [InputEvent(1, 0, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70028), InputEvent(1, 0, ecodes.EV_SYN, 0, 0),
             InputEvent(1, 0, ecodes.EV_LED, ecodes.LED_NUML, 1), InputEvent(1, 0, ecodes.EV_REL, ecodes.REL_X, 5),
             InputEvent(1, 0, ecodes.EV_MSC, ecodes.MSC_SCAN, ecodes.KEY_ENTER)]   # an MSC value like a key code
    events = []
    for chunk in (s.type("H5", end=None), s.type("6", end=None), s.type("")):
        events += noise + chunk
    assert decode_all(KeyEventDecoder(), events) == ["H56"]


def test_repeats_and_stray_releases_are_ignored() -> None:
    s = Scanner()
    events = s.key(ecodes.KEY_B, 0)                                       # released, never pressed
    events += s.key(ecodes.KEY_A, 1) + s.key(ecodes.KEY_A, 2) + s.key(ecodes.KEY_A, 2) + s.key(ecodes.KEY_A, 0)
    events += s.key(ecodes.KEY_ENTER, 1) + s.key(ecodes.KEY_ENTER, 2) + s.key(ecodes.KEY_ENTER, 0)
    assert decode_all(KeyEventDecoder(), events) == ["a"]


def test_keys_typed_with_ctrl_or_alt_held_are_shortcuts_not_text() -> None:
    s = Scanner()
    events = s.type("A1", end=None) + s.key(ecodes.KEY_LEFTCTRL, 1) + s.tap(ecodes.KEY_V)
    events += s.key(ecodes.KEY_LEFTCTRL, 0) + s.type("B2")
    assert decode_all(KeyEventDecoder(), events) == ["A1B2"]


def test_unknown_keys_type_nothing() -> None:
    s = Scanner()
    events = s.tap(ecodes.KEY_F5) + s.type("A", end=None) + s.tap(ecodes.KEY_LEFT) + s.type("B")
    assert decode_all(KeyEventDecoder(), events) == ["AB"]


@pytest.mark.parametrize("end", ["KEY_ENTER", "KEY_KPENTER", "KEY_TAB"])
def test_enter_keypad_enter_and_tab_end_a_scan(end: str) -> None:
    decoder = KeyEventDecoder(join_within=0)
    assert decoder.feed_many(Scanner().type(DOSSIER, end=end)) == [DOSSIER]
    assert not decoder.waiting


def test_the_terminator_keys_are_configurable() -> None:
    decoder = KeyEventDecoder(terminators=["KP_ENTER"], join_within=0)
    s = Scanner()
    assert decoder.feed_many(s.type("a\tb\nc", end="KEY_KPENTER")) == ["a\tb\nc"]   # TAB and ENTER are text now
    with pytest.raises(ValueError, match="unknown key 'esc'"):
        KeyEventDecoder(terminators=["enter", "esc"])
    with pytest.raises(ValueError, match="at least one"):
        KeyEventDecoder(terminators=[])


def test_a_scan_is_held_back_for_the_join_window_then_complete() -> None:
    decoder, s = KeyEventDecoder(join_within=0.08), Scanner()
    assert decoder.feed_many(s.type(DOSSIER)) == []
    assert decoder.waiting
    s.wait(0.5)
    assert decoder.feed_many(s.type(LOOKUP_URL)) == [DOSSIER]     # a later key completes the one before
    assert decoder.flush() == LOOKUP_URL
    assert decoder.flush() is None and not decoder.waiting


def test_a_multi_line_qr_text_stays_one_scan() -> None:
    """What a keyboard-mode scanner makes of the QR text block: the ASCII, its line breaks typed as
    ENTER (the same key as the suffix), and no "ã", "ồ", "ơ" at all."""
    typed = "M h s: 000.00.12.H56-250915-0007\nH tn: Nguyn Th Hng Nhung\n\nNgy hn tr: 22/09/2025"
    assert decode_all(KeyEventDecoder(), Scanner().type(typed)) == [typed]
    assert decode_all(KeyEventDecoder(join_within=0), Scanner().type(typed)) == [line for line in typed.split("\n")
                                                                                if line]


def test_a_stale_partial_scan_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    s = Scanner()
    events = s.type("000.00.12.H5", end=None)          # the scanner lost the rest of it
    s.wait(2.0)
    events += s.type(DOSSIER)
    with caplog.at_level(logging.INFO, logger="hardware.scanners"):
        assert decode_all(KeyEventDecoder(), events) == [DOSSIER]
    assert "dropped a partial scan of 12 characters" in caplog.text


def test_a_slow_scanner_within_the_stale_limit_is_kept() -> None:
    s = Scanner(step=0.04)
    events = s.type("000.00.12", end=None)
    s.wait(0.3)
    events += s.type(".H56-250915-0007")
    assert decode_all(KeyEventDecoder(stale_after=0.5), events) == [DOSSIER]


def test_an_over_long_scan_is_dropped_and_the_next_one_is_read(caplog: pytest.LogCaptureFixture) -> None:
    decoder, s = KeyEventDecoder(max_length=40), Scanner()
    with caplog.at_level(logging.WARNING, logger="hardware.scanners"):
        assert decoder.feed_many(s.type("9" * 5000)) == []
        assert decoder.flush() is None
    assert "longer than 40 characters" in caplog.text
    assert decode_all(decoder, s.type("A" * 40)) == ["A" * 40]
    assert decode_all(decoder, s.type("A" * 41)) == []


def test_decoder_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="join_within"):
        KeyEventDecoder(join_within=1.0, stale_after=0.5)
    with pytest.raises(ValueError, match="max_length"):
        KeyEventDecoder(max_length=0)


# --- serial scanners: the decoder, then the reader on real ptys -----------------------------------------

def test_serial_decoder_splits_at_the_terminator_and_cleans_up() -> None:
    decoder = SerialScanDecoder("cr")
    assert decoder.feed(f"{DOSSIER}\r\n{LOOKUP_URL}\r\n\r\n".encode(), 0.0) == [DOSSIER, LOOKUP_URL]
    assert decoder.feed(b"\x02H56-0007\x03\r", 0.1) == ["H56-0007"]       # STX/ETX framing dropped
    assert decoder.feed("Mã hồ sơ: X\r\nHọ tên: A".encode() + b"\x03", 0.2) == ["Mã hồ sơ: X"]  # CR clashes
    assert SerialScanDecoder("0x03").feed("Mã hồ sơ: X\r\nHọ tên: A\x03".encode(), 0.0) == ["Mã hồ sơ: X\nHọ tên: A"]


def test_serial_decoder_keeps_split_characters_and_terminators_whole() -> None:
    data = (QR_BLOCK + "\r\n").encode()
    for size in (1, 2, 3, 7):
        decoder = SerialScanDecoder("crlf")
        chunks = [data[i:i + size] for i in range(0, len(data), size)]
        assert [scan for n, chunk in enumerate(chunks) for scan in decoder.feed(chunk, n * 0.001)] == [QR_BLOCK]


def test_serial_decoder_drops_stale_and_over_long_input(caplog: pytest.LogCaptureFixture) -> None:
    decoder = SerialScanDecoder("cr", max_length=64, stale_after=0.5)
    assert decoder.feed(b"000.00.12", 10.0) == []
    assert decoder.feed(f"{DOSSIER}\r".encode(), 11.0) == [DOSSIER]          # the stale start is gone
    with caplog.at_level(logging.WARNING, logger="hardware.scanners"):
        for n in range(100):
            assert decoder.feed(b"x" * 1000, 12 + n * 0.001) == []
        assert decoder.feed(b"x\rH56\r", 12.2) == ["H56"]
    assert "longer than 64 bytes" in caplog.text
    assert len(decoder._buffer) == 0
    assert decoder.feed(b"y" * 100, 13.0) == []                             # overflowing, then silence:
    assert decoder.feed(b"H57\r", 14.0) == ["H57"]                          # the next scan is fine


def test_serial_decoder_replaces_bytes_that_are_not_utf8(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hardware.scanners"):
        assert SerialScanDecoder().feed(b"M\xe3 h\xf4 s\xf4\r", 0) == ["M\ufffd h\ufffd s\ufffd"]
    assert "not valid utf-8" in caplog.text
    assert SerialScanDecoder(encoding="cp1258").feed(encode_cp1258("Mã hồ sơ\r"), 0) == ["Mã hồ sơ"]


class PtyScanner:
    """The scanner end of a pty; the reader opens `path` (or `link`, which can be pointed at a new
    pty to play a scanner that was unplugged and plugged in again)."""

    def __init__(self, link: Path | None = None) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        if link is not None:
            tmp = link.with_suffix(".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.path)
            os.replace(tmp, link)

    def send(self, data: bytes | str) -> None:
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def unplug(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class Received:
    """Scans and errors as the callbacks deliver them, on the reader's thread."""

    def __init__(self) -> None:
        self.scans: queue.Queue[str] = queue.Queue()
        self.errors: list[ScannerError] = []
        self.threads: set[str] = set()

    def on_scan(self, text: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.scans.put(text)

    def on_error(self, error: ScannerError) -> None:
        self.errors.append(error)

    def next(self, timeout: float = 2.0) -> str:
        return self.scans.get(timeout=timeout)

    def none_within(self, seconds: float) -> bool:
        try:
            self.scans.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


def wait_for(condition, timeout: float = 3.0) -> None:  # noqa: ANN001 - any callable
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true in time")
        time.sleep(0.01)


@pytest.fixture
def pty_scanner() -> Iterator[PtyScanner]:
    scanner = PtyScanner()
    yield scanner
    scanner.unplug()


@contextlib.contextmanager
def running(reader: SerialBarcodeReader | EvdevBarcodeReader, received: Received,
            connected: bool = True) -> Iterator[None]:
    reader.start(received.on_scan, received.on_error)
    try:
        if connected:
            wait_for(lambda: reader.connected)
        yield
    finally:
        reader.stop()


def test_serial_scans_arrive_from_a_pty(pty_scanner: PtyScanner) -> None:
    reader, received = open_reader(f"serial://{pty_scanner.path}?baudrate=9600&terminator=cr"), Received()
    with running(reader, received):
        pty_scanner.send(DOSSIER + "\r")
        assert received.next() == DOSSIER
        pty_scanner.send(f"{DOSSIER}\r{LOOKUP_URL}\r")                      # back to back, one write
        assert [received.next(), received.next()] == [DOSSIER, LOOKUP_URL]
        for part in ("000.00.1", "2.H56-2509", "15-0007", "\r"):                # split across writes
            pty_scanner.send(part)
            time.sleep(0.02)
        assert received.next() == DOSSIER
    assert received.threads == {f"scanner serial://{pty_scanner.path}"}
    assert not reader.connected and received.errors == []


def test_serial_vietnamese_qr_text_block(pty_scanner: PtyScanner) -> None:
    reader, received = open_reader(f"serial://{pty_scanner.path}?terminator=cr"), Received()
    data = QR_BLOCK.encode()
    with running(reader, received):
        pty_scanner.send(data[:5])                                  # "Mã" cut inside the "ã"
        time.sleep(0.02)
        pty_scanner.send(data[5:] + b"\r")
        assert received.next() == QR_BLOCK
        pty_scanner.send(QR_BLOCK.replace("\n", "\r\n").encode() + b"\x03")     # CRLF text, ETX suffix:
        assert [received.next(), received.next()] == QR_BLOCK.split("\n")[:2]     # CR cuts it into lines
    reader, received = open_reader(f"serial://{pty_scanner.path}?terminator=0x03"), Received()
    with running(reader, received):
        pty_scanner.send(QR_BLOCK.replace("\n", "\r\n").encode() + b"\x03")
        assert received.next() == QR_BLOCK


@pytest.mark.parametrize(("terminator", "suffix"), [
    ("cr", "\r"), ("cr", "\r\n"), ("lf", "\n"), ("lf", "\r\n"), ("crlf", "\r\n"), ("tab", "\t"), ("0x04", "\x04"),
])
def test_serial_terminators(pty_scanner: PtyScanner, terminator: str, suffix: str) -> None:
    reader, received = open_reader(f"serial://{pty_scanner.path}?terminator={terminator}"), Received()
    with running(reader, received):
        pty_scanner.send(DOSSIER + suffix + LOOKUP_URL + suffix)
        assert [received.next(), received.next()] == [DOSSIER, LOOKUP_URL]


def test_a_failing_scan_handler_does_not_stop_the_reader(pty_scanner: PtyScanner) -> None:
    scans: list[str] = []

    def on_scan(text: str) -> None:
        scans.append(text)
        if len(scans) == 1:
            raise RuntimeError("the kiosk had a bad moment")

    reader = SerialBarcodeReader(pty_scanner.path)
    reader.start(on_scan)
    try:
        wait_for(lambda: reader.connected)
        pty_scanner.send("A1\rA2\r")
        wait_for(lambda: len(scans) == 2)
    finally:
        reader.stop()
    assert scans == ["A1", "A2"]


def test_the_serial_reader_reopens_a_scanner_that_came_back(tmp_path: Path) -> None:
    link = tmp_path / "usb-Honeywell_scanner-if00"                 # like /dev/serial/by-id/…
    first = PtyScanner(link)
    reader, received = SerialBarcodeReader(str(link), retry_min=0.05, retry_max=0.1), Received()
    with running(reader, received):
        first.send("H56-0001\r")
        assert received.next() == "H56-0001"
        first.unplug()
        link.unlink()
        wait_for(lambda: len(received.errors) >= 2)
        went_away, missing = received.errors[:2]
        assert "the scanner went away" in str(went_away) and isinstance(went_away, ScannerUnavailable)
        assert "cannot open" in str(missing) and "No such file" in str(missing)
        assert not reader.connected and reader.last_error == str(missing)
        time.sleep(0.3)                                           # retrying, but not repeating itself
        assert len(received.errors) == 2
        second = PtyScanner(link)
        try:
            wait_for(lambda: reader.connected)
            assert reader.last_error is None
            second.send("H56-0002\r")
            assert received.next() == "H56-0002"
        finally:
            second.unplug()


def test_stop_is_prompt_and_idempotent(pty_scanner: PtyScanner) -> None:
    reader = SerialBarcodeReader(pty_scanner.path)
    reader.start(lambda text: None)
    wait_for(lambda: reader.connected)
    with pytest.raises(RuntimeError, match="already running"):
        reader.start(lambda text: None)
    started = time.monotonic()
    reader.stop()
    reader.stop()
    assert time.monotonic() - started < 1.0
    assert not reader.connected


# --- keyboard-mode readers on this machine, which has no input devices -------------------------------

def test_open_reader_builds_an_evdev_reader() -> None:
    reader = open_reader("evdev:///dev/input/by-id/usb-Honeywell_Imaging_1900-event-kbd")
    assert isinstance(reader, EvdevBarcodeReader)
    assert (reader.path, reader.grab, reader.terminators) == (
        "/dev/input/by-id/usb-Honeywell_Imaging_1900-event-kbd", True, ("enter", "kpenter", "tab"))
    reader = open_reader("evdev:///dev/input/event7?grab=0&terminator=enter,KP_ENTER&join_within=0&stale_after=1")
    assert (reader.path, reader.grab, reader.terminators, reader.join_within, reader.stale_after) == (
        "/dev/input/event7", False, ("enter", "KP_ENTER"), 0.0, 1.0)
    assert not reader.connected


@pytest.mark.parametrize(("path", "message"), [
    ("/dev/input/by-id/usb-Honeywell_Imaging_1900-event-kbd", "no such device (is the scanner plugged in?"),
    ("/dev/null", "cannot open: Inappropriate ioctl for device (not an input device?)"),
])
def test_an_evdev_reader_reports_a_missing_device_and_keeps_trying(path: str, message: str) -> None:
    reader, received = EvdevBarcodeReader(path, retry_min=0.02, retry_max=0.05), Received()
    with running(reader, received, connected=False):
        wait_for(lambda: received.errors)
        time.sleep(0.2)                                           # several retries, one report
        assert reader._thread is not None and reader._thread.is_alive()
    [error] = received.errors
    assert isinstance(error, ScannerUnavailable) and str(error) == f"evdev://{path}: {message}" + (
        " see ls -l /dev/input/by-id/)" if "plugged" in message else "")
    assert reader.last_error == str(error) and not reader.connected


class FakeInputDevices:
    """Keyboard-mode scanners for the reader's loop, without /dev/input: stands in for
    evdev.InputDevice (the library, not our code) with a pipe carrying struct input_event bytes,
    so the reader selects on a real descriptor and reads real kernel-format events."""
    EVENT = struct.Struct("llHHi")

    def __init__(self) -> None:
        self.plugged: dict[str, tuple[int, int]] = {}
        self.grabbed: list[str] = []
        self.released: list[str] = []

    def plug(self, path: str) -> None:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        self.plugged[path] = (read_end, write_end)

    def send(self, path: str, events: list[InputEvent]) -> None:
        os.write(self.plugged[path][1], b"".join(
            self.EVENT.pack(e.sec, e.usec, e.type, e.code, e.value) for e in events))

    def unplug(self, path: str) -> None:
        os.close(self.plugged.pop(path)[1])

    def __call__(self, path: str) -> FakeInputDevices.Device:
        if path not in self.plugged:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return self.Device(self, path, self.plugged[path][0])

    class Device:
        def __init__(self, devices: FakeInputDevices, path: str, fd: int) -> None:
            self.devices, self.path, self.fd = devices, path, fd

        def grab(self) -> None:
            self.devices.grabbed.append(self.path)

        def ungrab(self) -> None:
            self.devices.released.append(self.path)

        def read(self) -> Iterator[InputEvent]:
            data = os.read(self.fd, self.devices.EVENT.size * 64)     # BlockingIOError when empty
            if not data:
                raise OSError(errno.ENODEV, "No such device")
            for fields in self.devices.EVENT.iter_unpack(data):
                yield InputEvent(*fields)

        def close(self) -> None:
            with contextlib.suppress(OSError):
                os.close(self.fd)


def test_the_evdev_reader_loop_grabs_decodes_joins_and_reopens(monkeypatch: pytest.MonkeyPatch) -> None:
    devices, path = FakeInputDevices(), "/dev/input/by-id/usb-Honeywell_Imaging_1900-event-kbd"
    monkeypatch.setattr(scanners.evdev, "InputDevice", devices)
    devices.plug(path)
    reader, received = EvdevBarcodeReader(path, retry_min=0.02, retry_max=0.05), Received()
    with running(reader, received):
        assert devices.grabbed == [path]
        s = Scanner(start=time.time())
        devices.send(path, s.type(LOOKUP_URL))
        assert received.next() == LOOKUP_URL                  # after the join window, with no more keys
        typed = "M h s: 000.00.12.H56-250915-0007\nH tn: Nguyn Th Hng Nhung"
        devices.send(path, s.type(typed[:12], end=None))       # a slow USB poll mid-scan
        time.sleep(0.03)
        devices.send(path, s.type(typed[12:]))
        assert received.next() == typed
        devices.send(path, s.type(DOSSIER))
        devices.unplug(path)                                   # right after a scan: it still counts
        assert received.next() == DOSSIER
        wait_for(lambda: len(received.errors) == 2)
        assert [str(e) for e in received.errors] == [
            f"evdev://{path}: the scanner went away (No such device); waiting for it to come back",
            f"evdev://{path}: no such device (is the scanner plugged in? see ls -l /dev/input/by-id/)"]
        assert devices.released == [path]
        devices.plug(path)
        wait_for(lambda: reader.connected)
        devices.send(path, Scanner(start=time.time()).type("H56-0002"))
        assert received.next() == "H56-0002"
    assert devices.grabbed == devices.released == [path, path]
    devices.unplug(path)


def test_the_serial_reader_reports_a_missing_port() -> None:
    reader, received = open_reader("serial:///dev/ttyACM9?baudrate=9600"), Received()
    with running(reader, received, connected=False):
        wait_for(lambda: received.errors)
    assert str(received.errors[0]).startswith("serial:///dev/ttyACM9: cannot open:")


@pytest.mark.parametrize(("url", "kind", "attrs"), [
    ("serial:///dev/ttyACM0", SerialBarcodeReader, {"port": "/dev/ttyACM0", "terminator": b"\r", "encoding": "utf-8"}),
    ("serial:///dev/serial/by-id/usb-Zebra-if00?baudrate=115200&terminator=crlf&encoding=cp1258&parity=e",
     SerialBarcodeReader, {"terminator": b"\r\n", "encoding": "cp1258", "url": "serial:///dev/serial/by-id/usb-Zebra-if00"}),
    ("serial:///dev/ttyS0?terminator=0x0D0A&max_length=100&stale_after=2", SerialBarcodeReader,
     {"terminator": b"\r\n", "max_length": 100, "stale_after": 2.0}),
    ("evdev:///dev/input/event3?max_length=64", EvdevBarcodeReader, {"max_length": 64, "url": "evdev:///dev/input/event3"}),
])
def test_good_urls(url: str, kind: type, attrs: dict) -> None:
    reader = open_reader(url)
    assert isinstance(reader, kind)
    for name, value in attrs.items():
        assert getattr(reader, name) == value, name
    if isinstance(reader, SerialBarcodeReader) and "parity" in url:
        assert reader.settings["parity"] == "E" and reader.settings["baudrate"] == 115200


@pytest.mark.parametrize(("url", "message"), [
    ("", "expected evdev:///dev/input"),
    ("/dev/input/event3", "expected evdev:///dev/input"),
    ("hid://0c2e:0b61", "unknown scheme 'hid'"),
    ("evdev://dev/input/event3", "three slashes"),
    ("evdev:///dev/input/", "three slashes"),
    ("serial://ttyACM0", "three slashes"),
    ("evdev:///dev/input/event3#x", "fragments"),
    ("evdev:///dev/input/event3?baudrate=9600", "unknown parameter 'baudrate'"),
    ("evdev:///dev/input/event3?terminator=esc", "unknown key 'esc'"),
    ("evdev:///dev/input/event3?terminator=", "at least one key"),
    ("evdev:///dev/input/event3?grab=maybe", "grab"),
    ("evdev:///dev/input/event3?join_within=0.9", "join_within .* below stale_after"),
    ("evdev:///dev/input/event3?max_length=0", "max_length: expected 1 to 65536"),
    ("serial:///dev/ttyACM0?terminator=etx", "terminator: expected cr, lf, crlf, tab or hex"),
    ("serial:///dev/ttyACM0?terminator=0xZZ", "hex bytes"),
    ("serial:///dev/ttyACM0?terminator=0x0102030405", "1 to 4 bytes"),
    ("serial:///dev/ttyACM0?encoding=viscii-ish", "unknown encoding"),
    ("serial:///dev/ttyACM0?baudrate=9601", "baudrate"),
    ("serial:///dev/ttyACM0?terminator=cr&terminator=lf", "given twice"),
    ("serial:///dev/ttyACM0?grab=1", "unknown parameter 'grab'"),
])
def test_bad_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_reader(url)


def test_scanners_import_without_evdev_and_without_the_server() -> None:
    code = (
        "import sys\n"
        "sys.modules['evdev'] = None\n"
        "from hardware.scanners import open_reader, ScannerUnavailable, KeyEventDecoder\n"
        "assert open_reader('serial:///dev/ttyACM0').url == 'serial:///dev/ttyACM0'\n"
        "try:\n"
        "    open_reader('evdev:///dev/input/event3')\n"
        "except ScannerUnavailable as exc:\n"
        "    print(exc)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'queue_server', 'flask', 'flask_socketio'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "evdev:///dev/input/event3: python-evdev is not installed (pip install evdev, Linux only)", "[]"]
