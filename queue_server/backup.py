"""Backing up and restoring the database: `motcua backup` and `motcua restore`.

SQLite goes through its online backup API, never a file copy: the server keeps writing in WAL mode, and
a copy of the main file misses the commits still in the -wal file or catches a page half written. One
backup step reads a single consistent snapshot while writers go on. PostgreSQL goes through its own
tools (`pg_dump --format=custom`, `pg_restore`), run inside an exported snapshot so the row counts in
the manifest describe exactly what was dumped.

Each backup is one file (`.db` or `.dump`) written under a temporary name and renamed when complete,
with a JSON manifest beside it (`<file>.json`: kind, schema revision, time, row counts). A restore reads
the schema revision from the backup itself, so a backup without its manifest still restores.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from .persistence import schema
from .persistence.database import Database

MANIFEST_FORMAT = "motcua-backup/1"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
SUFFIX = {"sqlite": ".db", "postgresql": ".dump"}
BACKUP_NAME = re.compile(r"^motcua-\d{8}T\d{6}Z(-\d+)?\.(db|dump)$")
# Tables that say nothing about whether a database holds an office's data.
BOOKKEEPING = {"alembic_version"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead, in words an admin can act on."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str                      # "sqlite" or "postgresql"
    schema_revision: str | None
    created_at: str                # ISO 8601, UTC
    counts: dict[str, int] = field(default_factory=dict)

    def manifest(self) -> dict:
        return {"format": MANIFEST_FORMAT, "file": self.path.name, "kind": self.kind,
                "schema_revision": self.schema_revision, "created_at": self.created_at, "counts": self.counts}

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def manifest_path(backup_path: Path) -> Path:
    return backup_path.with_name(backup_path.name + ".json")


# --- backing up -----------------------------------------------------------------------------------

def backup(database_url: str, dest: str | Path, keep: int | None = None) -> BackupInfo:
    """Write a consistent backup of the database while the server keeps running.

    dest is a file, or an existing folder: then the file is motcua-<UTC time>.db|.dump in it, and with
    `keep` only the newest `keep` backups of that folder are kept.
    """
    dest = Path(dest)
    if keep is not None and keep < 1:
        raise BackupError("keep at least one backup")
    db = _database(database_url)
    try:
        if dest.is_dir():
            dest = _dated_name(dest, "sqlite" if db.is_sqlite else "postgresql")
        elif keep is not None:
            raise BackupError(f"keeping the newest {keep} needs a folder, and {dest} is not one")
        if not dest.parent.is_dir():
            raise BackupError(f"folder {dest.parent} does not exist; create it (owned by the server's user) first")
        if not os.access(dest.parent, os.W_OK | os.X_OK):
            raise BackupError(f"cannot write into {dest.parent} as this user (uid {os.getuid()})")
        tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
        try:
            kind, revision, counts = _backup_sqlite(db, tmp) if db.is_sqlite else _backup_postgres(db, tmp)
            os.chmod(tmp, 0o640)      # personal data: not for every user of the machine
            _fsync(tmp)
            os.replace(tmp, dest)
            _fsync(dest.parent)
        finally:
            tmp.unlink(missing_ok=True)
        info = BackupInfo(dest, kind, revision, _now(), counts)
        _write_manifest(info)
        if keep is not None:
            prune(dest.parent, keep)
        return info
    finally:
        db.dispose()


def _dated_name(folder: Path, kind: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest, n = folder / f"motcua-{stamp}{SUFFIX[kind]}", 0
    while dest.exists():
        n += 1
        dest = folder / f"motcua-{stamp}-{n}{SUFFIX[kind]}"
    return dest


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` backups this module named (and their manifests)."""
    ours = sorted((p for p in directory.iterdir() if BACKUP_NAME.match(p.name)), key=_backup_sort_key)
    removed = ours[:-keep]
    for path in removed:
        path.unlink(missing_ok=True)
        manifest_path(path).unlink(missing_ok=True)
    return removed


def _backup_sort_key(path: Path) -> tuple[str, int]:
    stem = path.name.split(".")[0]
    stamp, _, n = stem.removeprefix("motcua-").partition("-")
    return stamp, int(n or 0)


def _backup_sqlite(db: Database, tmp: Path) -> tuple[str, str | None, dict[str, int]]:
    source = _sqlite_path(db)
    if not source.exists():
        raise BackupError(f"there is no database at {source}; nothing to back up")
    _require_sqlite_file(source)
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(tmp)) as dst:
        # One step (pages=-1) reads one snapshot; in WAL mode the server's writers are not blocked.
        # A stepped backup would restart on every write and might never finish in a busy hall.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")     # one self-contained file, no -wal beside it
        _check_sqlite(dst, tmp)
        revision, counts = _sqlite_contents(dst)
    return "sqlite", revision, counts


def _backup_postgres(db: Database, tmp: Path) -> tuple[str, str | None, dict[str, int]]:
    pg_dump = _tool("pg_dump")
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump joins this transaction's snapshot: the counts below are those of the dump.
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            revision = _revision(conn)
            counts = _counts(conn)
            _run([pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={tmp}",
                  f"--dbname={_libpq_uri(db)}"], db, "pg_dump")
    return "postgresql", revision, counts


