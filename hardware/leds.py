"""Counter LED displays: the number above each counter, on an RS485 line speaking Modbus RTU.

    modbus:///dev/ttyUSB0?baudrate=9600&parity=N&stopbits=1&timeout=0.3
    modbus:///dev/serial/by-id/usb-FTDI_…-if00-port0?profile=text&width=4
    socket://10.0.0.7:4001?timeout=0.5     (an RS485-to-Ethernet converter in transparent mode)
    rfc2217://10.0.0.7:4002                (the same, speaking RFC 2217)
    loop://                                (pyserial's loopback: answers every 0x06 write with its echo)
    dummy://?profile=text                  (no line: remembers what each display shows)

Several counters share one line, one module per counter, each with its own Modbus address (1–247,
set on the module; the factory default is 1, so readdress a module before hanging the next one).
Open one bus per line, `display = open_led_bus(url)`, and call it from any thread:
`display.show(4, "A025")`, `display.clear(4)`, `display.close()`. A lock serialises the
transactions, and the writes of one show() go out together.

Register layouts differ between makers, so what is written is a profile:

numeric (the default), for modules that show a number:
    register R (`register`, default 0)  ← the digits as one integer: "A025" → 25, "1025" → 1025
    `letter_register` (default R + 1)   ← the prefix letter as its ASCII code ("A" → 65), or 0
                                           when the number has none, so an earlier letter does not
                                           linger; `letter_register=none` for modules without one
    One write single register (function 0x06) per register. clear() writes `blank` (default 0)
    to R and 0 to the letter register.
text, for modules that show characters:
    registers R… ← ASCII, two characters per register, high byte first, left-aligned and padded
                   with spaces to `width` characters (default 4): "A025" → 0x4130 0x3235.
    One write multiple registers (function 0x10). clear() writes spaces.
both:
    `blink_register`      ← 1 for show(…, blink=True), 0 for any other show() and for clear();
                            without it blink is ignored
    `brightness_register` ← set_brightness(address, level); without it set_brightness raises

Line: `baudrate`, `parity`, `stopbits` as for serial printers (9600 8N1 by default, the modules'
factory setting; RTU always has 8 data bits). `timeout` (seconds, default 0.3, at most 5) bounds
the wait for each answer, and `retries` (default 1) repeats a write that got no answer or a
garbled one, never one the module refused. Before each request the line stays quiet for 3.5
character times (1.75 ms above 19200 baud), as RTU framing requires. Broadcast (address 0) is not
used: it gets no answer, so nobody would learn that a display is broken.

Errors: LedTimeout (no answer), LedError (an exception response, with `exception_code`; a CRC
mismatch; a garbled answer), LedUnavailable (the port cannot be opened or went away; it is
reopened on the next call); ValueError for text the profile cannot show. show_safely() and
clear_safely() never raise: they log (once per display and problem) and return False, for callers
such as the agent's event handlers, which must go on when one display is broken.
"""
from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from .transports import _PARAMS as _TRANSPORT_PARAMS
from .transports import _integer, _seconds

try:  # optional: a kiosk without LED displays need not have pyserial
    import serial
except ImportError:  # pragma: no cover - depends on the machine
    serial = None

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 0.3
MAX_TIMEOUT = 5.0               # the lock is held while waiting: one dead display must not stall the line
DEFAULT_RETRIES = 1
MAX_RETRIES = 5
MIN_ADDRESS, MAX_ADDRESS = 1, 247
MAX_WRITE_REGISTERS = 123       # function 0x10's limit per request
FAST_T35 = 0.00175              # fixed inter-frame silence above 19200 baud (Modbus over serial line, 2.5.1.1)
ANSWER_GRACE = 0.05             # seconds for the rest of an answer once its first bytes have arrived

