"""Configuration from the environment, with defaults. Nothing else reads os.environ."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _var_dir() -> Path:
    return Path(os.environ.get("MOTCUA_VAR", ROOT / "var")).resolve()


def _secret_key(var: Path) -> str:
    """A stable key for sessions: from SECRET_KEY, else generated once and kept under var/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = var / "secret_key"
    if not path.exists():
        var.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment() -> dict:
    var = _var_dir()
    return {
        "VAR_DIR": str(var),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{var / 'motcua.db'}"),
        "SECRET_KEY": _secret_key(var),
        "ASYNC_MODE": os.environ.get("MOTCUA_ASYNC_MODE", "threading"),
        "MESSAGE_QUEUE_URL": os.environ.get("MESSAGE_QUEUE_URL") or None,
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or None,
        "USER_TOKEN_TTL_S": int(os.environ.get("USER_TOKEN_TTL_S", 12 * 3600)),
        "BACKGROUND_TASKS": os.environ.get("MOTCUA_BACKGROUND_TASKS", "1") == "1",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }


DEFAULTS = {
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "WTF_CSRF_CHECK_DEFAULT": False,   # checked explicitly for cookie-authenticated requests
    "WTF_CSRF_TIME_LIMIT": None,       # a console stays open all day; the token lives with the session
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "JSON_SORT_KEYS": False,
}


def server_settings() -> dict:
    """Where `motcua serve` listens (HOST/PORT)."""
    return {"host": os.environ.get("HOST", "127.0.0.1"), "port": int(os.environ.get("PORT", "5000"))}
