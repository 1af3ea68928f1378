"""The hardware agent against a live server and a fake TCP printer: each job printed exactly once.

The server is a real gunicorn process; the agent runs in this process (or as its own process
where a crash is the point) over a real Socket.IO connection; the printer is a TCP listener that
speaks ESC/POS status. What was printed is read back from the bytes.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import socketio

from hardware.agent import Agent, AgentSettings
from hardware.escpos_decode import decode
from hardware.escpos_output import PrinterProfile
from hardware.journal import PRINTED, PRINTING, Journal
from hardware.printer import EscposTicketPrinter
from tests.hardware.conftest import FakeTcpPrinter
from tests.server_process import ROOT, ServerProcess

_kiosks = itertools.count(1)


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def wait_for(check: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(var_dir=tmp_path_factory.mktemp("agent-server"))
    srv.prepare_demo()
    srv.start()
    yield srv
    srv.stop()


class Hall:
    """One kiosk with its own agent token, so tests sharing a server never see each other's jobs."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        n = next(_kiosks)
        self.kiosk = f"kiosk-t{n}"
        _, body = http("POST", server.url + "/api/v1/auth/token", {"username": "admin", "password": "motcua-demo"})
        self.admin = body["token"]
        status, _ = http("POST", server.url + "/api/v1/devices/token", {"kind": "kiosk", "code": self.kiosk},
                         self.admin)
        assert status == 201
        status, body = http("POST", server.url + "/api/v1/devices/token", {"kind": "agent", "code": f"agent-t{n}"},
                            self.admin)
        self.agent_token = body["token"]

    def issue(self, service: str = "HOTICH") -> dict:
        status, body = http("POST", self.server.url + "/api/v1/tickets", {"service": service, "kiosk": self.kiosk})
        assert status == 201, body
        return body

    def jobs(self, ticket_id: int) -> list[dict]:
        return http("GET", f"{self.server.url}/api/v1/tickets/{ticket_id}/print-jobs", token=self.admin)[1]["jobs"]

    def job_status(self, ticket_id: int) -> str:
        return self.jobs(ticket_id)[-1]["status"]

    def kiosk_state(self) -> dict:
        return http("GET", f"{self.server.url}/api/v1/kiosks/{self.kiosk}")[1]

    def agent(self, printer_url: str, journal_path: Path, poll_s: float = 0.3) -> Agent:
        settings = AgentSettings(server=self.server.url, kiosk=self.kiosk, token=self.agent_token,
                                 printer=printer_url, profile={}, state_dir=journal_path.parent, poll_s=poll_s)
        printer = EscposTicketPrinter(printer_url, PrinterProfile())
        return Agent(settings, printer, Journal(journal_path))


def quick(printer: FakeTcpPrinter) -> str:
    """The printer's URL with a short network timeout, so a silent printer is judged offline fast."""
    return printer.url + "?timeout=1"


def slips(printer: FakeTcpPrinter) -> list:
    """The slips on the paper: one cut ends each."""
    return decode(printer.received).cuts


@pytest.fixture
def printer() -> Iterator[FakeTcpPrinter]:
    with FakeTcpPrinter() as p:
        yield p


def test_prints_a_ticket_once_and_reports_it(server: ServerProcess, printer: FakeTcpPrinter, tmp_path: Path) -> None:
    hall = Hall(server)
    agent = hall.agent(quick(printer), tmp_path / "journal.db")
    agent.start()
    try:
        ticket = hall.issue()
        wait_for(lambda: hall.job_status(ticket["id"]) == "printed", what="job printed")
        wait_for(lambda: len(slips(printer)) == 1, what="the slip on the paper")   # bytes may trail the report
        wait_for(lambda: (hall.kiosk_state()["printer"] or {}).get("paper") == "ok", what="paper state reported")
        assert hall.kiosk_state()["agent_online"] is True
    finally:
        agent.stop()
    wait_for(lambda: not hall.kiosk_state()["agent_online"], what="agent offline after stop")


def test_printed_ticket_carries_its_tracking_qr(server: ServerProcess, printer: FakeTcpPrinter,
                                               tmp_path: Path) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    hall = Hall(server)
    agent = hall.agent(quick(printer), tmp_path / "journal.db")
    agent.start()
    try:
        ticket = hall.issue("DATDAI")
        wait_for(lambda: hall.job_status(ticket["id"]) == "printed", what="job printed")
        wait_for(lambda: len(slips(printer)) == 1, what="the slip on the paper")
    finally:
        agent.stop()
    page = decode(printer.received).page()
    assert page.width == 576
    texts = {r.text for r in zxingcpp.read_barcodes(page)}
    assert ticket["track_url"] in texts


