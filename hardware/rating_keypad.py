"""A USB rating keypad at a counter: the citizen presses a key for a level, the agent sends it on.

    evdev:///dev/input/by-id/usb-…-event-kbd
    evdev:///dev/input/by-id/usb-…-event-kbd?map=1:very_satisfied,2:satisfied,3:unsatisfied&debounce=0.5

Rating keypads sold for halls are USB HID keyboards: a numeric keypad, or a box of three to five
big buttons that type digits, letters or F-keys. The device is read through evdev and grabbed, so
its keys never reach a browser on the same machine.

`map` ties keys to levels. A key is a digit (`1`: the top-row 1 and the keypad's 1 alike), `kp1`
(the keypad's only), a letter (`a`), `f1`…`f12`, `enter`, `kpenter`, `space`, or `code79` (a raw
Linux key code). A level is a level code of the office's scale (`satisfied`), or a place on the scale
(`2`: the second best), which follows whatever scale the office sets. Without `map`, the digits 1–5
are the places 1–5: 1 the best.

The reader owns a thread like the scanners do: `start(on_choice, on_error)` and `stop()`; it reopens
an unplugged keypad with backoff. A key pressed again within `debounce` seconds (0.4 by default) is
one press: a bouncing switch or a double tap must not look like two ratings (the server would refuse
the second anyway).
"""
from __future__ import annotations

import contextlib
import logging
import re
import select
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from . import keymap
from .scanners import (
    RETRY_MAX,
    RETRY_MIN,
    InputEventLike,
    ScannerError,
    ScannerUnavailable,
    _ReopeningReader,
    open_input_device,
)
from .transports import _boolean

try:  # optional: Linux only
    import evdev
except ImportError:  # pragma: no cover - depends on the machine
    evdev = None

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE = 0.4
MAX_POSITION = 9
LEVEL_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
POLL_S = 0.2

KeypadError = ScannerError               # the same failures as a scanner's: absent, unplugged, no permission
KeypadUnavailable = ScannerUnavailable


@dataclass(frozen=True)
class Choice:
    """What a key means: a level code, or a place on the office's scale (1 = the best)."""
    level: str | None = None
    position: int | None = None

    def event(self) -> dict:
        """The body of the `rating_key` Socket.IO event, without the token."""
        return {"level": self.level} if self.level is not None else {"position": self.position}

    def __str__(self) -> str:
        return self.level if self.level is not None else f"#{self.position}"


# --- key names -------------------------------------------------------------------------------------

_TOP_DIGITS = {str(n % 10): code for n, code in zip(range(1, 11), range(2, 12), strict=True)}   # KEY_1 = 2 … KEY_0 = 11
_KEYPAD_DIGITS = {text: code for code, text in keymap.KEYPAD_KEYS.items() if text.isdigit()}
_LETTERS = {plain: code for code, (plain, _) in keymap.US_KEYS.items() if plain.isalpha()}
_F_KEYS = {f"f{n}": code for n, code in zip(range(1, 11), range(59, 69), strict=True)} | {"f11": 87, "f12": 88}
_NAMED = {"enter": keymap.KEY_ENTER, "kpenter": keymap.KEY_KPENTER, "space": 57}


def key_codes(name: str) -> frozenset[int]:
    """The Linux key codes a key name stands for; ValueError for a name it does not know."""
    key = name.strip().lower().removeprefix("key_")
    if key in _TOP_DIGITS:
        return frozenset({_TOP_DIGITS[key], _KEYPAD_DIGITS[key]})
    if key.startswith("kp") and key[2:] in _KEYPAD_DIGITS:
        return frozenset({_KEYPAD_DIGITS[key[2:]]})
    if key in _LETTERS:
        return frozenset({_LETTERS[key]})
    if key in _F_KEYS:
        return frozenset({_F_KEYS[key]})
    if key in _NAMED:
        return frozenset({_NAMED[key]})
    if key.startswith("code") and key[4:].isdigit() and 0 < int(key[4:]) < 768:
        return frozenset({int(key[4:])})
    raise ValueError(f"unknown key {name!r} (expected a digit, kp0–kp9, a letter, f1–f12, enter, kpenter, space "
                     "or codeN)")


def choice_of(value: str) -> Choice:
    value = value.strip()
    if value.isdigit():
        position = int(value)
        if not 1 <= position <= MAX_POSITION:
            raise ValueError(f"place {value!r} on the scale must be 1 to {MAX_POSITION}")
        return Choice(position=position)
    if not LEVEL_CODE.match(value):
        raise ValueError(f"level {value!r} must be a level code (lowercase letters, digits, _) or a place 1–9")
    return Choice(level=value)


def parse_map(spec: str) -> dict[int, Choice]:
    """`1:very_satisfied,2:satisfied,3:unsatisfied` → key code → choice."""
    keys: dict[int, Choice] = {}
    for part in filter(str.strip, spec.split(",")):
        name, sep, value = part.partition(":")
        if not sep:
            raise ValueError(f"map entry {part.strip()!r}: expected KEY:LEVEL, e.g. 1:satisfied")
        choice = choice_of(value)
        for code in key_codes(name):
            if code in keys and keys[code] != choice:
                raise ValueError(f"map: key {name.strip()!r} is given two levels")
            keys[code] = choice
    if not keys:
        raise ValueError("map: at least one KEY:LEVEL is needed")
    return keys


DEFAULT_MAP = parse_map("1:1,2:2,3:3,4:4,5:5")


# --- decoding --------------------------------------------------------------------------------------

