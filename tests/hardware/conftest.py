"""Fakes of real devices for the hardware tests (and the agent's): a TCP ESC/POS printer on
127.0.0.1 and a serial printer on a pty. They speak the real protocol over real sockets and
terminals, so the code under test runs unchanged."""
from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware.slip import Slip, ticket_slip

DLE_EOT = b"\x10\x04"
PAPER_BYTES = {"ok": 0x12, "near_end": 0x1E, "out": 0x7E}   # DLE EOT 4 answers (Epson)


def status_answer(n: int, paper: str, online: bool, cover_open: bool = False) -> int:
    """What an Epson-compatible printer answers to DLE EOT n. Out of paper it also goes offline."""
    offline = not online or paper == "out" or cover_open
    if n == 1:
        return 0x12 | (0x08 if offline else 0)
    if n == 2:
        return 0x12 | (0x04 if cover_open else 0) | (0x20 if paper == "out" else 0)
    if n == 4:
        return PAPER_BYTES[paper]
    return 0x12


class StatusScanner:
    """Finds DLE EOT n in a byte stream split across reads (like a printer, it also answers the
    rare DLE EOT that happens to sit inside image data)."""

    def __init__(self) -> None:
        self.tail = b""

    def queries(self, chunk: bytes) -> list[int]:
        data, found, i = self.tail + chunk, [], 0
        while (j := data.find(DLE_EOT, i)) >= 0 and j + 2 < len(data):
            found.append(data[j + 2])
            i = j + 3
        if j >= 0:                                   # DLE EOT without its n yet
            self.tail = data[j:]
        else:
            self.tail = b"\x10" if data[i:].endswith(b"\x10") else b""
        return found


class FakeTcpPrinter:
    """A network ESC/POS printer on 127.0.0.1.

        printer = FakeTcpPrinter().start()
        printer.url                    # "tcp://127.0.0.1:PORT"
        printer.paper = "near_end"     # "ok" | "near_end" | "out": what DLE EOT 4 reports
        printer.online = False         # DLE EOT 1 reports offline (cover open and the like)
        printer.silent = True          # accepts and records, never answers a status query
        printer.wait_for_bytes(n, timeout=5)
        printer.received               # every byte received so far, all connections
        printer.stop()

    Each connection is served on its own thread; a connection ends when the client closes its side.
    """

    def __init__(self, paper: str = "ok", silent: bool = False, online: bool = True) -> None:
        self.paper = paper
        self.silent = silent
        self.online = online
        self.connections = 0
        self.queries: list[int] = []
        self._received = bytearray()
        self._cond = threading.Condition()
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []
        self._stopping = threading.Event()

    # lifecycle -------------------------------------------------------------------------------------
    def start(self) -> FakeTcpPrinter:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(0.1)
        self._server = server
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for sock in [self._server, *self._clients]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> FakeTcpPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.getsockname()[1]

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    # what arrived ----------------------------------------------------------------------------------
    @property
    def received(self) -> bytes:
        with self._cond:
            return bytes(self._received)

    def clear(self) -> None:
        with self._cond:
            self._received.clear()
            self.queries.clear()

    def wait_for_bytes(self, n: int, timeout: float = 5.0) -> bytes:
        """Everything received once at least n bytes have arrived; TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._received) >= n, timeout):
                raise TimeoutError(f"fake printer got {len(self._received)} of {n} bytes in {timeout} s")
            return bytes(self._received)

    # serving ---------------------------------------------------------------------------------------
    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._clients.append(client)
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        scanner = StatusScanner()
        client.settimeout(0.1)
        with client:
            while not self._stopping.is_set():
                try:
                    chunk = client.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return                      # the client closed its side: so do we
                with self._cond:
                    self._received += chunk
                    self._cond.notify_all()
                for n in scanner.queries(chunk):
                    self.queries.append(n)
                    if not self.silent:
                        with contextlib.suppress(OSError):
                            client.sendall(bytes([status_answer(n, self.paper, self.online)]))


class FakeSerialPrinter:
    """The printer end of a pty: `path` is the device the code under test opens as serial://.
    Records what arrives and answers DLE EOT queries like FakeTcpPrinter."""

    def __init__(self, paper: str = "ok", silent: bool = False, online: bool = True) -> None:
        self.paper, self.silent, self.online = paper, silent, online
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self._received = bytearray()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def url(self) -> str:
        return f"serial://{self.path}"

    @property
    def received(self) -> bytes:
        with self._cond:
            return bytes(self._received)

    def start(self) -> FakeSerialPrinter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def wait_for_bytes(self, n: int, timeout: float = 5.0) -> bytes:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._received) >= n, timeout):
                raise TimeoutError(f"fake serial printer got {len(self._received)} of {n} bytes in {timeout} s")
            return bytes(self._received)

    def _loop(self) -> None:
        scanner = StatusScanner()
        while not self._stopping.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                time.sleep(0.01)            # no reader on the other side yet (EIO): wait for one
                continue
            with self._cond:
                self._received += chunk
                self._cond.notify_all()
            for n in scanner.queries(chunk):
                if not self.silent:
                    os.write(self.master, bytes([status_answer(n, self.paper, self.online)]))


@pytest.fixture
def fake_printer() -> Iterator[FakeTcpPrinter]:
    printer = FakeTcpPrinter().start()
    yield printer
    printer.stop()


@pytest.fixture
def fake_serial_printer() -> Iterator[FakeSerialPrinter]:
    printer = FakeSerialPrinter().start()
    yield printer
    printer.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connecting is refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


TRACK_URL = "https://motcua.example.gov.vn/t/7f3a9c2e5b1d4e8a9c3f2a1b"


def demo_ticket(number: str = "A025", qr_url: str | None = TRACK_URL, slip_id: str | None = None) -> Slip:
    """The ticket of DOMAIN.md with real Vietnamese in every line."""
    return ticket_slip(
        office_name="TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG PHƯỜNG BA ĐÌNH",
        office_lines=["Số 10 Phố Đội Cấn, phường Ba Đình, TP. Hà Nội"],
        number=number, service_name="Chứng thực bản sao từ bản chính", people_ahead=3,
        issued_text="08:15 — 23/11/2026", session_text="Buổi: Sáng", qr_url=qr_url,
        footer="Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!", slip_id=slip_id,
    )


@pytest.fixture
def ticket() -> Slip:
    return demo_ticket()


@pytest.fixture
def preview_dir(tmp_path: Path) -> Path:
    return tmp_path / "previews"