WRITE_SINGLE_REGISTER = 0x06
WRITE_MULTIPLE_REGISTERS = 0x10
EXCEPTION_NAMES = {
    0x01: "illegal function", 0x02: "illegal data address", 0x03: "illegal data value",
    0x04: "server device failure", 0x05: "acknowledge", 0x06: "server device busy",
    0x08: "memory parity error", 0x0A: "gateway path unavailable", 0x0B: "gateway target failed to respond",
}


class LedError(Exception):
    """Writing to a counter display failed. `exception_code` is the Modbus exception code when the
    module answered with an exception response, else None."""

    def __init__(self, message: str, *, address: int | None = None, exception_code: int | None = None) -> None:
        super().__init__(message)
        self.address = address
        self.exception_code = exception_code


class LedTimeout(LedError):
    """The display did not answer within the timeout (off, unplugged, wrong address or line settings)."""


class LedUnavailable(LedError):
    """The line itself could not be opened or went away (absent adapter, no permission, no pyserial)."""


# --- Modbus RTU framing ------------------------------------------------------------------------------

def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (reflected polynomial 0xA001, initial 0xFFFF); frames carry it low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    return body + crc16_modbus(body).to_bytes(2, "little")


def _check_address(address: int) -> None:
    if isinstance(address, bool) or not isinstance(address, int) or not MIN_ADDRESS <= address <= MAX_ADDRESS:
        raise ValueError(f"Modbus address: expected {MIN_ADDRESS} to {MAX_ADDRESS}, got {address!r}")


