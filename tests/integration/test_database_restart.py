"""PostgreSQL restarted under a running server: requests fail with 503 while it is down, nothing is
half-issued, and the server recovers by itself once it is back. A private PostgreSQL cluster of this
test alone (initdb in a temp dir), so stopping it disturbs nobody."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from queue_server.persistence import schema
from queue_server.persistence.database import Database
from tests.server_process import ServerProcess, free_port

BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None) if Path("/usr/lib/postgresql").exists() \
    else None


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.data = root / "pgdata"
        self.port = free_port()
        self.sockets = root

    def _run(self, *args: str) -> None:
        command = [str(BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:        # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> PrivatePostgres:
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.data / "log"), "start", "-o",
                  f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    if BIN is None or not (BIN / "initdb").exists():
        pytest.skip("!!! PostgreSQL server binaries are missing — database restart test SKIPPED !!!")
    root = Path(f"/tmp/motcua-pg-{os.getpid()}-{time.monotonic_ns()}")
    pg = PrivatePostgres(root).init()
    pg.start()
    try:
        yield pg
    finally:
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(root, ignore_errors=True)


def issue(server: ServerProcess) -> tuple[int, dict]:
    request = urllib.request.Request(server.url + "/api/v1/tickets", data=json.dumps({"service": "HOTICH"}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_requests_fail_with_503_while_postgres_is_down_and_recover(postgres: PrivatePostgres, tmp_path: Path) -> None:
    admin = sa.create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE motcua")
    admin.dispose()
    db = Database(postgres.url("motcua"))
    schema.upgrade(db)
    db.dispose()
    server = ServerProcess(tmp_path / "var", database_url=postgres.url("motcua"))
    server.var_dir.mkdir()
    server.prepare_demo()
    server.start()
    try:
        assert issue(server)[0] == 201
        postgres.stop()
        status, body = issue(server)
        assert status == 503 and body["error"]["code"] == "database_unavailable"
        assert "thử lại" in body["error"]["message_vi"]
        postgres.start()
        deadline = time.monotonic() + 20
        while (answer := issue(server))[0] != 201:        # the pool drops dead connections and reconnects
            assert answer[0] == 503 and time.monotonic() < deadline, answer
            time.sleep(0.2)
        assert answer[1]["number"] == "A002"               # the failed attempt used no number
    finally:
        server.stop()
    db = Database(postgres.url("motcua"))
    with db.read() as conn:
        rows = conn.execute(sa.text("SELECT number FROM tickets ORDER BY id")).scalars().all()
    db.dispose()
    assert rows == ["A001", "A002"]                        # nothing half-issued
