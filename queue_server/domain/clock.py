"""Time as an injected dependency, so business dates and opening hours can be tested."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to; used by tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant.astimezone(timezone.utc)

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)


def local_time(instant: datetime, tz_name: str) -> datetime:
    return instant.astimezone(ZoneInfo(tz_name))


def business_date(instant: datetime, tz_name: str) -> date:
    """The office's calendar day: numbering restarts at local midnight."""
    return local_time(instant, tz_name).date()


def to_utc_naive(instant: datetime) -> datetime:
    """Storage form: UTC without tzinfo, identical on SQLite and PostgreSQL."""
    return instant.astimezone(timezone.utc).replace(tzinfo=None)


def from_utc_naive(stored: datetime) -> datetime:
    return stored.replace(tzinfo=timezone.utc)
