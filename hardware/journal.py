"""The agent's own record of what it has printed: the half of exactly-once that lives on the kiosk box.

Each job moves printing → printed (or failed), committed to disk before and after the bytes go
out. A job seen again is answered from here: printed jobs are acknowledged, not printed twice;
a job left in `printing` by a crash is reported as uncertain rather than risked twice.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

PRINTING, PRINTED, FAILED, UNCERTAIN = "printing", "printed", "failed", "uncertain"


class Journal:
    def __init__(self, path: Path | str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")   # a crash right after printing must not forget it
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL, error_code TEXT,"
            " error TEXT, reported INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL)")
        self._lock = threading.Lock()

    def state(self, job_id: int) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def mark(self, job_id: int, state: str, error_code: str | None = None, error: str | None = None) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO jobs (id, state, error_code, error, reported, updated) VALUES (?, ?, ?, ?, 0, ?)"
                " ON CONFLICT(id) DO UPDATE SET state = excluded.state, error_code = excluded.error_code,"
                " error = excluded.error, reported = 0, updated = excluded.updated",
                (job_id, state, error_code, error, time.time()))

    def mark_reported(self, job_id: int, state: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE jobs SET reported = 1 WHERE id = ? AND state = ?", (job_id, state))

    def unreported(self) -> list[tuple[int, str, str | None, str | None]]:
        """Final results the server has not confirmed yet, oldest first."""
        with self._lock:
            return self._conn.execute(
                "SELECT id, state, error_code, error FROM jobs WHERE reported = 0 AND state != ? ORDER BY id",
                (PRINTING,)).fetchall()

    def interrupted(self) -> list[int]:
        """Jobs a crash left half-way: the bytes may or may not have reached the paper."""
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT id FROM jobs WHERE state = ?", (PRINTING,))]

    def prune(self, older_than_s: float = 7 * 86400) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM jobs WHERE reported = 1 AND updated < ?", (time.time() - older_than_s,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
