"""Shared fixtures: a migrated database per test (SQLite file, or PostgreSQL), the app, clients."""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from queue_server import create_app
from queue_server.domain.clock import ManualClock
from queue_server.persistence import schema
from queue_server.persistence.database import Database
from queue_server.services.auth import AuthService
from queue_server.services.demo import DEMO_PASSWORD, load_demo

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: migrations run once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """The demo office loaded once (password hashing is deliberately slow), copied per test."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    load_demo(db, AuthService(db, ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=VN))))
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "motcua.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not postgres_available():
        pytest.skip("!!! PostgreSQL is not reachable on 127.0.0.1:5432 — PostgreSQL tests SKIPPED !!!")
    name = f"motcua_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    db = Database(url)
    schema.upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Runs a test on both backends."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def clock() -> ManualClock:
    """09:00 on Monday 2026-11-23 in Hà Nội time."""
    return ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=VN))


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def demo_db(tmp_path: Path, demo_template: Path) -> Iterator[Database]:
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def app(demo_db: Database, clock: ManualClock, tmp_path: Path):  # noqa: ANN201
    app = create_app({"DATABASE_URL": str(demo_db.url), "TESTING": True, "BACKGROUND_TASKS": False,
                      "SECRET_KEY": "test", "VAR_DIR": str(tmp_path), "ASYNC_MODE": "threading"}, clock=clock)
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


class ApiAuth:
    """Bearer tokens for the demo users, fetched through the API itself."""

    def __init__(self, client) -> None:  # noqa: ANN001
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = self.client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.json
            self._tokens[username] = r.json["token"]
        return self._tokens[username]

    def headers(self, username: str) -> dict:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def service_settings(self, code: str) -> dict:
        """A service's settings as PUT /api/v1/admin/services/<code> takes them, read through the API."""
        listed = self.client.get("/api/v1/admin/services", headers=self.headers("admin")).json["services"]
        service = next(s for s in listed if s["code"] == code)
        return {k: service[k] for k in ("name_vi", "name_en", "numbering", "prefix", "block", "digits",
                                        "daily_limit", "opening_hours", "active", "avg_service_s")}


@pytest.fixture
def api(client) -> ApiAuth:  # noqa: ANN001
    return ApiAuth(client)
