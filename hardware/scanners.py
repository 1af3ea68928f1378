"""Barcode and QR scanners behind one small role, chosen by URL.

    evdev:///dev/input/by-id/usb-Honeywell_Imaging-event-kbd?grab=1&terminator=enter,kpenter,tab
    serial:///dev/ttyACM0?baudrate=9600&terminator=cr&encoding=utf-8

A reader owns a thread: `start(on_scan, on_error)` and `stop()`. It opens the device in that
thread, calls `on_scan(text)` once per scan, and when the device is missing or goes away (USB
unplugged) it reports through `on_error` and reopens it with backoff, for as long as it runs. Both
callbacks are called on the reader's thread; an exception in one is logged and changes nothing.
Scans are never logged (a QR text block carries the citizen's name), only their length.

A scan comes out stripped of surrounding whitespace and control characters, with line breaks as
"\n": a bare dossier code (`000.00.12.H56-250915-0007`), a lookup URL ending in one, or a
multi-line QR text block with a line "Mã hồ sơ: …". Finding the code in it is the caller's job.

Keyboard-mode (USB HID) scanners are read through evdev and grabbed, so their keystrokes never
reach the kiosk browser. They type on a US layout and cannot type non-ASCII text (see keymap):
Vietnamese QR text needs a scanner in serial mode (USB CDC or RS-232), read as UTF-8 by default.
The reader needs read access to /dev/input/event* (the `input` group, or a udev rule).

A keyboard-mode scanner types the line breaks inside a QR text block with the same ENTER key that
ends the scan, so the two are told apart by time: an ENTER followed by more keys within
`join_within` seconds (0.08 by default; scanners type a key every few milliseconds, people scan
at most every few hundred) continues the same scan on a new line. A serial scanner sends its own
terminator (CR by default, while QR texts break lines with LF); pick one that cannot occur inside
a code (a hex byte such as `terminator=0x03`) if they clash.
"""
from __future__ import annotations

import codecs
import contextlib
import errno
import logging
import select
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from . import keymap
from .transports import _PARAMS as _TRANSPORT_PARAMS
from .transports import _boolean, _integer, _seconds

try:  # optional: only keyboard-mode scanners need python-evdev (Linux only)
    import evdev
except ImportError:  # pragma: no cover - depends on the machine
    evdev = None

try:  # optional: only serial scanners need pyserial
    import serial
except ImportError:  # pragma: no cover - depends on the machine
    serial = None

log = logging.getLogger(__name__)

DEFAULT_MAX_LENGTH = 4096          # a QR code holds at most 2,953 bytes; anything longer is noise
DEFAULT_STALE_AFTER = 0.5          # seconds of silence after which a half-typed scan is dropped
DEFAULT_JOIN_WITHIN = 0.08         # seconds after an ENTER in which more keys continue the scan
DEFAULT_TERMINATORS = ("enter", "kpenter", "tab")
RETRY_MIN, RETRY_MAX = 0.5, 5.0    # seconds between attempts to reopen a missing scanner
POLL_S = 0.2                       # how often a reader's thread looks up to see whether to stop

SERIAL_TERMINATORS = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "tab": b"\t"}


class ScannerError(Exception):
    """Reading from a scanner failed."""


class ScannerUnavailable(ScannerError):
    """The scanner could not be opened or went away (absent, unplugged, no permission, no driver)."""


class BarcodeReader(Protocol):
    """A scanner. `connected` says whether the device is open right now; `last_error` is the most
    recent problem (None once the device has been opened since)."""
    url: str

    @property
    def connected(self) -> bool: ...

    @property
    def last_error(self) -> str | None: ...

    def start(self, on_scan: Callable[[str], None],
              on_error: Callable[[ScannerError], None] | None = None) -> None: ...

    def stop(self) -> None: ...


class InputEventLike(Protocol):
    """What the decoder reads from an event: evdev.InputEvent has exactly these."""
    sec: int
    usec: int
    type: int
    code: int
    value: int