def _check_word(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise ValueError(f"{what}: expected 0 to 65535, got {value!r}")


def write_single_register_frame(address: int, register: int, value: int) -> bytes:
    """Function 0x06 request; a module that accepts it answers with the same eight bytes."""
    _check_address(address)
    _check_word(register, "register")
    _check_word(value, "register value")
    return with_crc(bytes([address, WRITE_SINGLE_REGISTER]) + register.to_bytes(2, "big") + value.to_bytes(2, "big"))


def write_multiple_registers_frame(address: int, start: int, values: Sequence[int]) -> bytes:
    """Function 0x10 request; the answer repeats address, function, start and quantity."""
    _check_address(address)
    _check_word(start, "register")
    if not 1 <= len(values) <= MAX_WRITE_REGISTERS:
        raise ValueError(f"write multiple registers: 1 to {MAX_WRITE_REGISTERS} values, got {len(values)}")
    if start + len(values) > 0x10000:
        raise ValueError(f"write multiple registers: {len(values)} registers from {start} run past 65535")
    for value in values:
        _check_word(value, "register value")
    body = (bytes([address, WRITE_MULTIPLE_REGISTERS]) + start.to_bytes(2, "big") + len(values).to_bytes(2, "big")
            + bytes([2 * len(values)]) + b"".join(v.to_bytes(2, "big") for v in values))
    return with_crc(body)


def expected_answer(request: bytes) -> bytes:
    """The normal answer to a write request of either function."""
    if request[1] == WRITE_SINGLE_REGISTER:
        return request
    return with_crc(request[:6])


def silence_seconds(baudrate: int, parity: str = "N", stopbits: float = 1) -> float:
    """3.5 character times: the quiet that separates RTU frames."""
    if baudrate > 19200:
        return FAST_T35
    bits = 1 + 8 + (0 if parity == "N" else 1) + stopbits
    return 3.5 * bits / baudrate


# --- profiles ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterWrite:
    """Holding registers from `register` on; `multiple` asks for function 0x10 even for one value."""
    register: int
    values: tuple[int, ...]
    multiple: bool = False

    @property
    def function(self) -> int:
        return WRITE_MULTIPLE_REGISTERS if self.multiple or len(self.values) > 1 else WRITE_SINGLE_REGISTER

    def frame(self, address: int) -> bytes:
        if self.function == WRITE_SINGLE_REGISTER:
            return write_single_register_frame(address, self.register, self.values[0])
        return write_multiple_registers_frame(address, self.register, self.values)


class LedProfile(Protocol):
    """What a module's registers mean: turns a number into register writes. Raises ValueError for
    text it cannot show."""
    name: str

    def show(self, number_text: str, blink: bool = False) -> list[RegisterWrite]: ...

    def clear(self) -> list[RegisterWrite]: ...

    def brightness(self, level: int) -> list[RegisterWrite]: ...


def _optional_register(register: int | None, what: str) -> None:
    if register is not None:
        _check_word(register, what)


def _blink(register: int | None, on: bool) -> list[RegisterWrite]:
    return [] if register is None else [RegisterWrite(register, (int(on),))]


def _brightness(register: int | None, level: int) -> list[RegisterWrite]:
    if register is None:
        raise ValueError("this display profile has no brightness register (brightness_register=…)")
    _check_word(level, "brightness")
    return [RegisterWrite(register, (level,))]


def _distinct(used: Iterable[int | None], what: str) -> None:
    registers = [r for r in used if r is not None]
    if len(set(registers)) != len(registers):
        raise ValueError(f"{what}: registers overlap ({', '.join(map(str, registers))})")


_NUMBER = re.compile(r"([A-Z]?)([0-9]+)")


@dataclass(frozen=True)
class NumericProfile:
    """The number as an integer, its prefix letter as an ASCII code (see the module docstring)."""
    register: int = 0
    letter_register: int | None = 1
    blank: int = 0
    blink_register: int | None = None
    brightness_register: int | None = None
    name: str = "numeric"

    def __post_init__(self) -> None:
        _check_word(self.register, "register")
        _check_word(self.blank, "blank")
        for name in ("letter_register", "blink_register", "brightness_register"):
            _optional_register(getattr(self, name), name)
        _distinct([self.register, self.letter_register, self.blink_register, self.brightness_register],
                  "numeric profile")

    def show(self, number_text: str, blink: bool = False) -> list[RegisterWrite]:
        match = _NUMBER.fullmatch(number_text.strip().upper()) if isinstance(number_text, str) else None
        if match is None:
            raise ValueError(f"numeric display: expected digits after at most one letter, got {number_text!r}")
        letter, digits = match.groups()
        if letter and self.letter_register is None:
            raise ValueError(f"numeric display without a letter register cannot show {number_text!r}")
        if int(digits) > 0xFFFF:
            raise ValueError(f"numeric display: {digits} does not fit a 16-bit register (use profile=text)")
        writes = [RegisterWrite(self.register, (int(digits),))]
        if self.letter_register is not None:
            writes.append(RegisterWrite(self.letter_register, (ord(letter) if letter else 0,)))
        return writes + _blink(self.blink_register, blink)

    def clear(self) -> list[RegisterWrite]:
        writes = [RegisterWrite(self.register, (self.blank,))]
        if self.letter_register is not None:
            writes.append(RegisterWrite(self.letter_register, (0,)))
        return writes + _blink(self.blink_register, False)

    def brightness(self, level: int) -> list[RegisterWrite]:
        return _brightness(self.brightness_register, level)


@dataclass(frozen=True)
class TextProfile:
    """ASCII, two characters per register, high byte first, padded with spaces to `width`."""
    register: int = 0
    width: int = 4
    blink_register: int | None = None
    brightness_register: int | None = None
    name: str = "text"

    def __post_init__(self) -> None:
        _check_word(self.register, "register")
        if not 1 <= self.width <= 2 * MAX_WRITE_REGISTERS:
            raise ValueError(f"width: expected 1 to {2 * MAX_WRITE_REGISTERS} characters, got {self.width!r}")
        if self.register + self.count > 0x10000:
            raise ValueError(f"text profile: {self.count} registers from {self.register} run past 65535")
        for name in ("blink_register", "brightness_register"):
            _optional_register(getattr(self, name), name)
        text_registers = range(self.register, self.register + self.count)
        _distinct([self.blink_register, self.brightness_register], "text profile")
        for extra in (self.blink_register, self.brightness_register):
            if extra is not None and extra in text_registers:
                raise ValueError(f"text profile: register {extra} is one of the text registers")

    @property
    def count(self) -> int:
        return (self.width + 1) // 2

    def _registers(self, text: str) -> tuple[int, ...]:
        data = text.ljust(2 * self.count).encode("ascii")
        return tuple(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))

    def show(self, number_text: str, blink: bool = False) -> list[RegisterWrite]:
        text = number_text.strip() if isinstance(number_text, str) else None
        if not text or not all(" " <= c <= "~" for c in text):
            raise ValueError(f"text display: expected printable ASCII, got {number_text!r}")
        if len(text) > self.width:
            raise ValueError(f"text display: {text!r} is longer than its {self.width} characters")
        return [RegisterWrite(self.register, self._registers(text), multiple=True), *_blink(self.blink_register, blink)]

    def clear(self) -> list[RegisterWrite]:
        return [RegisterWrite(self.register, self._registers(""), multiple=True), *_blink(self.blink_register, False)]

    def brightness(self, level: int) -> list[RegisterWrite]:
        return _brightness(self.brightness_register, level)


