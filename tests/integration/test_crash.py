"""kill -9 of the server while kiosks issue: no acknowledged ticket is lost, numbering goes on."""
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.server_process import ServerProcess


def post_ticket(base: str, service: str) -> dict | None:
    req = urllib.request.Request(base + "/api/v1/tickets", data=json.dumps({"service": service}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read()) if r.status == 201 else None
    except (OSError, urllib.error.URLError):
        return None


def test_killed_server_loses_no_acknowledged_ticket(tmp_path: Path) -> None:
    server = ServerProcess(var_dir=tmp_path)
    server.prepare_demo()
    server.start()
    acknowledged: list[dict] = []
    stop = threading.Event()

    def kiosk(service: str) -> None:
        while not stop.is_set():
            ticket = post_ticket(server.url, service)
            if ticket:
                acknowledged.append(ticket)

    kiosks = [threading.Thread(target=kiosk, args=(s,)) for s in ("HOTICH", "DATDAI", "HOTICH", "BAOTRO")]
    for k in kiosks:
        k.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()                     # SIGKILL to master and worker, mid-traffic
    stop.set()
    for k in kiosks:
        k.join(timeout=10)
    assert len(acknowledged) >= 150

    server.start()                    # same var dir, same database file
    try:
        for ticket in acknowledged:
            with urllib.request.urlopen(f"{server.url}/api/v1/tickets/{ticket['id']}", timeout=5) as r:
                stored = json.loads(r.read())
            assert stored["number"] == ticket["number"] and stored["service"] == ticket["service"]
        per_service: dict[str, set[int]] = {}
        for t in acknowledged:
            per_service.setdefault(t["service"], set()).add(int(t["number"][1:]))
        for service, numbers in per_service.items():
            assert len(numbers) == len([t for t in acknowledged if t["service"] == service])  # no duplicates
            after = post_ticket(server.url, service)
            assert after is not None and int(after["number"][1:]) > max(numbers)
    finally:
        server.stop()
