"""A sliding-window limiter for cheap, frequent actions such as dossier lookups.

Kept in the process's memory: it protects one server from a probing client without a round
trip per request. With several server processes each enforces its own window.
"""
from __future__ import annotations

import threading
import time
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_s: float, clock=time.monotonic) -> None:  # noqa: ANN001
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """Records a hit for `key` if allowed; returns (allowed, seconds until the next allowed hit)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return False, self.window_s - (now - hits[0])
            hits.append(now)
            if len(self._hits) > 10_000:        # forget idle keys so memory stays bounded
                for stale in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window_s]:
                    del self._hits[stale]
            return True, 0.0
