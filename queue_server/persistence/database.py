"""The database handle: engine setup per backend and the two kinds of transaction."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

_AFTER_COMMIT = "motcua.after_commit"
_IDLE_SINCE = "motcua.idle_since"
IDLE_PING_S = 10.0   # a pooled connection idle longer than this is pinged before use


class Database:
    """Owns the engine. `write()` takes the database's write lock up front.

    On SQLite, `BEGIN IMMEDIATE` makes the whole write transaction exclusive among
    writers, so numbering and call-next are atomic without any lock in this process.
    On PostgreSQL the services use row locks (`FOR UPDATE`, `SKIP LOCKED`), and every write of an
    office ends on its row (the event sequence): at most `writers` write transactions of this
    process run at once, the rest wait here. Without that gate, 64 concurrent ticket requests
    queued on that row inside PostgreSQL, which spent up to 5 ms of CPU per ticket instead of 1.4:
    one process issued 281 tickets/s with p99 971 ms at 64 connections, against 391/s and 197 ms
    with it (bench/issue_tickets.py --database postgres).
    """

    def __init__(self, url: str, echo: bool = False, pool_size: int = 16, max_overflow: int = 64,
                 writers: int = 4, idle_ping_s: float = IDLE_PING_S) -> None:
        self.url = sa.make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        kwargs: dict = {"echo": echo, "future": True}
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(connect_args={"check_same_thread": False, "timeout": 30},
                          pool_size=pool_size, max_overflow=max_overflow)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
        self.engine: Engine = sa.create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            _ping_when_idle(self.engine, idle_ping_s)
        self._writers = threading.BoundedSemaphore(writers) if self.is_postgres and writers > 0 else None
        self._local = threading.local()     # per greenlet under gevent

    @contextmanager
    def _turn_to_write(self) -> Iterator[None]:
        """A write inside another write of the same thread or greenlet does not wait for a second turn."""
        if self._writers is None or getattr(self._local, "writing", False):
            yield
            return
        with self._writers:
            self._local.writing = True
            try:
                yield
            finally:
                self._local.writing = False

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._turn_to_write(), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(sqlite_begin="IMMEDIATE")
            try:
                with conn.begin():
                    yield conn
            except BaseException:
                conn.info.pop(_AFTER_COMMIT, None)
                raise
            for callback in conn.info.pop(_AFTER_COMMIT, []):
                callback()

    @staticmethod
    def after_commit(conn: Connection, callback: Callable[[], None]) -> None:
        """Runs `callback` once the write transaction of `conn` has committed (never if it rolls back)."""
        conn.info.setdefault(_AFTER_COMMIT, []).append(callback)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def for_update(self, stmt: sa.Select, skip_locked: bool = False) -> sa.Select:
        """Row locks where the backend has them; SQLite's write lock already covers it."""
        if self.is_sqlite:
            return stmt
        return stmt.with_for_update(skip_locked=skip_locked)

    def dispose(self) -> None:
        self.engine.dispose()


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Pings a pooled connection before use only if it sat idle for over `idle_s` seconds.

    A connection that sat through a PostgreSQL restart (or an idle timeout on the way) is found dead
    here and the pool replaced, so the request that takes it does not fail. A connection in steady use
    is not pinged: under load that saved one round trip of nine on every ticket. One that dies while in
    use fails its request with 503 (errors.py), and SQLAlchemy then drops every older connection.
    """
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.InvalidatePoolError(f"idle connection found dead: {exc}") from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (the WAL is in the OS cache);
        # only a power cut could lose the last commits. FULL is available via URL query.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
