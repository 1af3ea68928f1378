"""Browser fixtures: a real server (gunicorn + gevent, demo office) and headless Debian Chromium."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.server_process import ServerProcess

from .kiosk_fixtures import kiosk_agent, kiosk_printer, printer  # noqa: F401  (the kiosk tests' printer and agent)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module: starting one costs seconds, so tests share it and use separate counters."""
    with ServerProcess(tmp_path_factory.mktemp("server")).running() as proc:
        yield proc


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launched per module (≈ 0.4 s) so Playwright's event loop does not outlive the browser tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"!!! {CHROMIUM} is missing (run scripts/install-system-deps.sh test) — browser tests SKIPPED !!!")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    """A fresh browser profile (cookies, localStorage) set to Vietnamese, as an office's PC would be."""
    context = browser.new_context(base_url=server.url, locale="vi-VN", viewport={"width": 1366, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


class PublicApi:
    """The parts of the HTTP API that need no sign-in, called the way a kiosk or a board would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def issue(self, service: str, priority: str | None = None) -> dict:
        status, ticket = self._call("POST", "/api/v1/tickets", {"service": service, "priority": priority})
        assert status == 201, ticket
        return ticket

    def ticket(self, ticket_id: int) -> dict:
        status, ticket = self._call("GET", f"/api/v1/tickets/{ticket_id}")
        assert status == 200, ticket
        return ticket

    def counter(self, number: int) -> dict:
        """A counter as the hall board sees it (state, pause reason, current number)."""
        status, state = self._call("GET", "/api/v1/display/state")
        assert status == 200, state
        return next(c for c in state["counters"] if c["number"] == number)


@pytest.fixture
def public(server: ServerProcess) -> PublicApi:
    return PublicApi(server.url)