def test_jobs_issued_while_the_agent_is_away_print_once_on_return(server: ServerProcess, printer: FakeTcpPrinter,
                                                                  tmp_path: Path) -> None:
    hall = Hall(server)
    first = hall.issue()
    second = hall.issue()
    assert hall.job_status(first["id"]) == "pending"
    assert hall.kiosk_state()["agent_online"] is False
    agent = hall.agent(quick(printer), tmp_path / "journal.db")
    agent.start()
    try:
        wait_for(lambda: hall.job_status(second["id"]) == "printed", what="backlog printed")
        assert hall.job_status(first["id"]) == "printed"
        agent.sio.disconnect()                   # a network drop: the server resends nothing printed
        agent.sio.connect(server.url, auth={"token": hall.agent_token, "agent_for": hall.kiosk},
                          transports=["websocket"], wait_timeout=10)
        time.sleep(0.5)
    finally:
        agent.stop()
    assert len(slips(printer)) == 2


def test_lost_acknowledgement_is_repeated_not_reprinted(server: ServerProcess, printer: FakeTcpPrinter,
                                                        tmp_path: Path) -> None:
    """The agent printed, then died before the server heard of it."""
    hall = Hall(server)
    ticket = hall.issue()
    job_id = hall.jobs(ticket["id"])[0]["id"]
    journal = Journal(tmp_path / "journal.db")
    journal.mark(job_id, PRINTED)
    journal.close()
    agent = hall.agent(quick(printer), tmp_path / "journal.db")
    agent.start()
    try:
        wait_for(lambda: hall.job_status(ticket["id"]) == "printed", what="acknowledgement")
    finally:
        agent.stop()
    assert printer.received.count(b"\x1dV") == 0      # no cut: nothing was printed again


def test_crash_mid_print_is_reported_uncertain(server: ServerProcess, printer: FakeTcpPrinter,
                                               tmp_path: Path) -> None:
    hall = Hall(server)
    ticket = hall.issue()
    job_id = hall.jobs(ticket["id"])[0]["id"]
    journal = Journal(tmp_path / "journal.db")
    journal.mark(job_id, PRINTING)                      # the process died with bytes going out
    journal.close()
    agent = hall.agent(quick(printer), tmp_path / "journal.db")
    agent.start()
    try:
        wait_for(lambda: hall.job_status(ticket["id"]) == "uncertain", what="uncertain result")
    finally:
        agent.stop()
    assert slips(printer) == []
    assert http("GET", f"{server.url}/api/v1/tickets/{ticket['id']}")[1]["status"] == "waiting"


def test_paper_out_then_refill_prints_once(server: ServerProcess, printer: FakeTcpPrinter, tmp_path: Path) -> None:
    hall = Hall(server)
    printer.paper = "out"
    agent = hall.agent(quick(printer), tmp_path / "journal.db", poll_s=0.2)
    agent.start()
    try:
        wait_for(lambda: (hall.kiosk_state()["printer"] or {}).get("paper") == "out", what="paper out reported")
        ticket = hall.issue()
        wait_for(lambda: hall.job_status(ticket["id"]) == "failed", what="job failed on paper out")
        assert hall.jobs(ticket["id"])[-1]["error_code"] == "paper_out"
        assert slips(printer) == []
        assert http("GET", f"{server.url}/api/v1/tickets/{ticket['id']}")[1]["status"] == "waiting"
        printer.paper = "ok"
        wait_for(lambda: hall.job_status(ticket["id"]) == "printed", what="printed after refill")
        time.sleep(1.0)                                  # several more polls: nothing more prints
    finally:
        agent.stop()
    assert len(slips(printer)) == 1


def test_printer_that_never_answers_is_offline_not_a_hang(server: ServerProcess, tmp_path: Path) -> None:
    hall = Hall(server)
    with FakeTcpPrinter(silent=True) as mute:
        agent = hall.agent(quick(mute), tmp_path / "journal.db", poll_s=0.3)
        agent.start()
        try:
            wait_for(lambda: (hall.kiosk_state()["printer"] or {}).get("online") is False, what="offline reported")
            ticket = hall.issue()
            wait_for(lambda: hall.job_status(ticket["id"]) == "failed", timeout=15, what="job failed offline")
            assert hall.jobs(ticket["id"])[-1]["error_code"] == "offline"
            mute.silent = False                          # the printer wakes up
            wait_for(lambda: hall.job_status(ticket["id"]) == "printed", timeout=15, what="printed after wake")
        finally:
            agent.stop()
        assert len(slips(mute)) == 1


