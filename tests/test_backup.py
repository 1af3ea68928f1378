"""`motcua backup` / `motcua restore` (queue_server/backup.py) on real SQLite files and real PostgreSQL.

The central promise: a backup taken while kiosks keep issuing tickets is one consistent moment of the
database (numbers 1..n, the sequence at n), and restores to exactly that.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from queue_server import backup as backups
from queue_server.backup import BackupError
from queue_server.domain.clock import ManualClock
from queue_server.persistence import schema
from queue_server.persistence.database import Database
from queue_server.persistence.tables import daily_sequences, offices, tickets
from queue_server.services.bus import EventBus
from queue_server.services.tickets import IssueRequest, TicketService
from tests.conftest import PG_ADMIN_URL, postgres_available
from tests.factories import make_office


class Issuer:
    """A kiosk issuing tickets as fast as it can on its own thread, until stopped."""

    def __init__(self, url: str, clock: ManualClock, office_id: int) -> None:
        self.db = Database(url)
        self.service = TicketService(self.db, clock, EventBus())
        self.office_id = office_id
        self.issued = 0
        self.progress = threading.Condition()
        self.stopping = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.service.issue(IssueRequest("S1", self.office_id))
                with self.progress:
                    self.issued += 1
                    self.progress.notify_all()
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self.failure = exc

    def __enter__(self) -> Issuer:
        self.thread.start()
        return self

    def wait_for(self, count: int, timeout: float = 30) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: self.issued >= count or self.failure, timeout), self.issued

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(30)
        self.db.dispose()
        assert self.failure is None, self.failure


def ticket_numbers(url: str) -> list[str]:
    db = Database(url)
    try:
        with db.read() as conn:
            return list(conn.execute(sa.select(tickets.c.number).order_by(tickets.c.id)).scalars())
    finally:
        db.dispose()


def assert_one_moment(url: str) -> int:
    """Tickets A001..Annn with no gap, and the day's sequence exactly at nnn: nothing torn."""
    numbers = ticket_numbers(url)
    assert numbers == [f"A{i:03d}" for i in range(1, len(numbers) + 1)]
    db = Database(url)
    try:
        with db.read() as conn:
            assert conn.execute(sa.select(sa.func.max(daily_sequences.c.last_seq))).scalar() == len(numbers)
    finally:
        db.dispose()
    return len(numbers)


def sqlite_url_at(path: Path) -> str:
    return f"sqlite:///{path}"


# --- SQLite -----------------------------------------------------------------------------------------