# --- restoring ------------------------------------------------------------------------------------

def restore(database_url: str, src_path: str | Path, force: bool = False) -> BackupInfo:
    """Replace the database with a backup. Refuses a database that holds data unless force.

    The backup's schema may be older than this code's (run `motcua db upgrade` afterwards), never newer.
    """
    src = Path(src_path)
    if not src.is_file():
        raise BackupError(f"no backup file at {src}")
    kind = backup_kind(src)
    db = _database(database_url)
    try:
        target_kind = "sqlite" if db.is_sqlite else "postgresql"
        if kind != target_kind:
            wanted, have = _KIND_NAME[kind], _KIND_NAME[target_kind]
            raise BackupError(f"{src} is a {wanted} backup but DATABASE_URL points at {have} ({_shown(db)}); "
                              f"restore it into a {wanted} database")
        info = _restore_sqlite(db, src, force) if db.is_sqlite else _restore_postgres(db, src, force)
        _compare_with_manifest(info, src)
        return info
    finally:
        db.dispose()


def backup_kind(path: Path) -> str:
    """"sqlite" or "postgresql" from the file's first bytes; anything else is refused."""
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Một Cửa backup (neither a SQLite database nor a pg_dump custom-format file)")


def _restore_sqlite(db: Database, src: Path, force: bool) -> BackupInfo:
    target = _sqlite_path(db)
    with closing(_read_only(src)) as conn:
        _check_sqlite(conn, src)
        revision, counts = _sqlite_contents(conn)
    _check_revision(db, revision, src)
    held = 0
    if target.exists() and target.stat().st_size > 0:
        _require_sqlite_file(target)
        try:
            with closing(sqlite3.connect(target, timeout=1)) as conn:
                held = sum(_sqlite_contents(conn)[1].values())
        except BackupError as exc:
            if not force:
                raise BackupError(f"the database at {target} cannot be read ({exc}); run the restore again with "
                                  "--force to replace it") from exc
            held = 1      # unreadable: keep it aside all the same
        if held and not force:
            raise BackupError(f"the database at {target} already holds data ({held} rows). Stop the server "
                              "(systemctl stop motcua-server) and run the restore again with --force to replace it; "
                              "the current file is kept beside it as *.before-restore-<time>")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    try:
        with closing(_read_only(src)) as s, closing(sqlite3.connect(tmp)) as d:
            s.backup(d, pages=-1)
            d.execute("PRAGMA journal_mode=WAL")     # as the server runs it
            _check_sqlite(d, tmp)
        os.chmod(tmp, 0o640)
        _fsync(tmp)
        if target.exists():
            _set_aside(target, keep=held > 0)
        os.replace(tmp, target)
        _fsync(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupInfo(src, "sqlite", revision, _now(), counts)


def _set_aside(target: Path, keep: bool) -> None:
    """Move the replaced database aside. Leaving WAL mode folds the -wal file in, and needs us alone:
    if the server still has the database open, this is where we find out."""
    try:
        with closing(sqlite3.connect(target, timeout=1)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(f"the database at {target} is in use; stop the server first (systemctl stop "
                              "motcua-server, and every motcua-server@ instance)") from exc
    except sqlite3.DatabaseError:
        pass            # damaged: it goes aside as it is, with its -wal and -shm
    stamp = f".before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    for extra in ("", "-wal", "-shm"):
        path = target.with_name(target.name + extra)
        if not path.exists():
            continue
        if keep:
            os.replace(path, path.with_name(path.name + stamp))
        else:
            path.unlink()


def _restore_postgres(db: Database, src: Path, force: bool) -> BackupInfo:
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    listing = subprocess.run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(src)],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"{src} cannot be read (damaged or cut short?): {listing.stderr.strip()}; "
                          "the database is unchanged")
    revision = _revision_from_copy(listing.stdout)
    _check_revision(db, revision, src)
    try:
        with db.read() as conn:
            present = sorted(sa.inspect(conn).get_table_names())
            held = sum(_counts(conn).values())
            quote = conn.dialect.identifier_preparer.quote
    except sa.exc.OperationalError as exc:
        raise BackupError(f"cannot reach the database at {_shown(db)}: {_first_line(exc)}") from exc
    if held and not force:
        raise BackupError(f"the database at {_shown(db)} already holds data ({held} rows). Stop the servers and run "
                          "the restore again with --force to replace it")
    db.dispose()      # no connection of ours in the way of DROP TABLE
    # One transaction: drop every table there (also those of a newer schema, which the backup does not
    # name and --clean would leave behind), then the backup's script. Any error rolls all of it back.
    drop = f"DROP TABLE IF EXISTS {', '.join(quote(t) for t in present)} CASCADE" if present else "SELECT 1"
    env = _pg_env(db)
    with tempfile.TemporaryFile() as script_errors, tempfile.TemporaryFile() as psql_output:
        script = subprocess.Popen([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                                   "--file=-", str(src)], stdout=subprocess.PIPE, stderr=script_errors, env=env)
        applier = subprocess.Popen([psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
                                    f"--dbname={_libpq_uri(db)}", f"--command={drop}", "--file=-"],
                                   stdin=subprocess.PIPE, stdout=psql_output, stderr=subprocess.STDOUT, env=env)
        try:
            shutil.copyfileobj(script.stdout, applier.stdin, 1 << 16)
            if script.wait() != 0:
                # pg_restore stopped half-way: make psql fail, so that its one transaction rolls back
                # instead of committing the half that arrived.
                applier.stdin.write(b"\n\\.\nDO $$ BEGIN RAISE EXCEPTION 'backup unreadable'; END $$;\n")
        except BrokenPipeError:
            pass        # psql stopped at an error of its own: it rolls back
        finally:
            script.stdout.close()
            script.wait()
            try:
                applier.stdin.close()
            except BrokenPipeError:
                pass
            applier.wait()
        if script.returncode != 0:
            script_errors.seek(0)
            raise BackupError(f"pg_restore could not read {src}: {_text(script_errors)}; the database is unchanged")
        if applier.returncode != 0:
            psql_output.seek(0)
            raise BackupError(f"restoring into {_shown(db)} failed, the database is unchanged: {_text(psql_output)}")
    with db.read() as conn:
        counts = _counts(conn)
    return BackupInfo(src, "postgresql", revision, _now(), counts)


