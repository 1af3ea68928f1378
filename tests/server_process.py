"""A real server process for tests that need one: gunicorn + gevent on a free port, own var/ dir."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def motcua(args: list[str], env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "queue_server", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"motcua {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class ServerProcess:
    var_dir: Path
    port: int = field(default_factory=free_port)
    database_url: str | None = None
    extra_env: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict:
        env = {**os.environ, "MOTCUA_VAR": str(self.var_dir), "HOST": "127.0.0.1", "PORT": str(self.port),
               "SECRET_KEY": "test-secret-key", **self.extra_env}
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def prepare_demo(self) -> None:
        motcua(["demo"], self.env)

    def device_token(self, kind: str, code: str) -> str:
        return motcua(["device-token", kind, code], self.env).strip().splitlines()[-1]

    def start(self, timeout: float = 30) -> ServerProcess:
        from queue_server.cli import gunicorn_command
        self.log = open(self.var_dir / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(gunicorn_command("127.0.0.1", self.port), env=self.env, cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + (self.var_dir / f"server-{self.port}.log").read_text())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy in time")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kills the whole process group (master and worker), as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=15)
        if getattr(self, "log", None):
            self.log.close()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    @contextmanager
    def running(self) -> Iterator[ServerProcess]:
        """The demo office loaded and the server started; stopped (its log closed) afterwards."""
        self.prepare_demo()
        self.start()
        try:
            yield self
        finally:
            self.stop()
