"""A pooled PostgreSQL connection is pinged before use only after sitting idle: one that died while idle
is replaced without failing the request; one in steady use is not pinged, so its death fails one
request (503 at the web layer) and the pool is renewed for the next."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from queue_server.persistence.database import Database
from tests.conftest import PG_ADMIN_URL

BACKEND_PID = sa.text("SELECT pg_backend_pid()")


def terminate(pid: int) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
        while conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar():
            time.sleep(0.01)
    admin.dispose()


def pool_of_one(url: str, idle_ping_s: float) -> Database:
    return Database(url, pool_size=1, max_overflow=0, idle_ping_s=idle_ping_s)


def backend(db: Database) -> int:
    """The PostgreSQL backend that serves the pool's connection now."""
    with db.read() as conn:
        return conn.execute(BACKEND_PID).scalar_one()


def test_a_connection_that_died_while_idle_is_replaced_before_use(postgres_url: str) -> None:
    db = pool_of_one(postgres_url, idle_ping_s=0.2)
    try:
        first = backend(db)
        terminate(first)
        time.sleep(0.3)
        assert backend(db) != first
    finally:
        db.dispose()


def test_a_connection_in_steady_use_is_not_pinged_and_its_death_fails_one_request(postgres_url: str) -> None:
    db = pool_of_one(postgres_url, idle_ping_s=60)
    try:
        first = backend(db)
        assert backend(db) == first       # not pinged: the same backend answers the statement itself
        terminate(first)
        with pytest.raises(sa.exc.OperationalError):
            backend(db)
        assert backend(db) != first
    finally:
        db.dispose()