def test_staff_reprint(server: ServerProcess, printer: FakeTcpPrinter, tmp_path: Path) -> None:
    hall = Hall(server)
    agent = hall.agent(quick(printer), tmp_path / "journal.db")
    agent.start()
    try:
        ticket = hall.issue()
        wait_for(lambda: hall.job_status(ticket["id"]) == "printed", what="printed")
        status, job = http("POST", f"{server.url}/api/v1/tickets/{ticket['id']}/reprint", {}, hall.admin)
        assert status == 201 and job["kind"] == "reprint"
        wait_for(lambda: len(slips(printer)) == 2, what="reprint on paper")
        status, _ = http("POST", f"{server.url}/api/v1/tickets/{ticket['id']}/reprint", {})
        assert status == 401
    finally:
        agent.stop()


def test_revoked_or_wrong_tokens_are_refused(server: ServerProcess) -> None:
    hall = Hall(server)
    for auth in ({"token": "nonsense", "agent_for": hall.kiosk},
                 {"token": hall.agent_token, "agent_for": "kiosk-unknown"},
                 {"agent_for": hall.kiosk}):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
        client.disconnect()


def test_agent_process_killed_and_restarted_prints_each_job_once(server: ServerProcess, printer: FakeTcpPrinter,
                                                                 tmp_path: Path) -> None:
    hall = Hall(server)
    env = {**os.environ, "MOTCUA_AGENT_TOKEN": hall.agent_token}
    command = [sys.executable, "-m", "hardware.agent", "--server", server.url, "--kiosk", hall.kiosk,
               "--printer", quick(printer), "--state-dir", str(tmp_path), "--poll", "0.5"]

    def start() -> subprocess.Popen:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    proc = start()
    try:
        tickets = [hall.issue() for _ in range(3)]
        wait_for(lambda: all(hall.job_status(t["id"]) == "printed" for t in tickets), timeout=20, what="3 printed")
        proc.kill()                                       # SIGKILL: no goodbye to the server
        proc.wait(timeout=10)
        tickets += [hall.issue() for _ in range(2)]       # issued while the agent is dead
        proc = start()
        wait_for(lambda: all(hall.job_status(t["id"]) == "printed" for t in tickets), timeout=30, what="5 printed")
        time.sleep(1.0)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert len(slips(printer)) == 5


def test_a_scan_at_the_kiosk_box_shows_the_dossier_on_that_kiosk(server: ServerProcess, printer: FakeTcpPrinter,
                                                                  tmp_path: Path) -> None:
    """Serial scanner on a real pty → agent → server → the kiosk page's room."""
    hall = Hall(server)
    status, body = http("POST", server.url + "/api/v1/devices/token", {"kind": "integrator", "code": "igate-scan"},
                        hall.admin)
    code = "000.00.12.H56-250915-0042"
    status, _ = http("POST", server.url + "/api/v1/dossiers", {
        "code": code, "procedure_name": "Đăng ký kết hôn", "field_name": "Hộ tịch", "owner_name": "Trần Thị Bình",
        "received_at": "2025-09-15T08:00:00+07:00", "appointment_at": "2099-09-22T17:00:00+07:00", "status": 4,
    }, body["token"])
    assert status == 201
    master, slave = os.openpty()
    page = socketio.Client(reconnection=False)
    seen: list[dict] = []
    page.on("dossier_scanned", seen.append)
    page.connect(server.url, auth={"kiosk": hall.kiosk}, transports=["websocket"], wait_timeout=5)
    settings = AgentSettings(server=server.url, kiosk=hall.kiosk, token=hall.agent_token, printer=quick(printer),
                             profile={}, state_dir=tmp_path, poll_s=5)
    from hardware.scanners import open_reader
    agent = Agent(settings, EscposTicketPrinter(quick(printer)), Journal(tmp_path / "j.db"),
                  open_reader(f"serial://{os.ttyname(slave)}?baudrate=9600&terminator=cr"))
    agent.start()
    try:
        time.sleep(0.3)
        os.write(master, f"Mã hồ sơ: {code}\nHọ tên: Trần Thị Bình\r".encode())
        wait_for(lambda: seen, what="dossier_scanned on the kiosk page")
        os.write(master, b"not a code\r")
        wait_for(lambda: len(seen) == 2, what="second scan")
    finally:
        agent.stop()
        page.disconnect()
        os.close(master)
        os.close(slave)
    found, refused = seen
    assert found["ok"] and found["dossier"]["code"] == code and found["dossier"]["owner"] == "Tr*** T** B"
    assert "Trần Thị Bình" not in json.dumps(found, ensure_ascii=False)
    assert refused["ok"] is False and refused["error"]["code"] == "malformed_code"


