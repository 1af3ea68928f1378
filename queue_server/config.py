"""Configuration from the environment, with defaults. Nothing else reads os.environ."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _var_dir() -> Path:
    return Path(os.environ.get("MOTCUA_VAR", ROOT / "var")).resolve()


def _secret_key(var: Path, name: str = "SECRET_KEY") -> str:
    """A stable key from the environment, else generated once and kept under var/ (mode 600)."""
    if os.environ.get(name):
        return os.environ[name]
    path = var / name.lower()
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
        # Keys the hashes of owners' ID numbers; separate from SECRET_KEY so sessions can be reset alone.
        "ID_HASH_KEY": _secret_key(var, "ID_HASH_KEY"),
        "LOOKUPS_PER_MINUTE_ADDRESS": int(os.environ.get("LOOKUPS_PER_MINUTE_ADDRESS", "30")),
        "LOOKUPS_PER_MINUTE_KIOSK": int(os.environ.get("LOOKUPS_PER_MINUTE_KIOSK", "120")),
        "ASYNC_MODE": os.environ.get("MOTCUA_ASYNC_MODE", "threading"),
        "MESSAGE_QUEUE_URL": os.environ.get("MESSAGE_QUEUE_URL") or None,
        # The Redis channel the processes of one installation share; two installations on one Redis differ.
        "MESSAGE_QUEUE_CHANNEL": os.environ.get("MESSAGE_QUEUE_CHANNEL", "motcua"),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or None,
        # Engine.IO pings each page every PING_INTERVAL_S; one silent for PING_TIMEOUT_S more is dropped
        # (shorten both behind a proxy that closes idle connections sooner).
        "PING_INTERVAL_S": float(os.environ.get("PING_INTERVAL_S", "25")),
        "PING_TIMEOUT_S": float(os.environ.get("PING_TIMEOUT_S", "20")),
        # Proxies in front of the server (nginx: 1); their X-Forwarded-* headers give the client's address,
        # which the per-address sign-in and lookup limits count by. 0 trusts no such header.
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", "0")),
        "USER_TOKEN_TTL_S": int(os.environ.get("USER_TOKEN_TTL_S", 12 * 3600)),
        "BACKGROUND_TASKS": os.environ.get("MOTCUA_BACKGROUND_TASKS", "1") == "1",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),   # text, or json: one object per line
        # One WAV per word; replace any with a human recording of the same name.
        "VOICE_DIR": os.environ.get("VOICE_DIR", str(var / "voice")),
    }


DEFAULTS = {
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,   # the largest any endpoint takes; each declares its own (64 KiB default)
    "WTF_CSRF_CHECK_DEFAULT": False,   # checked explicitly for cookie-authenticated requests
    "WTF_CSRF_TIME_LIMIT": None,       # a console stays open all day; the token lives with the session
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "JSON_SORT_KEYS": False,
}


def server_settings() -> dict:
    """Where `motcua serve` listens (HOST/PORT)."""
    return {"host": os.environ.get("HOST", "127.0.0.1"), "port": int(os.environ.get("PORT", "5000"))}
