"""Byte pipes to printers, chosen by URL. They move bytes and nothing else: what the bytes mean is
escpos_output's and printer's business.

    usb://04b8:0e28?timeout=5&in_ep=0x82&out_ep=0x01
    serial:///dev/ttyUSB0?baudrate=19200&bytesize=8&parity=N&stopbits=1&timeout=5&dsrdtr=0&xonxoff=0
    tcp://192.168.1.50:9100?timeout=5
    file:///var/lib/motcua/printer.bin       (appends)
    dummy://                                 (keeps the bytes in memory)

Every operation that waits on a device has a time limit: `timeout` (seconds) bounds connecting and
sending, `status_timeout` bounds each wait for a status answer; `status=0` declares a printer that
never answers (a send-only serial cable), so nobody waits for it. Library errors (socket, pyserial,
pyusb, python-escpos) become TransportError subclasses here, with the original chained.
"""
from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

try:  # optional: a kiosk without a serial printer need not have pyserial
    import serial
except ImportError:  # pragma: no cover - depends on the machine
    serial = None

try:  # optional: pyusb (python-escpos[usb]) and its libusb backend
    import usb.core as usb_core
    from escpos.exceptions import DeviceNotFoundError
    from escpos.printer import Usb
except ImportError:  # pragma: no cover - depends on the machine
    usb_core = None

DEFAULT_TIMEOUT = 5.0
DEFAULT_STATUS_TIMEOUT = 1.0
TCP_DEFAULT_PORT = 9100
SEND_RATE_FLOOR = 10_000      # bytes/s a slow printer still takes in: long jobs get longer deadlines


class TransportError(Exception):
    """Moving bytes failed."""


class TransportUnavailable(TransportError):
    """The device could not be reached at all (refused, absent, no permission, no driver)."""


class TransportTimeout(TransportError):
    """The device stopped taking or giving bytes within the time limit."""


class Transport(Protocol):
    """A byte pipe to one printer. `open` is idempotent; `keep_open` says whether the printer
    should keep the pipe between jobs (serial, USB) or close it after each (TCP, files)."""
    url: str
    can_query: bool
    keep_open: bool
    timeout: float
    status_timeout: float

    def open(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout: float) -> bytes:
        """Up to `size` bytes; b"" when nothing arrived within `timeout` seconds."""
        ...

    def drain(self) -> None:
        """Discard input that arrived unasked (automatic status, XON/XOFF), before a query."""
        ...

    def close(self) -> None: ...


def _send_deadline(timeout: float, size: int) -> float:
    return max(timeout, timeout + size / SEND_RATE_FLOOR)


