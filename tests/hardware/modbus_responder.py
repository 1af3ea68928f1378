"""Modbus RTU display modules for the LED tests: the device end of a real line (a pty master, or a
socket's descriptor), written from the Modbus specification rather than from hardware.leds, so
the driver is checked against an independent reading of it.

    line = PtyLine(addresses=(1, 2)).start()
    line.path                        # the device the code under test opens: modbus://{line.path}
    line.responder.registers[1]      # holding registers of the module at address 1
    line.responder.writes            # every accepted write, in order
    line.responder.exception_for[2] = 0x02    # address 2 answers "illegal data address"
    line.responder.silent.add(2)              # address 2 hears but never answers
    line.responder.corrupt.add(2)             # address 2 answers with a wrong CRC
    line.stop()

Like a real module it finds frames by silence: a frame ends when the line has been quiet for 3.5
character times. Frames with a bad CRC, or for addresses not on the line, get no answer. A request
that begins less than 3.5 character times after the module's own answer is recorded in
`short_gaps` (the master broke RTU framing), and frames that fail the CRC in `bad_frames`.
"""
from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from typing import NamedTuple

POLL_S = 0.05


def crc16_modbus_bitwise(data: bytes) -> int:
    """The specification's bit-by-bit CRC (Modbus over serial line, 6.2.2)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
    return crc


def _framed(body: bytes) -> bytes:
    return body + crc16_modbus_bitwise(body).to_bytes(2, "little")


def char_time(baudrate: int, parity: str = "N", stopbits: int = 1) -> float:
    return (1 + 8 + (parity != "N") + stopbits) / baudrate


class Write(NamedTuple):
    address: int
    function: int
    register: int
    values: tuple[int, ...]


class ModbusResponder:
    """Display modules at `addresses`, each with `size` holding registers, on one descriptor."""

    def __init__(self, fd: int, addresses: tuple[int, ...] = (1,), size: int = 16, baudrate: int = 9600,
                 parity: str = "N", stopbits: int = 1) -> None:
        self.fd = fd
        self.t35 = 3.5 * char_time(baudrate, parity, stopbits) if baudrate <= 19200 else 0.00175
        self.registers: dict[int, list[int]] = {a: [0] * size for a in addresses}
        self.writes: list[Write] = []
        self.frames: list[bytes] = []                   # every frame heard, good or bad, any address
        self.bad_frames: list[tuple[bytes, str]] = []
        self.short_gaps: list[float] = []
        self.exception_for: dict[int, int] = {}
        self.silent: set[int] = set()
        self.corrupt: set[int] = set()
        self._answered_at: float | None = None
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="modbus responder")

    def start(self) -> ModbusResponder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)

    def wait_for_frames(self, n: int, timeout: float = 2.0) -> list[bytes]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.frames) >= n, timeout):
                raise TimeoutError(f"the responder heard {len(self.frames)} of {n} frames in {timeout} s")
            return list(self.frames)

    def writes_to(self, address: int) -> list[Write]:
        with self._cond:
            return [w for w in self.writes if w.address == address]

    # serving ---------------------------------------------------------------------------------------
    def _loop(self) -> None:
        buffer, last_byte_at = bytearray(), 0.0
        while not self._stopping.is_set():
            ready, _, _ = select.select([self.fd], [], [], self.t35 if buffer else POLL_S)
            now = time.monotonic()
            if ready:
                try:
                    chunk = os.read(self.fd, 512)
                except OSError:                     # no one has the other end open yet (EIO)
                    time.sleep(0.01)
                    continue
                if not chunk:                       # a socket closed by the other side
                    return
                if not buffer and self._answered_at is not None and now - self._answered_at < self.t35:
                    self.short_gaps.append(now - self._answered_at)
                buffer += chunk
                last_byte_at = now
            elif buffer and now - last_byte_at >= self.t35:
                frame = bytes(buffer)
                buffer.clear()
                self._handle(frame)

    def _handle(self, frame: bytes) -> None:
        with self._cond:
            self.frames.append(frame)
            self._cond.notify_all()
            if len(frame) < 4 or crc16_modbus_bitwise(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
                self.bad_frames.append((frame, "CRC"))
                return
            address, function = frame[0], frame[1]
            if address not in self.registers or address in self.silent:
                return
            if address in self.exception_for:
                answer = _framed(bytes([address, function | 0x80, self.exception_for[address]]))
            else:
                answer = self._apply(address, function, frame)
        if address in self.corrupt:
            answer = answer[:-2] + bytes([answer[-2] ^ 0xFF, answer[-1]])
        self._answered_at = time.monotonic()        # before writing: the master cannot hear it earlier
        os.write(self.fd, answer)

    def _apply(self, address: int, function: int, frame: bytes) -> bytes:
        def exception(code: int) -> bytes:
            return _framed(bytes([address, function | 0x80, code]))

        registers = self.registers[address]
        start = int.from_bytes(frame[2:4], "big")
        if function == 0x06:
            if len(frame) != 8:
                return exception(0x03)
            values = (int.from_bytes(frame[4:6], "big"),)
            answer = frame
        elif function == 0x10:
            quantity = int.from_bytes(frame[4:6], "big")
            if len(frame) < 9 or not 1 <= quantity <= 123 or frame[6] != 2 * quantity or len(frame) != 9 + frame[6]:
                return exception(0x03)
            values = tuple(int.from_bytes(frame[7 + 2 * i:9 + 2 * i], "big") for i in range(quantity))
            answer = _framed(frame[:6])
        else:
            return exception(0x01)
        if start + len(values) > len(registers):
            return exception(0x02)
        registers[start:start + len(values)] = values
        self.writes.append(Write(address, function, start, values))
        return answer


class PtyLine:
    """A pty whose master end is the RS485 line with a ModbusResponder on it; `path` is the
    slave end, the device the code under test opens."""

    def __init__(self, addresses: tuple[int, ...] = (1,), **settings: int | str) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)           # pyserial sets raw mode too; nothing is translated before it does
        self.path = os.ttyname(self.slave)
        self.responder = ModbusResponder(self.master, addresses, **settings)  # type: ignore[arg-type]

    def url(self, query: str = "") -> str:
        return f"modbus://{self.path}" + (f"?{query}" if query else "")

    def start(self) -> PtyLine:
        self.responder.start()
        return self

    def stop(self) -> None:
        self.responder.stop()
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