def clean_scan(text: str) -> str:
    """Line breaks as "\\n", no control characters but "\\n" and "\\t", no surrounding whitespace,
    composed (NFC) letters: a CP1258 scanner sends "ồ" as "ô" and a combining grave."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")
    return text.strip()


# --- keyboard-mode scanners -------------------------------------------------------------------------

def terminator_keys(names: Iterable[str], what: str = "terminators") -> frozenset[int]:
    """Key codes for terminator names: enter, kpenter (or KP_ENTER, KEY_KPENTER), tab."""
    if isinstance(names, str):
        names = names.split(",")
    codes = set()
    for name in filter(str.strip, names):
        key = name.strip().lower().removeprefix("key_").replace("_", "")
        if key not in keymap.TERMINATOR_KEYS:
            raise ValueError(f"{what}: unknown key {name!r} (expected {', '.join(keymap.TERMINATOR_KEYS)})")
        codes.add(keymap.TERMINATOR_KEYS[key])
    if not codes:
        raise ValueError(f"{what}: at least one key is needed")
    return frozenset(codes)


class KeyEventDecoder:
    """Turns a keyboard-mode scanner's input events into scans. Pure: no device, no clock but the
    events' own timestamps, so it is tested on lists of events.

    Key presses count; releases only end Shift/Ctrl/Alt, repeats and other event types (EV_MSC
    scan codes, EV_SYN) are ignored. A scan ends at a terminator key; with `join_within` > 0 it is
    held back until `flush()` or until a key comes later than `join_within` after the terminator,
    and a key within that time continues it on a new line (see the module docstring). A partial
    scan followed by `stale_after` seconds of silence is dropped; so is a scan longer than
    `max_length` characters (a stuck key or the wrong device, not a code). `caps_lock` is the
    CapsLock state to start from; CapsLock presses in the stream toggle it.
    """

    def __init__(self, terminators: Iterable[str] = DEFAULT_TERMINATORS, stale_after: float = DEFAULT_STALE_AFTER,
                 join_within: float = DEFAULT_JOIN_WITHIN, max_length: int = DEFAULT_MAX_LENGTH,
                 caps_lock: bool = False) -> None:
        if not 0 <= join_within < stale_after:
            raise ValueError(f"join_within ({join_within}) must be at least 0 and below stale_after ({stale_after})")
        if max_length < 1:
            raise ValueError(f"max_length must be positive, got {max_length}")
        self.terminators = terminator_keys(terminators)
        self.stale_after, self.join_within, self.max_length = stale_after, join_within, max_length
        self.caps_lock = caps_lock
        self._shift: set[int] = set()
        self._shortcut: set[int] = set()
        self._chars: list[str] = []
        self._length = 0
        self._overflow = False
        self._last_at: float | None = None      # time of the last key press
        self._ended_at: float | None = None     # time of the terminator the scan waits after
        self._joiner = ""                       # what that terminator stands for if more follows

    @property
    def waiting(self) -> bool:
        """A complete scan is held back for `join_within` seconds: call flush() when they pass."""
        return self._ended_at is not None

    def feed(self, event: InputEventLike) -> str | None:
        """The scan this event completes, if any."""
        if event.type != keymap.EV_KEY:
            return None
        code = event.code
        if event.value == keymap.KEY_RELEASE:
            self._shift.discard(code)
            self._shortcut.discard(code)
            return None
        if event.value != keymap.KEY_PRESS:
            return None
        now = event.sec + event.usec / 1_000_000
        done = self._on_press(code, now)
        self._last_at = now
        return done

    def feed_many(self, events: Iterable[InputEventLike]) -> list[str]:
        return [scan for event in events if (scan := self.feed(event)) is not None]

    def flush(self) -> str | None:
        """The scan held back after its terminator, now."""
        return self._complete() if self._ended_at is not None else None

    def _on_press(self, code: int, now: float) -> str | None:
        done = None
        if self._ended_at is not None and now - self._ended_at > self.join_within:
            done = self._complete()
        elif self._ended_at is None and self._length and self._last_at is not None \
                and now - self._last_at > self.stale_after:
            log.info("dropped a partial scan of %d characters after %.2f s without keys",
                     self._length, now - self._last_at)
            self._reset()
        if code in keymap.SHIFT_KEYS:
            self._shift.add(code)
        elif code in keymap.SHORTCUT_KEYS:
            self._shortcut.add(code)
        elif code == keymap.KEY_CAPSLOCK:
            self.caps_lock = not self.caps_lock
        elif code in self.terminators:
            if self._ended_at is not None:          # a second terminator in a row: an empty line
                self._append(self._joiner)
            self._ended_at, self._joiner = now, keymap.TERMINATOR_TEXT[code]
            if self.join_within <= 0:
                return self._complete()
        elif code in keymap.TERMINATOR_TEXT:        # ENTER or TAB that does not end scans: text
            self._type(keymap.TERMINATOR_TEXT[code])
        elif self._shortcut:
            log.debug("ignored key %d pressed with Ctrl/Alt/Meta held", code)
        elif (char := keymap.key_text(code, bool(self._shift), self.caps_lock)) is not None:
            self._type(char)
        else:
            log.debug("ignored key %d, which types nothing", code)
        return done

    def _type(self, char: str) -> None:
        if self._ended_at is not None:              # more keys right after a terminator: a new line
            self._append(self._joiner)
            self._ended_at = None
        self._append(char)

    def _append(self, text: str) -> None:
        if self._length + len(text) > self.max_length:
            self._overflow = True
            return
        self._chars.append(text)
        self._length += len(text)

    def _complete(self) -> str | None:
        text, overflow = "".join(self._chars), self._overflow
        self._reset()
        if overflow:
            log.warning("dropped a scan longer than %d characters", self.max_length)
            return None
        return clean_scan(text) or None

    def _reset(self) -> None:
        self._chars.clear()
        self._length = 0
        self._overflow = False
        self._ended_at = None


# --- serial scanners -------------------------------------------------------------------------------

def serial_terminator(spec: str | bytes, what: str = "terminator") -> bytes:
    """cr, lf, crlf, tab, or hex bytes such as 0x03 or 0x0d0a."""
    if isinstance(spec, bytes):
        value = spec
    elif spec.lower() in SERIAL_TERMINATORS:
        value = SERIAL_TERMINATORS[spec.lower()]
    elif spec.lower().startswith("0x"):
        try:
            value = bytes.fromhex(spec[2:])
        except ValueError:
            value = b""
        if not value:
            raise ValueError(f"{what}: expected hex bytes such as 0x03 or 0x0d0a, got {spec!r}")
    else:
        raise ValueError(f"{what}: expected cr, lf, crlf, tab or hex bytes such as 0x03, got {spec!r}")
    if not 1 <= len(value) <= 4:
        raise ValueError(f"{what}: expected 1 to 4 bytes, got {len(value)}")
    return value


class SerialScanDecoder:
    """Cuts a serial scanner's byte stream into scans at the terminator. Pure, with the time of
    each chunk passed in. Bytes are decoded only once a scan is complete, so a UTF-8 character
    split across reads arrives whole; undecodable bytes become U+FFFD (and a warning). A partial
    scan followed by `stale_after` seconds of silence is dropped, as is a scan longer than
    `max_length` bytes."""

    def __init__(self, terminator: str | bytes = "cr", encoding: str = "utf-8",
                 max_length: int = DEFAULT_MAX_LENGTH, stale_after: float = DEFAULT_STALE_AFTER) -> None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"encoding: unknown encoding {encoding!r}") from None
        if max_length < 1:
            raise ValueError(f"max_length must be positive, got {max_length}")
        self.terminator, self.encoding = serial_terminator(terminator), encoding
        self.max_length, self.stale_after = max_length, stale_after
        self._buffer = bytearray()
        self._overflow = False
        self._last_at: float | None = None

    def feed(self, data: bytes, now: float) -> list[str]:
        silence = now - self._last_at if self._last_at is not None else 0.0
        if (self._buffer or self._overflow) and silence > self.stale_after:
            log.info("dropped a partial scan of %d bytes after %.2f s of silence", len(self._buffer), silence)
            self._buffer.clear()
            self._overflow = False
        self._last_at = now
        buffer, term = self._buffer, self.terminator
        buffer += data
        scans = []
        while (end := buffer.find(term)) >= 0:
            frame = bytes(buffer[:end])
            del buffer[:end + len(term)]
            if self._overflow or len(frame) > self.max_length:
                log.warning("dropped a scan longer than %d bytes", self.max_length)
                self._overflow = False
                continue
            if text := self._text(frame):
                scans.append(text)
        if len(buffer) > self.max_length:
            self._overflow = True
            del buffer[:len(buffer) - (len(term) - 1)]    # keeps what may be half a terminator
        return scans

    def _text(self, frame: bytes) -> str:
        text = frame.decode(self.encoding, errors="replace")
        if "\ufffd" in text and b"\xef\xbf\xbd" not in frame:
            log.warning("a scan was not valid %s; check the scanner's output encoding", self.encoding)
        return clean_scan(text)


# --- readers ----------------------------------------------------------------------------------------

class _ReopeningReader:
    """The thread, the callbacks and the reopen-with-backoff loop shared by both readers.
    Subclasses implement `_session()`: open the device, call `_opened()`, read until `_stopping`
    is set (then return) or the device fails (then raise ScannerError)."""
    url: str

    def __init__(self, retry_min: float = RETRY_MIN, retry_max: float = RETRY_MAX) -> None:
        self.retry_min, self.retry_max = retry_min, retry_max
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_scan: Callable[[str], None] | None = None
        self._on_error: Callable[[ScannerError], None] | None = None
        self._connected = False
        self._last_error: str | None = None
        self._was_opened = False

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def start(self, on_scan: Callable[[str], None], on_error: Callable[[ScannerError], None] | None = None) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError(f"{self.url}: the reader is already running")
        self._on_scan, self._on_error = on_scan, on_error
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"scanner {self.url}")
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Closes the device (releasing the grab). No callback starts once stop() has been called."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: the reader thread did not stop within %g s", self.url, timeout)

    def _session(self) -> None:
        raise NotImplementedError

    def _opened(self) -> None:
        self._connected, self._was_opened, self._last_error = True, True, None
        log.info("%s: scanner ready", self.url)

    def _run(self) -> None:
        delay, reported = self.retry_min, None
        while not self._stopping.is_set():
            self._was_opened = False
            try:
                self._session()
                continue                                # returns only when stopping
            except ScannerError as exc:
                error = exc
            except Exception as exc:  # a library surprise must not end the reader for good
                error = ScannerError(f"{self.url}: unexpected error: {exc!r}")
                error.__cause__ = exc
            finally:
                self._connected = False
            if self._was_opened:                        # it worked for a while: retry briskly
                delay, reported = self.retry_min, None
            self._last_error = str(error)
            if str(error) != reported and not self._stopping.is_set():
                reported = str(error)
                unexpected = error.__cause__ if type(error) is ScannerError else None   # with its traceback
                log.warning("%s (retrying every %g s at most)", error, self.retry_max, exc_info=unexpected)
                self._report(error)
            else:
                log.debug("%s: still unavailable: %s", self.url, error)
            if self._stopping.wait(delay):
                break
            delay = min(delay * 2, self.retry_max)

    def _emit(self, scan: str) -> None:
        if self._stopping.is_set() or self._on_scan is None:
            return
        log.debug("%s: scan of %d characters", self.url, len(scan))
        try:
            self._on_scan(scan)
        except Exception:
            log.exception("%s: the scan handler failed", self.url)

    def _report(self, error: ScannerError) -> None:
        if self._on_error is None:
            return
        try:
            self._on_error(error)
        except Exception:
            log.exception("%s: the error handler failed", self.url)



def open_input_device(url: str, path: str, grab: bool, what: str, unavailable: type[Exception]) -> Any:
    """Opens an evdev input device (and grabs it, so its keys reach no other window), or raises
    `unavailable` saying what an admin can do about it."""
    try:
        device = evdev.InputDevice(path)
    except FileNotFoundError as exc:
        raise unavailable(f"{url}: no such device (is the {what} plugged in? see ls -l /dev/input/by-id/)") from exc
    except PermissionError as exc:
        raise unavailable(f"{url}: permission denied (the agent's user needs the 'input' group or a udev rule)") \
            from exc
    except OSError as exc:
        hint = " (not an input device?)" if exc.errno in (errno.ENOTTY, errno.EINVAL) else ""
        raise unavailable(f"{url}: cannot open: {exc.strerror or exc}{hint}") from exc
    if grab:
        try:
            device.grab()
        except OSError as exc:
            with contextlib.suppress(OSError):
                device.close()
            why = "another program holds it grabbed" if exc.errno == errno.EBUSY else exc.strerror or str(exc)
            raise unavailable(f"{url}: cannot grab the {what}: {why}") from exc
    return device

class EvdevBarcodeReader(_ReopeningReader):
    """A keyboard-mode (USB HID) scanner, read from its evdev node. Use the stable
    /dev/input/by-id/…-event-kbd link: /dev/input/eventN numbers change when devices come and go.
    With `grab` (the default) the device is held exclusively, so scans do not also arrive as
    keystrokes in the kiosk browser; the grab ends on stop() or when the process exits."""

    def __init__(self, path: str, grab: bool = True, terminators: Iterable[str] = DEFAULT_TERMINATORS,
                 stale_after: float = DEFAULT_STALE_AFTER, join_within: float = DEFAULT_JOIN_WITHIN,
                 max_length: int = DEFAULT_MAX_LENGTH, retry_min: float = RETRY_MIN,
                 retry_max: float = RETRY_MAX) -> None:
        super().__init__(retry_min, retry_max)
        self.path, self.grab = path, grab
        self.url = f"evdev://{path}"
        self.terminators = tuple(terminators)
        self.stale_after, self.join_within, self.max_length = stale_after, join_within, max_length
        self._decoder()                                 # ValueError for bad settings, now
        if evdev is None:
            raise ScannerUnavailable(f"{self.url}: python-evdev is not installed (pip install evdev, Linux only)")

    def _decoder(self) -> KeyEventDecoder:
        return KeyEventDecoder(self.terminators, self.stale_after, self.join_within, self.max_length)

    def _open(self) -> Any:
        return open_input_device(self.url, self.path, self.grab, "scanner", ScannerUnavailable)

    def _session(self) -> None:
        device = self._open()
        decoder = self._decoder()
        try:
            self._opened()
            last_event = time.monotonic()
            while not self._stopping.is_set():
                try:
                    ready, _, _ = select.select([device.fd], [], [], POLL_S / 4 if decoder.waiting else POLL_S)
                    scans = decoder.feed_many(device.read()) if ready else []
                except BlockingIOError:
                    continue
                except OSError as exc:
                    if (scan := decoder.flush()) is not None:   # complete before the device went away
                        self._emit(scan)
                    raise ScannerUnavailable(f"{self.url}: the scanner went away "
                                             f"({exc.strerror or exc}); waiting for it to come back") from exc
                if ready:
                    last_event = time.monotonic()
                for scan in scans:
                    self._emit(scan)
                if decoder.waiting and time.monotonic() - last_event >= self.join_within:
                    if (scan := decoder.flush()) is not None:
                        self._emit(scan)
        finally:
            if self.grab:
                with contextlib.suppress(OSError):
                    device.ungrab()
            with contextlib.suppress(OSError):
                device.close()


class SerialBarcodeReader(_ReopeningReader):
    """A serial-mode scanner (USB CDC /dev/ttyACM*, RS-232, or anything pyserial opens by URL:
    loop://, socket://host:port, rfc2217://). Prefer /dev/serial/by-id/… links to ttyACMn."""

    def __init__(self, port: str, baudrate: int = 9600, bytesize: int = 8, parity: str = "N", stopbits: float = 1,
                 xonxoff: bool = False, rtscts: bool = False, dsrdtr: bool = False, terminator: str | bytes = "cr",
                 encoding: str = "utf-8", max_length: int = DEFAULT_MAX_LENGTH,
                 stale_after: float = DEFAULT_STALE_AFTER, retry_min: float = RETRY_MIN,
                 retry_max: float = RETRY_MAX) -> None:
        super().__init__(retry_min, retry_max)
        self.port = port
        self.url = f"serial://{port}" if port.startswith("/") else port
        self.settings = {"baudrate": baudrate, "bytesize": bytesize, "parity": parity, "stopbits": stopbits,
                         "xonxoff": xonxoff, "rtscts": rtscts, "dsrdtr": dsrdtr}
        self.terminator, self.encoding = serial_terminator(terminator), encoding
        self.max_length, self.stale_after = max_length, stale_after
        self._decoder()                                 # ValueError for bad settings, now
        if serial is None:
            raise ScannerUnavailable(f"{self.url}: pyserial is not installed (pip install pyserial)")

    def _decoder(self) -> SerialScanDecoder:
        return SerialScanDecoder(self.terminator, self.encoding, self.max_length, self.stale_after)

    def _session(self) -> None:
        try:
            port = serial.serial_for_url(self.port, timeout=POLL_S, exclusive=True, **self.settings)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise ScannerUnavailable(f"{self.url}: cannot open: {exc}") from exc
        decoder = self._decoder()
        try:
            self._opened()
            while not self._stopping.is_set():
                try:
                    data = port.read(1)
                    if data and (waiting := port.in_waiting):
                        data += port.read(waiting)
                except (serial.SerialException, OSError) as exc:
                    raise ScannerUnavailable(f"{self.url}: the scanner went away ({exc}); "
                                             "waiting for it to come back") from exc
                if data:
                    for scan in decoder.feed(data, time.monotonic()):
                        self._emit(scan)
        finally:
            with contextlib.suppress(Exception):
                port.close()


# --- URLs -------------------------------------------------------------------------------------------

def _length(value: str, name: str) -> int:
    number = _integer()(value, name)
    if not 1 <= number <= 65536:
        raise ValueError(f"{name}: expected 1 to 65536, got {value!r}")
    return number


def _key_names(value: str, name: str) -> tuple[str, ...]:
    terminator_keys(value, name)
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _seconds_or_zero(value: str, name: str) -> float:
    try:
        if float(value) == 0:
            return 0.0
    except ValueError:
        pass
    return _seconds(value, name)


def _encoding(value: str, name: str) -> str:
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise ValueError(f"{name}: unknown encoding {value!r}") from None


_COMMON: dict[str, Callable[[str, str], Any]] = {"stale_after": _seconds, "max_length": _length}
_SERIAL_LINE = ("baudrate", "bytesize", "parity", "stopbits", "xonxoff", "rtscts", "dsrdtr")
_READER_PARAMS: dict[str, dict[str, Callable[[str, str], Any]]] = {
    "evdev": {**_COMMON, "grab": _boolean, "terminator": _key_names, "join_within": _seconds_or_zero},
    "serial": {**_COMMON, **{k: _TRANSPORT_PARAMS["serial"][k] for k in _SERIAL_LINE},
               "terminator": serial_terminator, "encoding": _encoding},
}


def _query(url: str, scheme: str, query: str) -> dict[str, Any]:
    allowed = _READER_PARAMS[scheme]
    values: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in allowed:
            raise ValueError(f"scanner URL {url!r}: unknown parameter {name!r} for {scheme}:// "
                             f"(expected: {', '.join(allowed)})")
        if name in values:
            raise ValueError(f"scanner URL {url!r}: parameter {name!r} given twice")
        values[name] = allowed[name](value, f"scanner URL {url!r}: {name}")
    return values


def open_reader(url: str) -> BarcodeReader:
    """The reader a scanner URL names. Validates everything (ValueError) and opens nothing: the
    device is opened by start(), so a kiosk starts even while its scanner is unplugged. A missing
    driver library (evdev, pyserial) raises ScannerUnavailable here, as the setup cannot work."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"scanner URL {url!r}: expected evdev:///dev/input/by-id/… or serial:///dev/tty…")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _READER_PARAMS:
        raise ValueError(f"scanner URL {url!r}: unknown scheme {scheme!r} (expected evdev or serial)")
    if parts.fragment:
        raise ValueError(f"scanner URL {url!r}: fragments (#…) are not allowed")
    path = unquote(parts.path)
    if parts.netloc or not path.startswith("/") or path.endswith("/"):
        example = "evdev:///dev/input/by-id/usb-…-event-kbd" if scheme == "evdev" else "serial:///dev/ttyACM0"
        raise ValueError(f"scanner URL {url!r}: expected {example} (three slashes, absolute path)")
    params = _query(url, scheme, parts.query)
    try:
        if scheme == "evdev":
            if "terminator" in params:
                params["terminators"] = params.pop("terminator")
            return EvdevBarcodeReader(path, **params)
        return SerialBarcodeReader(path, **params)
    except ValueError as exc:                   # settings that clash with each other
        raise ValueError(f"scanner URL {url!r}: {exc}") from None