class RatingKeyDecoder:
    """Key presses to choices. Pure: no device and no clock but the events' own timestamps, so it is
    tested on lists of evdev.InputEvent. Only presses count (not releases, repeats, EV_MSC or EV_SYN);
    keys outside the map are ignored; a press within `debounce` seconds of the last accepted one is
    dropped, whatever its key (a hand resting on the pad is not a second opinion)."""

    def __init__(self, keys: dict[int, Choice] | None = None, debounce: float = DEFAULT_DEBOUNCE) -> None:
        if debounce < 0:
            raise ValueError(f"debounce must be at least 0, got {debounce}")
        self.keys = dict(keys if keys is not None else DEFAULT_MAP)
        self.debounce = debounce
        self._last_at: float | None = None

    def feed(self, event: InputEventLike) -> Choice | None:
        if event.type != keymap.EV_KEY or event.value != keymap.KEY_PRESS:
            return None
        choice = self.keys.get(event.code)
        if choice is None:
            log.debug("ignored key %d, which is not on the rating map", event.code)
            return None
        now = event.sec + event.usec / 1_000_000
        if self._last_at is not None and 0 <= now - self._last_at < self.debounce:
            log.info("ignored a second press %.2f s after the first", now - self._last_at)
            return None
        self._last_at = now
        return choice

    def feed_many(self, events: Iterable[InputEventLike]) -> list[Choice]:
        return [choice for event in events if (choice := self.feed(event)) is not None]


# --- the reader ------------------------------------------------------------------------------------

class RatingKeypad(Protocol):
    url: str

    @property
    def connected(self) -> bool: ...

    @property
    def last_error(self) -> str | None: ...

    def start(self, on_choice: Callable[[Choice], None],
              on_error: Callable[[KeypadError], None] | None = None) -> None: ...

    def stop(self) -> None: ...


class EvdevRatingKeypad(_ReopeningReader):
    """A rating keypad read from its evdev node (prefer the stable /dev/input/by-id/… link), grabbed
    by default. Reopened with backoff when missing or unplugged, like the scanners."""

    def __init__(self, path: str, keys: dict[int, Choice] | None = None, grab: bool = True,
                 debounce: float = DEFAULT_DEBOUNCE, retry_min: float = RETRY_MIN,
                 retry_max: float = RETRY_MAX) -> None:
        super().__init__(retry_min, retry_max)
        self.path, self.grab, self.debounce = path, grab, debounce
        self.keys = dict(keys if keys is not None else DEFAULT_MAP)
        self.url = f"evdev://{path}"
        RatingKeyDecoder(self.keys, debounce)           # ValueError for bad settings, now
        if evdev is None:
            raise KeypadUnavailable(f"{self.url}: python-evdev is not installed (pip install evdev, Linux only)")

    def _opened(self) -> None:
        self._connected, self._was_opened, self._last_error = True, True, None
        log.info("%s: rating keypad ready", self.url)

    def _open(self) -> Any:
        return open_input_device(self.url, self.path, self.grab, "rating keypad", KeypadUnavailable)

    def _session(self) -> None:
        device = self._open()
        decoder = RatingKeyDecoder(self.keys, self.debounce)
        try:
            self._opened()
            while not self._stopping.is_set():
                try:
                    ready, _, _ = select.select([device.fd], [], [], POLL_S)
                    choices = decoder.feed_many(device.read()) if ready else []
                except BlockingIOError:
                    continue
                except OSError as exc:
                    raise KeypadUnavailable(f"{self.url}: the rating keypad went away ({exc.strerror or exc}); "
                                            "waiting for it to come back") from exc
                for choice in choices:
                    self._deliver(choice)
        finally:
            if self.grab:
                with contextlib.suppress(OSError):
                    device.ungrab()
            with contextlib.suppress(OSError):
                device.close()

    def _deliver(self, choice: Choice) -> None:
        if self._stopping.is_set() or self._on_scan is None:
            return
        log.info("%s: key for %s", self.url, choice)
        try:
            self._on_scan(choice)        # type: ignore[arg-type]  (the shared loop names its callback for scans)
        except Exception:
            log.exception("%s: the rating handler failed", self.url)


# --- URLs ------------------------------------------------------------------------------------------

def _debounce(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 10:
        raise ValueError(f"{name}: expected 0 to 10 seconds, got {value!r}")
    return seconds


_PARAMS: dict[str, Callable[[str, str], Any]] = {
    "map": lambda value, name: parse_map(value),
    "grab": _boolean,
    "debounce": _debounce,
}


def open_rating_keypad(url: str) -> EvdevRatingKeypad:
    """The keypad a URL names. Validates everything (ValueError) and opens nothing: start() opens the
    device, so the agent starts even while the keypad is unplugged."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"rating keypad URL {url!r}: expected evdev:///dev/input/by-id/…")
    parts = urlsplit(url)
    if parts.scheme.lower() != "evdev":
        raise ValueError(f"rating keypad URL {url!r}: unknown scheme {parts.scheme!r} (expected evdev)")
    if parts.fragment:
        raise ValueError(f"rating keypad URL {url!r}: fragments (#…) are not allowed")
    path = unquote(parts.path)
    if parts.netloc or not path.startswith("/") or path.endswith("/"):
        raise ValueError(f"rating keypad URL {url!r}: expected evdev:///dev/input/by-id/usb-…-event-kbd "
                         "(three slashes, absolute path)")
    values: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _PARAMS:
            raise ValueError(f"rating keypad URL {url!r}: unknown parameter {name!r} (expected: {', '.join(_PARAMS)})")
        if name in values:
            raise ValueError(f"rating keypad URL {url!r}: parameter {name!r} given twice")
        try:
            values[name] = _PARAMS[name](value, name)
        except ValueError as exc:
            raise ValueError(f"rating keypad URL {url!r}: {exc}") from None
    if "map" in values:
        values["keys"] = values.pop("map")
    return EvdevRatingKeypad(path, **values)
