"""Log lines as JSON objects (LOG_FORMAT=json), and a wrong LOG_FORMAT refused at start."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from queue_server import create_app
from queue_server.logs import JsonLines
from queue_server.startup import StartupError
from tests.server_process import ServerProcess

ROOT = Path(__file__).resolve().parents[1]


def test_a_record_becomes_one_json_object_with_its_fields() -> None:
    try:
        raise RuntimeError("máy in hết giấy")
    except RuntimeError:
        record = logging.LogRecord("motcua.printing", logging.WARNING, __file__, 1, "kiosk %s: %s",
                                   ("kiosk-1", "hết giấy"), sys.exc_info())
    record.office = 3
    record.device = "kiosk-1"
    line = JsonLines().format(record)
    assert "\n" not in line                                          # one line, the traceback inside it
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "motcua.printing"
    assert entry["msg"] == "kiosk kiosk-1: hết giấy"                  # Vietnamese kept as it is
    assert entry["office"] == 3 and entry["device"] == "kiosk-1"
    assert "RuntimeError: máy in hết giấy" in entry["exc"]
    assert entry["ts"].endswith("+00:00")


def test_a_wrong_log_format_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="LOG_FORMAT is 'jsn'"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "LOG_FORMAT": "jsn", "VAR_DIR": str(tmp_path)})
    done = subprocess.run([sys.executable, "-m", "queue_server", "serve"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "MOTCUA_VAR": str(tmp_path), "LOG_FORMAT": "jsn"}, timeout=60)
    assert done.returncode != 0 and "LOG_FORMAT is 'jsn': it must be one of text, json" in done.stderr


def test_the_server_writes_json_lines(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, extra_env={"LOG_FORMAT": "json"})
    server.prepare_demo()
    server.start()
    try:
        deadline = time.monotonic() + 20
        entries: list[dict] = []
        while time.monotonic() < deadline and not any(e.get("logger") == "motcua.sweeper" for e in entries):
            time.sleep(0.2)
            lines = (tmp_path / f"server-{server.port}.log").read_text().splitlines()
            entries = [json.loads(line) for line in lines if line.startswith("{")]
    finally:
        server.stop()
    sweeper = next(e for e in entries if e.get("logger") == "motcua.sweeper")
    assert sweeper["level"] == "INFO" and "report tallies" in sweeper["msg"] and isinstance(sweeper["pid"], int)
    assert sweeper["office"] == 1                                    # the office it concerns, as a field
