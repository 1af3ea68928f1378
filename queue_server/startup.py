"""Checks before serving: a wrong DATABASE_URL or an unreachable Redis stops the start with one clear line.

Used by `motcua serve` before gunicorn starts (so the admin reads the reason, not a worker's traceback)
and by the application factory itself.
"""
from __future__ import annotations

import sqlalchemy as sa

from .persistence import schema
from .persistence.database import Database


class StartupError(RuntimeError):
    """Why the server cannot start, in words an admin can act on."""


def open_database(url: str) -> Database:
    try:
        db = Database(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError) as exc:
        raise StartupError(f"DATABASE_URL is not a database address this server understands ({url!r}): {exc}. "
                           "Examples: sqlite:////var/lib/motcua/motcua.db, "
                           "postgresql+psycopg://motcua@127.0.0.1:5432/motcua") from exc
    shown = db.url.render_as_string(hide_password=True)
    try:
        up_to_date = schema.is_up_to_date(db)
    except sa.exc.OperationalError as exc:
        db.dispose()
        reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0].rstrip(".")
        raise StartupError(f"Cannot reach the database at {shown}: {reason}. Check DATABASE_URL and that the "
                           "database server is running.") from exc
    if not up_to_date:
        current, head = schema.current_revision(db), schema.head_revision()
        db.dispose()
        raise StartupError(f"The database at {shown} is not at the current schema (have {current}, need {head}). "
                           "Run `motcua db upgrade`.")
    return db


def check_message_queue(url: str | None, timeout_s: float = 3.0) -> None:
    """Several server processes share live events through Redis: it must answer before we serve."""
    if not url:
        return
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        client.ping()
        client.close()
    except ValueError as exc:
        raise StartupError(f"MESSAGE_QUEUE_URL is not a Redis address ({url!r}): {exc}. "
                           "Example: redis://127.0.0.1:6379/0") from exc
    except redis.exceptions.RedisError as exc:
        reason = str(exc).rstrip(".")
        raise StartupError(f"Cannot reach Redis at {url} (MESSAGE_QUEUE_URL): {reason}. Start Redis, or unset "
                           "MESSAGE_QUEUE_URL to run a single server process.") from exc
