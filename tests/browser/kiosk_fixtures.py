"""Kiosk test fixtures: a fake network printer, the real hardware agent printing to it (and reading
a scanner on a pty), and helpers to read back what was printed and to change the office's settings
behind the kiosk's back."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import termios
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from hardware.escpos_decode import Printout, decode
from tests.hardware.conftest import FakeTcpPrinter
from tests.server_process import ROOT, ServerProcess

KIOSK = "kiosk-1"
AGENT_CODE = "agent-kiosk-1"


@dataclass
class AgentProcess:
    """`python -m hardware.agent` as a kiosk box runs it, polling the printer every half second."""
    server: ServerProcess
    printer_url: str
    state_dir: Path
    token: str
    kiosk: str = KIOSK
    scanner: str | None = None          # e.g. serial:///dev/pts/7?terminator=cr
    proc: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.state_dir / "agent.log"

    def start(self, timeout: float = 20) -> AgentProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MOTCUA_AGENT_TOKEN": self.token, "LOG_LEVEL": "INFO"}
        scanner = ["--scanner", self.scanner] if self.scanner else []
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hardware.agent", "--server", self.server.url, "--kiosk", self.kiosk,
                 "--printer", self.printer_url, "--poll", "0.5", "--state-dir", str(self.state_dir), *scanner],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_online(timeout)
        return self

    def wait_online(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError("the agent exited:\n" + self.log_path.read_text())
            if kiosk_state(self.server, self.kiosk).get("agent_online"):
                return
            time.sleep(0.1)
        raise RuntimeError("the agent did not come online:\n" + self.log_path.read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def kiosk_state(server: ServerProcess, code: str = KIOSK) -> dict:
    try:
        with urllib.request.urlopen(f"{server.url}/api/v1/kiosks/{code}", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return {}


@pytest.fixture(scope="module")
def kiosk_printer() -> Iterator[FakeTcpPrinter]:
    """The kiosk's 80 mm network printer; tests set `paper`/`silent` on it and put it right after."""
    printer = FakeTcpPrinter().start()
    yield printer
    printer.stop()


@pytest.fixture(scope="module")
def kiosk_agent(server: ServerProcess, kiosk_printer: FakeTcpPrinter,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    agent = AgentProcess(server, kiosk_printer.url, tmp_path_factory.mktemp("agent"),
                         server.device_token("agent", AGENT_CODE))
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture
def printer(kiosk_printer: FakeTcpPrinter, kiosk_agent: AgentProcess) -> Iterator[FakeTcpPrinter]:
    """The agent's printer, emptied, with paper and answering; as it was found afterwards too."""
    kiosk_printer.paper, kiosk_printer.silent, kiosk_printer.online = "ok", False, True
    kiosk_printer.clear()
    yield kiosk_printer
    kiosk_printer.paper, kiosk_printer.silent, kiosk_printer.online = "ok", False, True


def printout(printer: FakeTcpPrinter) -> Printout:
    return decode(printer.received)


def wait_for_slips(printer: FakeTcpPrinter, count: int, timeout: float = 10) -> Printout:
    """What the printer has printed once `count` slips (cuts) have come out."""
    deadline = time.monotonic() + timeout
    while True:
        out = printout(printer)
        if len(out.cuts) >= count or time.monotonic() > deadline:
            assert len(out.cuts) >= count, f"{len(out.cuts)} of {count} slips printed in {timeout} s"
            return out
        time.sleep(0.05)


def qr_codes(out: Printout) -> list[str]:
    """The QR codes a phone would read from the printed slips (zxing-cpp on the decoded raster)."""
    import zxingcpp

    page: Image.Image = out.page().convert("L")
    return [b.text for b in zxingcpp.read_barcodes(page) if b.format == zxingcpp.BarcodeFormat.QRCode]


def code128s(out: Printout) -> list[str]:
    """The CODE128 barcodes a hand scanner would read from the printed slips (zxing-cpp)."""
    import zxingcpp

    page: Image.Image = out.page().convert("L")
    return [b.text for b in zxingcpp.read_barcodes(page) if b.format == zxingcpp.BarcodeFormat.Code128]


class PtyScanner:
    """A serial barcode scanner: the agent opens `url` (the pty's slave end); `scan()` sends one
    scan down the wire the way a scanner in serial mode does, terminated by CR."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)

    @property
    def url(self) -> str:
        return f"serial://{self.path}?terminator=cr"

    def wait_open(self, timeout: float = 10) -> None:
        """Until the reader has opened the port: pyserial puts the tty in raw mode (and flushes
        what was written before), so a scan sent earlier would be lost."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.slave)[3] & termios.ICANON:
            assert time.monotonic() < deadline, f"nothing opened the scanner port {self.path}"
            time.sleep(0.05)

    def scan(self, text: str) -> None:
        os.write(self.master, text.encode() + b"\r")

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def update_row(server: ServerProcess, table: sa.Table, where: sa.ColumnElement, **values: object) -> None:
    """Changes one row straight in the server's SQLite file (what the day's end or an admin's edit would)."""
    engine = sa.create_engine(f"sqlite:///{server.var_dir / 'motcua.db'}")
    try:
        with engine.begin() as conn:
            assert conn.execute(sa.update(table).where(where).values(**values)).rowcount == 1
    finally:
        engine.dispose()


def update_service(server: ServerProcess, code: str, **values: object) -> None:
    """Changes a service straight in the server's SQLite file, as an admin's edit would."""
    from queue_server.persistence.tables import services
    update_row(server, services, services.c.code == code, **values)


def revoke_token(server: ServerProcess, token: str) -> None:
    """Revokes one device token, as an admin would after a kiosk box went missing."""
    from queue_server.persistence.tables import api_tokens
    from queue_server.services.auth import token_hash

    engine = sa.create_engine(f"sqlite:///{server.var_dir / 'motcua.db'}")
    try:
        with engine.begin() as conn:
            revoked = conn.execute(sa.update(api_tokens).where(api_tokens.c.token_hash == token_hash(token))
                                   .values(revoked_at=datetime.now(UTC).replace(tzinfo=None)))
            assert revoked.rowcount == 1
    finally:
        engine.dispose()