def test_backup_of_a_live_database_is_one_moment_and_restores_exactly(
        sqlite_url: str, clock: ManualClock, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    office_id = make_office(db)
    db.dispose()
    with Issuer(sqlite_url, clock, office_id) as kiosk:
        kiosk.wait_for(20)
        info = backups.backup(sqlite_url, tmp_path / "hall.db")
        before_stop = kiosk.issued
        kiosk.wait_for(before_stop + 20)        # the kiosk went on issuing during and after the backup
    backed_up = info.counts["tickets"]
    assert 20 <= backed_up < kiosk.issued
    assert info.kind == "sqlite" and info.schema_revision == schema.head_revision()
    assert assert_one_moment(sqlite_url_at(info.path)) == backed_up
    # one self-contained file (no -wal beside it), not readable by every user, with its manifest
    assert not (tmp_path / "hall.db-wal").exists()
    assert info.path.stat().st_mode & 0o777 == 0o640
    manifest = json.loads((tmp_path / "hall.db.json").read_text())
    assert manifest["format"] == "motcua-backup/1" and manifest["counts"]["tickets"] == backed_up
    assert manifest["schema_revision"] == info.schema_revision and manifest["file"] == "hall.db"

    restored_url = sqlite_url_at(tmp_path / "restored" / "motcua.db")
    result = backups.restore(restored_url, info.path)
    assert result.counts == info.counts
    assert ticket_numbers(restored_url) == ticket_numbers(sqlite_url_at(info.path))
    restored = Database(restored_url)
    try:
        assert schema.is_up_to_date(restored)
        with restored.read() as conn:           # in WAL mode, as the server runs it
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        restored.dispose()


def test_backups_into_a_folder_are_dated_and_pruned(sqlite_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not ours: never pruned")
    made = [backups.backup(sqlite_url, folder, keep=2).path for _ in range(3)]
    assert all(backups.BACKUP_NAME.match(p.name) for p in made)
    assert len(set(made)) == 3                     # the same second gets -1, -2
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([made[1].name, made[1].name + ".json", made[2].name, made[2].name + ".json", "notes.txt"])


def test_restore_refuses_a_database_with_data_unless_forced(demo_db: Database, sqlite_url: str,
                                                          tmp_path: Path) -> None:
    backup = backups.backup(sqlite_url, tmp_path / "empty-office.db").path   # migrated, no office
    target = str(demo_db.url)
    demo_db.dispose()
    with pytest.raises(BackupError, match=r"already holds data .*--force"):
        backups.restore(target, backup)
    assert demo_office_count(target) == 1                                      # untouched

    backups.restore(target, backup, force=True)
    assert demo_office_count(target) == 0
    kept = list(Path(sa.make_url(target).database).parent.glob("demo.db.before-restore-*"))
    assert len(kept) == 1 and demo_office_count(sqlite_url_at(kept[0])) == 1   # the replaced one, whole


def demo_office_count(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(offices)).scalar_one()
    finally:
        db.dispose()


def test_restore_refuses_while_the_server_has_the_database_open(demo_db: Database, sqlite_url: str,
                                                               tmp_path: Path) -> None:
    backup = backups.backup(str(demo_db.url), tmp_path / "demo-backup.db").path
    server = Database(sqlite_url)                 # a running server keeps its connections open
    try:
        with server.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        with pytest.raises(BackupError, match="in use; stop the server first"):
            backups.restore(sqlite_url, backup, force=True)
    finally:
        server.dispose()
    assert demo_office_count(sqlite_url) == 0     # untouched
    backups.restore(sqlite_url, backup, force=True)
    assert demo_office_count(sqlite_url) == 1


def test_an_older_backup_restores_and_upgrades(tmp_path: Path) -> None:
    old = Database(sqlite_url_at(tmp_path / "old.db"))
    schema.upgrade(old, "0003")
    old.dispose()
    info = backups.backup(str(old.url), tmp_path / "old-backup.db")
    assert info.schema_revision == "0003"
    target = sqlite_url_at(tmp_path / "new.db")
    backups.restore(target, info.path)
    db = Database(target)
    try:
        assert schema.current_revision(db) == "0003"
        schema.upgrade(db)                         # what motcua-server.service's ExecStartPre does
        assert schema.is_up_to_date(db)
    finally:
        db.dispose()


def corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)     # keep the header, wreck every page after the first
    path.write_bytes(bytes(data))


def no_alembic(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE alembic_version")


def from_the_future(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")


@pytest.mark.parametrize(("spoil", "message"), [
    (lambda p: p.unlink(), "no backup file at"),
    (lambda p: p.write_bytes(b"hello, not a backup" * 100), "is not a Một Cửa backup"),
    (lambda p: p.write_bytes(b"PGDMP" + b"\0" * 100), "is a PostgreSQL backup but DATABASE_URL points at SQLite"),
    (corrupt, "is damaged"),
    (no_alembic, "not a Một Cửa database backup"),
    (from_the_future, r"schema 9999, which this version of Một Cửa does not know .* Upgrade the code first"),
], ids=["missing", "not-a-backup", "wrong-kind", "corrupt", "no-schema", "newer-schema"])
def test_restore_refuses_what_is_not_a_usable_backup(demo_db: Database, sqlite_url: str, tmp_path: Path,
                                                    spoil, message: str) -> None:  # noqa: ANN001
    backup = backups.backup(str(demo_db.url), tmp_path / "b.db").path
    (tmp_path / "b.db.json").unlink()
    spoil(backup)
    target = sqlite_url_at(tmp_path / "fresh" / "motcua.db")
    with pytest.raises(BackupError, match=message):
        backups.restore(target, backup, force=True)
    assert not (tmp_path / "fresh" / "motcua.db").exists()


def test_backup_refuses_with_a_readable_reason(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="there is no database at"):
        backups.backup(sqlite_url_at(tmp_path / "nothing-here.db"), tmp_path / "b.db")
    assert not (tmp_path / "nothing-here.db").exists()            # looking did not create it
    with pytest.raises(BackupError, match="does not exist"):
        backups.backup(sqlite_url, tmp_path / "no-such-folder" / "b.db")
    with pytest.raises(BackupError, match="needs a folder"):
        backups.backup(sqlite_url, tmp_path / "b.db", keep=3)
    with pytest.raises(BackupError, match="in-memory"):
        backups.backup("sqlite://", tmp_path / "b.db")
    (tmp_path / "text.db").write_text("not a database")
    with pytest.raises(BackupError, match="is not a SQLite database"):
        backups.backup(sqlite_url_at(tmp_path / "text.db"), tmp_path / "b.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motcua.db", "text.db"]   # no half-written file


def test_a_restore_whose_result_differs_from_the_manifest_is_reported(demo_db: Database, tmp_path: Path) -> None:
    backup = backups.backup(str(demo_db.url), tmp_path / "b.db").path
    manifest = json.loads((tmp_path / "b.db.json").read_text())
    manifest["counts"]["tickets"] += 1
    (tmp_path / "b.db.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="does not match b.db.json"):
        backups.restore(sqlite_url_at(tmp_path / "r.db"), backup)


# --- PostgreSQL -------------------------------------------------------------------------------------

@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A second, empty PostgreSQL database (no schema at all), dropped afterwards."""
    if not postgres_available():
        pytest.skip("!!! PostgreSQL is not reachable on 127.0.0.1:5432 — PostgreSQL backup tests SKIPPED !!!")
    name = f"motcua_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_tools() -> None:
    missing = [t for t in ("pg_dump", "pg_restore", "psql") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"!!! {', '.join(missing)} not installed (Debian: postgresql-client) — PostgreSQL backup "
                    "tests SKIPPED !!!")


@pytest.mark.postgres
def test_postgres_round_trip_while_tickets_are_issued(postgres_url: str, empty_postgres_url: str, pg_tools: None,
                                                     clock: ManualClock, tmp_path: Path) -> None:
    db = Database(postgres_url)
    office_id = make_office(db)
    db.dispose()
    with Issuer(postgres_url, clock, office_id) as kiosk:
        kiosk.wait_for(10)
        info = backups.backup(postgres_url, tmp_path)
        kiosk.wait_for(kiosk.issued + 10)
    assert info.path.name.endswith(".dump") and info.path.read_bytes()[:5] == b"PGDMP"
    assert info.kind == "postgresql" and 10 <= info.counts["tickets"] < kiosk.issued

    # restored into an empty database: exactly the dumped moment (the manifest is compared too)
    restored = backups.restore(empty_postgres_url, info.path)
    assert restored.counts == info.counts
    assert assert_one_moment(empty_postgres_url) == info.counts["tickets"]
    target = Database(empty_postgres_url)
    assert schema.is_up_to_date(target)
    target.dispose()

    with pytest.raises(BackupError, match="already holds data"):
        backups.restore(empty_postgres_url, info.path)
    sqlite_backup = tmp_path / "x.db"
    sqlite_backup.write_bytes(b"SQLite format 3\x00" + b"\0" * 100)
    with pytest.raises(BackupError, match="is a SQLite backup but DATABASE_URL points at PostgreSQL"):
        backups.restore(empty_postgres_url, sqlite_backup, force=True)


@pytest.mark.postgres
def test_postgres_forced_restore_replaces_everything_in_one_transaction(
        postgres_url: str, empty_postgres_url: str, pg_tools: None, tmp_path: Path) -> None:
    source = Database(postgres_url)
    make_office(source, "source")
    source.dispose()
    info = backups.backup(postgres_url, tmp_path / "source.dump")

    target = Database(empty_postgres_url)
    schema.upgrade(target)
    make_office(target, "other")
    with target.write() as conn:                  # a table of a newer schema, which the backup does not name
        conn.exec_driver_sql("CREATE TABLE from_a_newer_version (id integer)")
    target.dispose()
    backups.restore(empty_postgres_url, info.path, force=True)
    target = Database(empty_postgres_url)
    try:
        with target.read() as conn:
            assert list(conn.execute(sa.select(offices.c.code)).scalars()) == ["source"]
            assert not sa.inspect(conn).has_table("from_a_newer_version")
    finally:
        target.dispose()

    # a dump that breaks off (early, or late while its data streams in) changes nothing
    target = Database(empty_postgres_url)
    make_office(target, "added-since")
    target.dispose()
    whole = info.path.read_bytes()
    for cut in (len(whole) // 3, len(whole) - 200):
        broken = tmp_path / f"broken-{cut}.dump"
        broken.write_bytes(whole[:cut])
        with pytest.raises(BackupError, match="the database is unchanged"):
            backups.restore(empty_postgres_url, broken, force=True)
        target = Database(empty_postgres_url)
        try:
            with target.read() as conn:
                assert sorted(conn.execute(sa.select(offices.c.code)).scalars()) == ["added-since", "source"]
        finally:
            target.dispose()