def test_server_killed_and_restarted_the_agent_comes_back_and_nothing_prints_twice(
        printer: FakeTcpPrinter, tmp_path: Path) -> None:
    srv = ServerProcess(var_dir=tmp_path / "srv")
    srv.var_dir.mkdir()
    srv.prepare_demo()
    srv.start()
    try:
        hall = Hall(srv)
        agent = hall.agent(quick(printer), tmp_path / "journal.db")
        agent.start()
        try:
            before = hall.issue()
            wait_for(lambda: hall.job_status(before["id"]) == "printed", what="printed before the crash")
            srv.kill()                                    # SIGKILL: sockets die without a goodbye
            srv.start()
            wait_for(lambda: hall.kiosk_state()["agent_online"], timeout=20, what="agent reconnected")
            after = hall.issue()
            wait_for(lambda: hall.job_status(after["id"]) == "printed", timeout=20, what="printed after restart")
            time.sleep(0.5)
        finally:
            agent.stop()
        assert len(slips(printer)) == 2
        assert hall.job_status(before["id"]) == "printed"
    finally:
        srv.stop()


def test_an_agent_that_cannot_reach_its_server_still_stops_on_sigterm(tmp_path: Path) -> None:
    import select
    import signal
    proc = subprocess.Popen([sys.executable, "-m", "hardware.agent", "--server", "http://127.0.0.1:1", "--kiosk",
                             "kiosk-1", "--printer", "dummy://", "--state-dir", str(tmp_path)],
                            env={**os.environ, "MOTCUA_AGENT_TOKEN": "x" * 40, "LOG_LEVEL": "INFO"}, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        said = b""
        deadline = time.monotonic() + 30              # a loaded machine may take seconds to import everything
        while b"connecting to http://127.0.0.1:1" not in said and time.monotonic() < deadline:
            if select.select([proc.stderr], [], [], 0.5)[0]:
                chunk = os.read(proc.stderr.fileno(), 4096)
                assert chunk, f"the agent exited early ({proc.wait()}):\n{said.decode(errors='replace')}"
                said += chunk
        assert b"connecting to" in said, said.decode(errors="replace")
        time.sleep(0.5)
        assert proc.poll() is None, said.decode(errors="replace")        # still trying to connect
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_calls_light_the_counter_led_displays(server: ServerProcess, printer: FakeTcpPrinter,
                                              tmp_path: Path) -> None:
    """The demo gives counter N the LED address N; a call shows its number there, finishing clears it."""
    from hardware.leds import open_led_bus
    hall = Hall(server)
    leds = open_led_bus("dummy://")
    settings = AgentSettings(server=server.url, kiosk=hall.kiosk, token=hall.agent_token, printer=quick(printer),
                             profile={}, state_dir=tmp_path, poll_s=5)
    agent = Agent(settings, EscposTicketPrinter(quick(printer)), Journal(tmp_path / "j.db"), leds=leds)
    agent.start()
    try:
        ticket = hall.issue("DATDAI")                       # counter 3 serves Đất đai
        staff = http("POST", server.url + "/api/v1/auth/token", {"username": "staff3", "password": "motcua-demo"})
        token = staff[1]["token"]
        # Other tests share this server's queues: call this ticket by its number.
        status, called = http("POST", server.url + "/api/v1/counters/3/call", {"number": ticket["number"]}, token)
        assert status == 200 and called["id"] == ticket["id"]
        wait_for(lambda: leds.shown.get(3) == ticket["number"], what="the number on counter 3's display")
        http("POST", server.url + "/api/v1/counters/3/finish", {}, token)
        wait_for(lambda: 3 not in leds.shown, what="counter 3's display cleared")
    finally:
        agent.stop()


def test_the_agent_program_does_not_load_redis() -> None:
    """python-socketio imports redis whenever it is installed; the agent process keeps it out (6 MB)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "hardware.agent", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--printer" in done.stdout
    loaded = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert "socketio.client" in loaded                       # the measurement sees the agent's imports
    assert not [name for name in loaded if name.startswith("redis.")], loaded