# --- buses -------------------------------------------------------------------------------------------

class CounterLedDisplays(Protocol):
    """The number displays of the counters on one line, addressed by their Modbus address."""
    url: str
    profile: LedProfile

    def show(self, address: int, number_text: str, *, blink: bool = False) -> None: ...

    def clear(self, address: int) -> None: ...

    def set_brightness(self, address: int, level: int) -> None: ...

    def show_safely(self, address: int, number_text: str, *, blink: bool = False) -> bool: ...

    def clear_safely(self, address: int) -> bool: ...

    def close(self) -> None: ...


class _LedBus:
    """show/clear/brightness on top of `_write(address, writes)`, and the never-raising variants."""
    url: str

    def __init__(self, profile: LedProfile | None = None) -> None:
        self.profile: LedProfile = profile if profile is not None else NumericProfile()
        self._problems: dict[int, str] = {}

    def _write(self, address: int, writes: list[RegisterWrite]) -> None:
        raise NotImplementedError

    def show(self, address: int, number_text: str, *, blink: bool = False) -> None:
        _check_address(address)
        self._write(address, self.profile.show(number_text, blink))

    def clear(self, address: int) -> None:
        _check_address(address)
        self._write(address, self.profile.clear())

    def set_brightness(self, address: int, level: int) -> None:
        _check_address(address)
        self._write(address, self.profile.brightness(level))

    def show_safely(self, address: int, number_text: str, *, blink: bool = False) -> bool:
        """show(), but False (and a log line) instead of an exception."""
        return self._safely(address, f"show {number_text!r}", lambda: self.show(address, number_text, blink=blink))

    def clear_safely(self, address: int) -> bool:
        return self._safely(address, "clear", lambda: self.clear(address))

    def _safely(self, address: int, what: str, action: Callable[[], None]) -> bool:
        try:
            action()
        except (LedError, ValueError) as exc:
            if self._problems.get(address) != str(exc):     # a dead display would log every call
                self._problems[address] = str(exc)
                log.warning("%s: display %s: cannot %s: %s", self.url, address, what, exc)
            else:
                log.debug("%s: display %s: still failing: %s", self.url, address, exc)
            return False
        except Exception:  # a surprise must not break the caller's event handling either
            log.exception("%s: display %s: cannot %s", self.url, address, what)
            return False
        if self._problems.pop(address, None) is not None:
            log.info("%s: display %s works again", self.url, address)
        return True

    def close(self) -> None:
        pass

    def __enter__(self) -> _LedBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ModbusLedBus(_LedBus):
    """Modbus RTU over pyserial: a serial device path or any pyserial URL (socket://, rfc2217://,
    loop://). The port opens on first use and stays open; after an I/O error it is closed and
    reopened on the next call (a USB adapter that was replugged)."""

    def __init__(self, port: str, profile: LedProfile | None = None, baudrate: int = 9600, parity: str = "N",
                 stopbits: float = 1, timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES) -> None:
        super().__init__(profile)
        self.port, self.baudrate, self.parity, self.stopbits = port, baudrate, parity, stopbits
        self.timeout, self.retries = timeout, retries
        self.url = f"modbus://{port}" if port.startswith("/") else port
        self.silence = silence_seconds(baudrate, parity, stopbits)
        self._char_time = self.silence / 3.5
        self._lock = threading.Lock()
        self._ser: Any = None
        self._quiet_since = 0.0          # monotonic time of the last byte sent or received

    # the line ------------------------------------------------------------------------------------
    def _open(self) -> Any:
        if self._ser is not None:
            return self._ser
        if serial is None:
            raise LedUnavailable(f"{self.url}: pyserial is not installed (pip install pyserial)")
        try:
            self._ser = serial.serial_for_url(self.port, baudrate=self.baudrate, bytesize=8, parity=self.parity,
                                              stopbits=self.stopbits, timeout=self.timeout,
                                              write_timeout=self.timeout, exclusive=True)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise LedUnavailable(f"{self.url}: cannot open: {exc}") from exc
        self._quiet_since = time.monotonic()     # opening may glitch the line: let it settle first
        return self._ser

    def _drop(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            with contextlib.suppress(Exception):
                ser.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    # transactions --------------------------------------------------------------------------------
    def _write(self, address: int, writes: list[RegisterWrite]) -> None:
        requests = [w.frame(address) for w in writes]      # ValueError before anything is sent
        with self._lock:
            for request in requests:
                self._transact(address, request)

    def _transact(self, address: int, request: bytes) -> None:
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                self._exchange(address, request)
                return
            except LedError as exc:
                retry = exc.exception_code is None and not isinstance(exc, LedUnavailable) and attempt < attempts
                if not retry:
                    raise
                log.debug("%s: display %s: %s (attempt %d of %d)", self.url, address, exc, attempt, attempts)

    def _exchange(self, address: int, request: bytes) -> None:
        ser = self._open()
        if (wait := self._quiet_since + self.silence - time.monotonic()) > 0:
            time.sleep(wait)
        try:
            ser.reset_input_buffer()            # a late answer to an earlier request is not this one's
            ser.write(request)
            ser.flush()
        except serial.SerialTimeoutException as exc:
            self._drop()
            raise LedTimeout(f"{self.url}: the line stopped taking data (flow control?)", address=address) from exc
        except (serial.SerialException, OSError) as exc:
            self._drop()
            raise LedUnavailable(f"{self.url}: sending failed: {exc}", address=address) from exc
        self._quiet_since = sent_at = time.monotonic()
        answer = self._answer(ser, address, sent_at)
        self._check(address, request, answer)

    def _read(self, ser: Any, size: int, deadline: float) -> bytes:
        data = b""
        try:
            while len(data) < size and (left := deadline - time.monotonic()) > 0:
                ser.timeout = left
                data += ser.read(size - len(data))
        except (serial.SerialException, OSError) as exc:
            self._drop()
            raise LedUnavailable(f"{self.url}: reading failed: {exc}") from exc
        if data:
            self._quiet_since = time.monotonic()
        return data

    def _answer(self, ser: Any, address: int, sent_at: float) -> bytes:
        """Address and function first: they tell an exception answer (5 bytes) from a normal one (8)."""
        head = self._read(ser, 2, sent_at + self.timeout)
        if not head:
            raise LedTimeout(f"{self.url}: display {address} did not answer within {self.timeout:g} s "
                             "(switched off, wrong address, or wrong line settings?)", address=address)
        size = 5 if len(head) == 2 and head[1] & 0x80 else 8
        grace = ANSWER_GRACE + size * self._char_time
        return head + self._read(ser, size - len(head), max(sent_at + self.timeout, time.monotonic() + grace))

    def _check(self, address: int, request: bytes, answer: bytes) -> None:
        size = 5 if len(answer) >= 2 and answer[1] & 0x80 else 8
        if len(answer) < size:
            self._settle()
            raise LedError(f"{self.url}: display {address}: incomplete answer {answer.hex(' ')}", address=address)
        if crc16_modbus(answer[:-2]) != int.from_bytes(answer[-2:], "little"):
            self._settle()
            raise LedError(f"{self.url}: display {address}: CRC mismatch in answer {answer.hex(' ')} "
                           "(noise, missing termination, or two modules with one address?)", address=address)
        if answer[0] != address:
            raise LedError(f"{self.url}: display {address}: answer from address {answer[0]} instead",
                           address=address)
        if answer[1] == request[1] | 0x80:
            code = answer[2]
            name = EXCEPTION_NAMES.get(code, "unknown exception")
            hint = " (check the display profile's registers)" if code in (1, 2, 3) else ""
            raise LedError(f"{self.url}: display {address} refused the write: exception {code:#04x}, {name}{hint}",
                           address=address, exception_code=code)
        if answer != expected_answer(request):
            raise LedError(f"{self.url}: display {address}: unexpected answer {answer.hex(' ')} "
                           f"to {request.hex(' ')}", address=address)

    def _settle(self) -> None:
        """After a garbled answer, let the line fall quiet and drop what is left of it."""
        ser, deadline = self._ser, time.monotonic() + max(self.timeout, 0.1)
        if ser is None:
            return
        with contextlib.suppress(Exception):
            while time.monotonic() < deadline:
                ser.timeout = self.silence
                if not ser.read(256):
                    break
                self._quiet_since = time.monotonic()


class DummyLedBus(_LedBus):
    """No line: keeps what each display would show (`shown`, by address) and every register write
    (`writes`), validated by the same profile. For kiosks without displays and for tests."""

    def __init__(self, profile: LedProfile | None = None) -> None:
        super().__init__(profile)
        self.url = "dummy://"
        self.shown: dict[int, str] = {}
        self.writes: list[tuple[int, RegisterWrite]] = []

    def _write(self, address: int, writes: list[RegisterWrite]) -> None:
        self.writes += [(address, w) for w in writes]

    def show(self, address: int, number_text: str, *, blink: bool = False) -> None:
        super().show(address, number_text, blink=blink)
        self.shown[address] = number_text.strip()

    def clear(self, address: int) -> None:
        super().clear(address)
        self.shown.pop(address, None)


# --- URLs --------------------------------------------------------------------------------------------

def _answer_timeout(value: str, name: str) -> float:
    seconds = _seconds(value, name)
    if seconds > MAX_TIMEOUT:
        raise ValueError(f"{name}: at most {MAX_TIMEOUT:g} s (the whole line waits meanwhile), got {value!r}")
    return seconds


def _retries(value: str, name: str) -> int:
    number = _integer()(value, name)
    if number > MAX_RETRIES:
        raise ValueError(f"{name}: expected 0 to {MAX_RETRIES}, got {value!r}")
    return number


def _register(value: str, name: str) -> int:
    number = _integer()(value, name)
    if number > 0xFFFF:
        raise ValueError(f"{name}: expected a register 0 to 65535, got {value!r}")
    return number


def _register_or_none(value: str, name: str) -> int | None:
    return None if value.lower() == "none" else _register(value, name)


def _width(value: str, name: str) -> int:
    number = _integer()(value, name)
    if not 1 <= number <= 2 * MAX_WRITE_REGISTERS:
        raise ValueError(f"{name}: expected 1 to {2 * MAX_WRITE_REGISTERS} characters, got {value!r}")
    return number


def _profile_name(value: str, name: str) -> str:
    if value not in _PROFILE_PARAMS:
        raise ValueError(f"{name}: expected {' or '.join(_PROFILE_PARAMS)}, got {value!r}")
    return value


_SERIAL = _TRANSPORT_PARAMS["serial"]
_LINE_PARAMS: dict[str, Callable[[str, str], Any]] = {
    "baudrate": _SERIAL["baudrate"], "parity": _SERIAL["parity"], "stopbits": _SERIAL["stopbits"],
    "timeout": _answer_timeout, "retries": _retries,
}
_EXTRAS = ("register", "blink_register", "brightness_register")
_PROFILE_PARAMS: dict[str, tuple[str, ...]] = {
    "numeric": (*_EXTRAS, "letter_register", "blank"),
    "text": (*_EXTRAS, "width"),
}
_PROFILE_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "profile": _profile_name, "register": _register, "blink_register": _register,
    "brightness_register": _register, "letter_register": _register_or_none, "blank": _register, "width": _width,
}
_SCHEMES = ("modbus", "socket", "rfc2217", "loop", "dummy")