def _revision_from_copy(sql: str) -> str | None:
    """The version row from `pg_restore --data-only --table=alembic_version` output (a COPY block)."""
    lines = sql.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            rows = [row for row in lines[i + 1:] if row != ""]
            return rows[0].split("\t")[0] if rows and rows[0] != "\\." else None
    return None


def _check_revision(db: Database, revision: str | None, src: Path) -> None:
    if revision is None:
        raise BackupError(f"{src} has no schema revision (no alembic_version): not a Một Cửa database backup")
    script = ScriptDirectory.from_config(schema.alembic_config(db))
    if revision not in {r.revision for r in script.walk_revisions()}:
        raise BackupError(f"{src} is at schema {revision}, which this version of Một Cửa does not know (it knows up "
                          f"to {script.get_current_head()}): it was made by a newer version. Upgrade the code first")


def _compare_with_manifest(info: BackupInfo, src: Path) -> None:
    path = manifest_path(src)
    if not path.exists():
        return
    try:
        expected = json.loads(path.read_text(encoding="utf-8")).get("counts") or {}
    except (ValueError, OSError):
        return          # a damaged manifest says nothing; the backup itself was checked
    differ = {t: (n, info.counts.get(t)) for t, n in expected.items() if info.counts.get(t) != n}
    if differ:
        raise BackupError(f"the restored database does not match {path.name}: (expected, found) rows {differ}")


# --- small pieces ---------------------------------------------------------------------------------

_KIND_NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _database(url: str) -> Database:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise BackupError(f"DATABASE_URL is not a database address ({url!r}): {exc}") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups cover SQLite and PostgreSQL, not {backend}")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    try:
        return Database(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError) as exc:
        raise BackupError(f"DATABASE_URL is not a database address ({url!r}): {exc}") from exc


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _sqlite_path(db: Database) -> Path:
    return Path(db.url.database).resolve()


def _require_sqlite_file(path: Path) -> None:
    if _kind_or_none(path) != "sqlite":
        raise BackupError(f"{path} is not a SQLite database")


def _kind_or_none(path: Path) -> str | None:
    try:
        return backup_kind(path)
    except (BackupError, OSError):
        return None


def _check_sqlite(conn: sqlite3.Connection, path: Path) -> None:
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is damaged: {exc}") from exc
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")


def _sqlite_contents(conn: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names if n not in BOOKKEEPING}
        revision = None
        if "alembic_version" in names:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot read the database: {exc}") from exc
    return revision, counts


def _counts(conn: sa.Connection) -> dict[str, int]:
    names = sorted(sa.inspect(conn).get_table_names())
    return {n: conn.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names if n not in BOOKKEEPING}


def _revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed; install PostgreSQL's client tools (Debian: apt install "
                          "postgresql-client; its major version must be at least the server's)")
    return path


def _libpq_uri(db: Database) -> str:
    """The address for pg_dump/pg_restore; the password goes through PGPASSWORD, not the command line."""
    return db.url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _pg_env(db: Database) -> dict[str, str]:
    env = {**os.environ}
    if db.url.password is not None:
        env["PGPASSWORD"] = str(db.url.password)
    return env


def _run(command: list[str], db: Database, name: str) -> str:
    done = subprocess.run(command, env=_pg_env(db), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{name} failed ({_shown(db)}): {done.stderr.strip() or done.returncode}")
    return done.stdout


def _shown(db: Database) -> str:
    return db.url.render_as_string(hide_password=True)


def _text(f: IO[bytes], limit: int = 2000) -> str:
    return f.read(limit).decode(errors="replace").strip()


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _write_manifest(info: BackupInfo) -> None:
    path = manifest_path(info.path)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(json.dumps(info.manifest(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
