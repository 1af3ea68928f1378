"""A counter's USB rating keypad through the hardware agent, against a live server: a key press rates the
counter's last visit (channel keypad), once.

The keypad is the real evdev reader on a pipe of kernel-format events (no /dev/input here); the agent
runs in this process over a real Socket.IO connection to a real gunicorn server.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware import rating_keypad
from hardware.agent import Agent, AgentSettings, main, settings_from
from hardware.escpos_output import PrinterProfile
from hardware.journal import Journal
from hardware.printer import EscposTicketPrinter
from hardware.rating_keypad import open_rating_keypad
from tests.hardware.conftest import FakeTcpPrinter
from tests.hardware.test_rating_keypad import Keypad
from tests.hardware.test_scanners import FakeInputDevices
from tests.server_process import ServerProcess

from .test_agent import http, slips, wait_for

PAD = "/dev/input/by-id/usb-RatingPad_3K-event-kbd"
MAP = "map=1:very_satisfied,2:satisfied,3:unsatisfied"
_codes = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(var_dir=tmp_path_factory.mktemp("rating-agent-server"))
    srv.prepare_demo()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def pad(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeInputDevices]:
    devices = FakeInputDevices()
    monkeypatch.setattr(rating_keypad.evdev, "InputDevice", devices)
    devices.plug(PAD)
    yield devices
    if PAD in devices.plugged:
        devices.unplug(PAD)


def login(server: ServerProcess, username: str) -> str:
    status, body = http("POST", server.url + "/api/v1/auth/token", {"username": username, "password": "motcua-demo"})
    assert status == 200, body
    return body["token"]


def device_token(server: ServerProcess, kind: str, counter: int | None = None, code: str | None = None) -> str:
    body: dict = {"kind": kind, "code": code or f"{kind}-a{next(_codes)}"}
    if counter is not None:
        body["counter"] = counter
    status, answer = http("POST", server.url + "/api/v1/devices/token", body, login(server, "admin"))
    assert status == 201, answer
    return answer["token"]


def serve(server: ServerProcess, counter: int, service: str) -> dict:
    status, ticket = http("POST", server.url + "/api/v1/tickets", {"service": service})
    assert status == 201, ticket
    staff = login(server, f"staff{counter}")
    assert http("POST", f"{server.url}/api/v1/counters/{counter}/call-next", {}, staff)[1]["id"] == ticket["id"]
    assert http("POST", f"{server.url}/api/v1/counters/{counter}/finish", {}, staff)[0] == 200
    return ticket


def rating_of(server: ServerProcess, ticket: dict) -> dict:
    return http("GET", f"{server.url}/api/v1/ratings/track/{ticket['track_url'].rsplit('/', 1)[1]}")[1]


def press(pad: FakeInputDevices, key: str, at: float) -> None:
    pad.send(PAD, Keypad(start=at).press(key))


def answered(agent: Agent) -> dict:
    return wait_for(lambda: agent.last_rating, what="the server's answer to the key")   # type: ignore[return-value]


def test_a_keypad_alone_rates_the_counters_last_visit(server: ServerProcess, pad: FakeInputDevices,
                                                      tmp_path: Path) -> None:
    token = device_token(server, "rating", counter=3)
    url = f"evdev://{PAD}?{MAP}"
    settings = settings_from(["--server", server.url, "--token", token, "--rating-keypad", url,
                              "--state-dir", str(tmp_path)])
    assert (settings.kiosk, settings.rating_keypad, settings.rating_token) == (None, url, None)
    agent = Agent(settings, None, None, keypad=open_rating_keypad(url))
    agent.start()
    try:
        wait_for(lambda: agent.keypad.connected and agent.sio.connected, what="keypad and server")
        assert pad.grabbed == [PAD]
        press(pad, "KEY_KP1", time.time())              # nobody has been served at counter 3 yet
        assert answered(agent)["error"]["code"] == "nothing_to_rate"

        ticket = serve(server, 3, "DATDAI")
        agent.last_rating = None
        press(pad, "KEY_2", time.time() + 5)
        answer = answered(agent)
        assert answer["ok"] is True and answer["rating"]["ticket"]["id"] == ticket["id"], answer
        rating = rating_of(server, ticket)
        assert rating["state"] == "rated"
        assert (rating["rating"]["level"], rating["rating"]["channel"], rating["rating"]["counter"]) == (
            "satisfied", "keypad", 3)

        agent.last_rating = None
        press(pad, "KEY_3", time.time() + 10)           # the same citizen again: one rating per visit
        assert answered(agent)["error"]["code"] == "nothing_to_rate"
        assert rating_of(server, ticket)["rating"]["level"] == "satisfied"
    finally:
        agent.stop()
    assert pad.released == [PAD]


def test_a_kiosk_agent_also_serves_a_keypad_with_the_counters_token(server: ServerProcess, pad: FakeInputDevices,
                                                                   tmp_path: Path) -> None:
    """One box, one connection: the agent token prints for its kiosk, the rating token rates for counter 4."""
    kiosk = f"kiosk-r{next(_codes)}"
    device_token(server, "kiosk", code=kiosk)
    agent_token = device_token(server, "agent")
    rating_token = device_token(server, "rating", counter=4)
    with FakeTcpPrinter() as printer:
        url = printer.url + "?timeout=1"
        settings = AgentSettings(server=server.url, kiosk=kiosk, token=agent_token, printer=url, profile={},
                                 state_dir=tmp_path, poll_s=0.3, rating_keypad=f"evdev://{PAD}",
                                 rating_token=rating_token)
        agent = Agent(settings, EscposTicketPrinter(url, PrinterProfile()), Journal(tmp_path / "journal.db"),
                      keypad=open_rating_keypad(settings.rating_keypad))
        agent.start()
        try:
            wait_for(lambda: agent.keypad.connected and agent.sio.connected, what="keypad and server")
            status, _ = http("POST", server.url + "/api/v1/tickets", {"service": "HOTICH", "kiosk": kiosk})
            assert status == 201
            wait_for(lambda: len(slips(printer)) == 1, what="the ticket printed")
            ticket = serve(server, 4, "BAOTRO")
            press(pad, "KEY_KP3", time.time())          # without a map: the third level of the office's scale
            answer = answered(agent)
            assert answer["ok"] is True and answer["rating"]["level"] == "unsatisfied", answer
            assert rating_of(server, ticket)["rating"]["channel"] == "keypad"
        finally:
            agent.stop()


def test_agent_options_for_the_keypad(tmp_path: Path) -> None:
    settings = settings_from(["--token", "T", "--kiosk", "kiosk-1", "--rating-keypad", f"evdev://{PAD}",
                              "--rating-token", "R"])
    assert (settings.kiosk, settings.rating_token) == ("kiosk-1", "R")
    with pytest.raises(SystemExit):
        settings_from(["--token", "T"])                  # neither a kiosk nor a keypad to serve
    with pytest.raises(SystemExit):
        settings_from(["--rating-keypad", f"evdev://{PAD}"])
    with pytest.raises(SystemExit, match="unknown key .zz."):
        main(["--token", "T", "--rating-keypad", "evdev:///dev/input/event3?map=9:x,zz:y", "--state-dir",
              str(tmp_path)])
