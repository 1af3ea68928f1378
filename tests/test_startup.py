"""A wrong DATABASE_URL or an unreachable Redis stops the start with one line an admin can act on."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from queue_server.cli import main
from queue_server.startup import StartupError, check_message_queue, open_database


@pytest.mark.parametrize(("url", "words"), [
    ("nonsense://x", "DATABASE_URL is not a database address"),
    ("postgresql+psycopg://postgres@127.0.0.1:1/none", r"Cannot reach the database at postgresql\+psycopg://"),
    ("not a url at all", "DATABASE_URL is not a database address"),
])
def test_a_wrong_database_url_is_named(url: str, words: str) -> None:
    with pytest.raises(StartupError, match=words):
        open_database(url)


def test_a_database_without_the_schema_asks_for_the_upgrade(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"current schema \(have None, need \d+\). Run `motcua db upgrade`"):
        open_database(f"sqlite:///{tmp_path / 'empty.db'}")


def test_a_password_never_appears_in_the_message() -> None:
    with pytest.raises(StartupError) as caught:
        open_database("postgresql+psycopg://motcua:s3cret-pass@127.0.0.1:1/motcua")
    assert "s3cret-pass" not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize(("url", "words"), [
    ("redis://127.0.0.1:1/0", "Cannot reach Redis at redis://127.0.0.1:1/0"),
    ("http://127.0.0.1:6379", "MESSAGE_QUEUE_URL is not a Redis address"),
])
def test_an_unreachable_or_wrong_redis_is_named(url: str, words: str) -> None:
    with pytest.raises(StartupError, match=words):
        check_message_queue(url, timeout_s=1)


def test_the_local_redis_answers_and_no_redis_is_fine() -> None:
    check_message_queue(None)
    try:
        check_message_queue("redis://127.0.0.1:6379/0", timeout_s=1)
    except StartupError as exc:
        pytest.skip(f"!!! Redis is not running on 127.0.0.1:6379 — SKIPPED: {exc}")


def test_serve_prints_the_reason_and_exits_non_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve"], env={
        "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none", "MOTCUA_VAR": str(tmp_path)})
    assert result.exit_code == 1
    assert "Error: Cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:1/none" in result.output
    assert "Traceback" not in result.output


def test_behind_one_proxy_the_client_address_comes_from_x_forwarded_for(tmp_path: Path, demo_db) -> None:  # noqa: ANN001
    from queue_server import create_app
    seen = {}
    for hops in (0, 1):
        app = create_app({"DATABASE_URL": str(demo_db.url), "TESTING": True, "BACKGROUND_TASKS": False,
                          "SECRET_KEY": "t", "VAR_DIR": str(tmp_path), "PROXY_HOPS": hops})

        @app.get("/whoami")
        def whoami() -> dict:
            from flask import request
            return {"address": request.remote_addr}

        seen[hops] = app.test_client().get("/whoami", headers={"X-Forwarded-For": "10.1.2.3"}).json["address"]
        app.extensions["motcua"].db.dispose()
    assert seen == {0: "127.0.0.1", 1: "10.1.2.3"}