class TcpTransport:
    """Raw TCP ("JetDirect", port 9100). One connection per job: a printer that was power-cycled
    in between would otherwise swallow the next ticket on a dead connection."""
    can_query = True
    keep_open = False

    def __init__(self, host: str, port: int = TCP_DEFAULT_PORT, timeout: float = DEFAULT_TIMEOUT,
                 status_timeout: float = DEFAULT_STATUS_TIMEOUT, can_query: bool = True) -> None:
        self.host, self.port = host, port
        self.timeout, self.status_timeout = timeout, status_timeout
        self.can_query = can_query
        self.url = f"tcp://{host}:{port}"
        self._sock: socket.socket | None = None
        self._answered = True

    def open(self) -> None:
        if self._sock is not None:
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except TimeoutError as exc:
            raise TransportTimeout(f"{self.url}: no answer to connect within {self.timeout:g} s") from exc
        except OSError as exc:
            raise TransportUnavailable(f"{self.url}: cannot connect: {exc.strerror or exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._answered = sock, True

    def _connected(self) -> socket.socket:
        if self._sock is None:
            self.open()
        assert self._sock is not None
        return self._sock

    def write(self, data: bytes) -> None:
        sock = self._connected()
        sock.settimeout(_send_deadline(self.timeout, len(data)))
        try:
            sock.sendall(data)
        except TimeoutError as exc:
            self._answered = False
            raise TransportTimeout(f"{self.url}: the printer stopped taking data") from exc
        except OSError as exc:
            raise TransportError(f"{self.url}: sending failed: {exc.strerror or exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        sock = self._connected()
        sock.settimeout(max(0.001, timeout))
        try:
            chunk = sock.recv(size)
        except TimeoutError:
            self._answered = False
            return b""
        except OSError as exc:
            raise TransportError(f"{self.url}: reading failed: {exc.strerror or exc}") from exc
        if not chunk:
            raise TransportUnavailable(f"{self.url}: the printer closed the connection")
        return chunk

    def drain(self) -> None:
        sock = self._connected()
        sock.setblocking(False)
        try:
            while sock.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as exc:
            raise TransportError(f"{self.url}: reading failed: {exc.strerror or exc}") from exc
        finally:
            sock.settimeout(self.timeout)

    def close(self) -> None:
        """Half-close and wait (briefly) for the printer to close too: closing with unread input
        would send a reset, and a reset can make the printer drop what it has not printed yet.
        A printer that already failed to answer gets no such courtesy."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            if self._answered:
                sock.shutdown(socket.SHUT_WR)
                deadline = time.monotonic() + min(self.timeout, 2.0)
                while (left := deadline - time.monotonic()) > 0:
                    sock.settimeout(left)
                    if not sock.recv(4096):
                        break
        with contextlib.suppress(OSError):
            sock.close()


class SerialTransport:
    """RS-232 or USB-serial through pyserial. The port stays open between jobs: reopening toggles
    DTR (which resets some printers) and closing may wait for the UART to drain."""
    can_query = True
    keep_open = True

    def __init__(self, port: str, baudrate: int = 9600, bytesize: int = 8, parity: str = "N", stopbits: float = 1,
                 timeout: float = DEFAULT_TIMEOUT, status_timeout: float = DEFAULT_STATUS_TIMEOUT,
                 dsrdtr: bool = False, xonxoff: bool = False, rtscts: bool = False, can_query: bool = True) -> None:
        self.port, self.baudrate, self.bytesize, self.parity, self.stopbits = port, baudrate, bytesize, parity, stopbits
        self.timeout, self.status_timeout = timeout, status_timeout
        self.dsrdtr, self.xonxoff, self.rtscts = dsrdtr, xonxoff, rtscts
        self.can_query = can_query
        self.url = f"serial://{port}"
        self._ser: Any = None

    def open(self) -> None:
        if self._ser is not None:
            return
        if serial is None:
            raise TransportUnavailable(f"{self.url}: pyserial is not installed (pip install pyserial)")
        try:
            self._ser = serial.Serial(port=self.port, baudrate=self.baudrate, bytesize=self.bytesize,
                                      parity=self.parity, stopbits=self.stopbits, timeout=self.status_timeout,
                                      write_timeout=self.timeout, xonxoff=self.xonxoff, rtscts=self.rtscts,
                                      dsrdtr=self.dsrdtr, exclusive=True)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise TransportUnavailable(f"{self.url}: cannot open: {exc}") from exc

    def _port(self) -> Any:
        if self._ser is None:
            self.open()
        return self._ser

    def write(self, data: bytes) -> None:
        ser = self._port()
        # A UART moves baudrate/10 bytes a second: 24 KB at 9600 baud takes 25 s, and that is fine.
        ser.write_timeout = self.timeout + len(data) * 10 / self.baudrate * 1.5
        try:
            ser.write(data)
        except serial.SerialTimeoutException as exc:
            raise TransportTimeout(f"{self.url}: the printer stopped taking data (flow control?)") from exc
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"{self.url}: sending failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        ser = self._port()
        try:
            ser.timeout = max(0.001, timeout)
            return bytes(ser.read(size))
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"{self.url}: reading failed: {exc}") from exc

    def drain(self) -> None:
        try:
            self._port().reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"{self.url}: reading failed: {exc}") from exc

    def close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            with contextlib.suppress(Exception):
                ser.close()


class UsbTransport:
    """USB printer class devices through python-escpos's Usb (pyusb), which finds the device and
    detaches the kernel's usblp driver. Needs a udev rule for access; "Resource busy" means usblp
    or CUPS holds the printer."""
    can_query = True
    keep_open = True

    def __init__(self, vendor: int, product: int, timeout: float = DEFAULT_TIMEOUT,
                 status_timeout: float = DEFAULT_STATUS_TIMEOUT, in_ep: int = 0x82, out_ep: int = 0x01,
                 can_query: bool = True) -> None:
        self.vendor, self.product, self.in_ep, self.out_ep = vendor, product, in_ep, out_ep
        self.timeout, self.status_timeout = timeout, status_timeout
        self.can_query = can_query
        self.url = f"usb://{vendor:04x}:{product:04x}"
        self._printer: Any = None

    def open(self) -> None:
        if self._printer is not None:
            return
        if usb_core is None:
            raise TransportUnavailable(f"{self.url}: pyusb is not installed (pip install 'python-escpos[usb]')")
        printer = Usb(self.vendor, self.product, timeout=int(self.timeout * 1000), in_ep=self.in_ep,
                      out_ep=self.out_ep)
        try:
            printer.open()
        except (DeviceNotFoundError, usb_core.USBError, usb_core.NoBackendError) as exc:
            raise TransportUnavailable(f"{self.url}: cannot open: {exc}") from exc
        self._printer = printer

    def _device(self) -> Any:
        if self._printer is None:
            self.open()
        return self._printer.device

    def write(self, data: bytes) -> None:
        try:
            self._device().write(self.out_ep, data, int(_send_deadline(self.timeout, len(data)) * 1000))
        except usb_core.USBTimeoutError as exc:
            raise TransportTimeout(f"{self.url}: the printer stopped taking data") from exc
        except usb_core.USBError as exc:
            raise TransportError(f"{self.url}: sending failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        try:
            return bytes(self._device().read(self.in_ep, max(size, 64), int(max(1, timeout * 1000))))[:size]
        except usb_core.USBTimeoutError:
            return b""
        except usb_core.USBError as exc:
            raise TransportError(f"{self.url}: reading failed: {exc}") from exc

    def drain(self) -> None:
        while self.read(64, 0.01):
            pass

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            with contextlib.suppress(Exception):
                printer.close()


class FileTransport:
    """Appends to a file: a device node (/dev/usb/lp0) or a plain file for trying things out."""
    can_query = False
    keep_open = False
    timeout = status_timeout = 0.0

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.url = f"file://{path}"
        self._file: IO[bytes] | None = None

    def open(self) -> None:
        if self._file is None:
            try:
                self._file = open(self.path, "ab")  # held across writes; closed in close()
            except OSError as exc:
                raise TransportUnavailable(f"{self.url}: cannot open: {exc.strerror or exc}") from exc

    def write(self, data: bytes) -> None:
        self.open()
        assert self._file is not None
        try:
            self._file.write(data)
            self._file.flush()
        except OSError as exc:
            raise TransportError(f"{self.url}: writing failed: {exc.strerror or exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        return b""

    def drain(self) -> None:
        pass

    def close(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            with contextlib.suppress(OSError):
                f.close()


class DummyTransport:
    """Keeps every byte in memory (`.data`): for tests and for kiosks without a printer."""
    can_query = False
    keep_open = True
    timeout = status_timeout = 0.0

    def __init__(self) -> None:
        self.url = "dummy://"
        self.data = bytearray()

    def open(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.data += data

    def read(self, size: int, timeout: float) -> bytes:
        return b""

    def drain(self) -> None:
        pass

    def close(self) -> None:
        pass


# --- URLs ----------------------------------------------------------------------------------------

def _seconds(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        raise ValueError(f"{name}: expected seconds in (0, 600], got {value!r}")
    return seconds


def _boolean(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}: expected 0 or 1, got {value!r}")


def _integer(choices: tuple[int, ...] | None = None, base: int = 10) -> Callable[[str, str], int]:
    def parse(value: str, name: str) -> int:
        try:
            number = int(value, base if not value.lower().startswith("0x") else 16)
        except ValueError:
            raise ValueError(f"{name}: expected an integer, got {value!r}") from None
        if choices is not None and number not in choices:
            raise ValueError(f"{name}: expected one of {', '.join(map(str, choices))}, got {value!r}")
        if number < 0:
            raise ValueError(f"{name}: must not be negative, got {value!r}")
        return number
    return parse


def _parity(value: str, name: str) -> str:
    if value.upper() not in ("N", "E", "O", "M", "S"):
        raise ValueError(f"{name}: expected N, E, O, M or S, got {value!r}")
    return value.upper()


def _stopbits(value: str, name: str) -> float:
    if value not in ("1", "1.5", "2"):
        raise ValueError(f"{name}: expected 1, 1.5 or 2, got {value!r}")
    return float(value) if value == "1.5" else int(value)


_COMMON = {"timeout": _seconds, "status_timeout": _seconds, "status": _boolean}
_PARAMS: dict[str, dict[str, Callable[[str, str], Any]]] = {
    "tcp": _COMMON,
    "serial": {**_COMMON, "baudrate": _integer((1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)),
               "bytesize": _integer((5, 6, 7, 8)), "parity": _parity, "stopbits": _stopbits,
               "dsrdtr": _boolean, "xonxoff": _boolean, "rtscts": _boolean},
    "usb": {**_COMMON, "in_ep": _integer(), "out_ep": _integer()},
    "file": {},
    "dummy": {},
}


def _query(url: str, scheme: str, query: str) -> dict[str, Any]:
    allowed = _PARAMS[scheme]
    values: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in allowed:
            expected = ", ".join(allowed) or "none"
            raise ValueError(f"printer URL {url!r}: unknown parameter {name!r} for {scheme}:// (expected: {expected})")
        if name in values:
            raise ValueError(f"printer URL {url!r}: parameter {name!r} given twice")
        values[name] = allowed[name](value, f"printer URL {url!r}: {name}")
    if "status" in values:
        values["can_query"] = values.pop("status")
    return values


def open_transport(url: str) -> Transport:
    """The transport a printer URL names. Validates everything and connects to nothing: connecting
    happens on first use, so a kiosk starts even while its printer is switched off."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"printer URL {url!r}: expected usb://, serial://, tcp://, file:// or dummy://")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _PARAMS:
        raise ValueError(f"printer URL {url!r}: unknown scheme {scheme!r} "
                         "(expected usb, serial, tcp, file or dummy)")
    if parts.fragment:
        raise ValueError(f"printer URL {url!r}: fragments (#…) are not allowed")
    params = _query(url, scheme, parts.query)
    if scheme == "tcp":
        try:
            port = parts.port or TCP_DEFAULT_PORT
        except ValueError:
            raise ValueError(f"printer URL {url!r}: the port must be a number 1–65535") from None
        if not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(f"printer URL {url!r}: expected tcp://HOST[:PORT]")
        return TcpTransport(parts.hostname, port, **params)
    if scheme == "serial":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/") or path == "/":
            raise ValueError(f"printer URL {url!r}: expected serial:///dev/ttyUSB0 (three slashes, absolute path)")
        return SerialTransport(path, **params)
    if scheme == "usb":
        ids = parts.netloc.split(":")
        if len(ids) != 2 or parts.path not in ("", "/") or not all(
                1 <= len(i) <= 4 and all(c in "0123456789abcdefABCDEF" for c in i) for i in ids):
            raise ValueError(f"printer URL {url!r}: expected usb://VID:PID in hex, e.g. usb://04b8:0e28")
        return UsbTransport(int(ids[0], 16), int(ids[1], 16), **params)
    if scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not path.startswith("/") or path.endswith("/"):
            raise ValueError(f"printer URL {url!r}: expected file:///absolute/path/to/file")
        return FileTransport(path)
    if parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"printer URL {url!r}: expected dummy://")
    return DummyTransport()

