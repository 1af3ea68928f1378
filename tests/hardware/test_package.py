"""The hardware package stands alone: the kiosk agent runs it without the server."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=60)


def test_never_imports_the_server_or_flask() -> None:
    done = run("import sys, hardware.printer, hardware.escpos_decode, hardware.transports\n"
               "roots = {m.split('.')[0] for m in sys.modules}\n"
               "bad = sorted(roots & {'queue_server', 'flask', 'flask_socketio'})\n"
               "print(bad)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_escpos_gets_a_lasting_cache_folder(tmp_path: Path) -> None:
    done = run("import os, hardware.escpos_output; print(os.environ['ESCPOS_CAPABILITIES_PICKLE_DIR'])",
               XDG_CACHE_HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder == tmp_path / "motcua" / "escpos"
    assert any(folder.glob("*.capabilities.pickle"))


def test_a_missing_configured_folder_is_created(tmp_path: Path) -> None:
    wanted = tmp_path / "not" / "yet"
    done = run("import hardware.escpos_output", ESCPOS_CAPABILITIES_PICKLE_DIR=str(wanted))
    assert done.returncode == 0, done.stderr
    assert wanted.is_dir()