def make_profile(name: str = "numeric", **settings: Any) -> LedProfile:
    """A profile by name with its settings; for numeric, `letter_register` defaults to register + 1."""
    if name not in _PROFILE_PARAMS:
        raise ValueError(f"profile: expected {' or '.join(_PROFILE_PARAMS)}, got {name!r}")
    unknown = sorted(set(settings) - set(_PROFILE_PARAMS[name]))
    if unknown:
        raise ValueError(f"profile {name}: unknown setting {unknown[0]!r} "
                         f"(expected: {', '.join(_PROFILE_PARAMS[name])})")
    if name == "text":
        return TextProfile(**settings)
    settings.setdefault("letter_register", settings.get("register", 0) + 1)
    return NumericProfile(**settings)


def _query(url: str, query: str, allowed: dict[str, Callable[[str, str], Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in allowed:
            raise ValueError(f"LED display URL {url!r}: unknown parameter {name!r} (expected: {', '.join(allowed)})")
        if name in values:
            raise ValueError(f"LED display URL {url!r}: parameter {name!r} given twice")
        values[name] = allowed[name](value, f"LED display URL {url!r}: {name}")
    return values


def open_led_bus(url: str) -> CounterLedDisplays:
    """The displays a URL names (see the module docstring). Validates everything (ValueError) and
    opens nothing: the line opens on the first write, so the agent starts while the displays are
    switched off."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"LED display URL {url!r}: expected modbus:///dev/ttyUSB0, socket://HOST:PORT, "
                         "rfc2217://HOST:PORT, loop:// or dummy://")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"LED display URL {url!r}: unknown scheme {scheme!r} (expected {', '.join(_SCHEMES)})")
    if parts.fragment:
        raise ValueError(f"LED display URL {url!r}: fragments (#…) are not allowed")
    allowed = dict(_PROFILE_PARSERS) if scheme == "dummy" else {**_LINE_PARAMS, **_PROFILE_PARSERS}
    params = _query(url, parts.query, allowed)
    try:
        profile = make_profile(params.pop("profile", "numeric"),
                               **{k: params.pop(k) for k in list(params) if k in _PROFILE_PARSERS})
    except ValueError as exc:
        raise ValueError(f"LED display URL {url!r}: {exc}") from None
    if scheme == "dummy":
        if parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"LED display URL {url!r}: expected dummy://")
        return DummyLedBus(profile)
    if scheme == "modbus":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/") or path.endswith("/"):
            raise ValueError(f"LED display URL {url!r}: expected modbus:///dev/ttyUSB0 (three slashes, absolute path)")
        return ModbusLedBus(path, profile, **params)
    if scheme == "loop":
        if parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"LED display URL {url!r}: expected loop://")
        return ModbusLedBus("loop://", profile, **params)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or not port or parts.path not in ("", "/"):
        raise ValueError(f"LED display URL {url!r}: expected {scheme}://HOST:PORT")
    return ModbusLedBus(f"{scheme}://{parts.netloc}", profile, **params)
