"""Keeps the cyclic garbage collector's pauses short in a server that holds many connections.

A full collection walks every tracked object that is not frozen, and stops the whole process while it
does. The application's own objects are frozen once built, but each connected board, console or phone
adds its sockets, greenlets and packets: with 1,000 connected, automatic full collections stopped the
server for 75-103 ms in the middle of calls. So, when connections have arrived or some minutes have
passed, at a moment without requests: collect what is not frozen, then freeze what survived. Automatic
collections then walk only what is newer. Once an hour the frozen objects are thawed and collected as
well, so a cycle that became garbage while frozen (a connection that closed) is reclaimed.
"""
from __future__ import annotations

import ctypes
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

EVERY_S = 600.0            # settle at least this often
THAW_EVERY_S = 3600.0      # collect the frozen objects too at most this often
AFTER_CONNECTS = 50        # … or once this many connections arrived since the last time
QUIET_S = 1.0              # … with no request or connection for this long
AT_THE_LATEST_S = 60.0     # … or anyway, this long after it became due


def settle(thaw: bool = True) -> float:
    """Collect (everything if `thaw`, else what is not frozen), then freeze the survivors; returns the
    seconds it took."""
    started = time.perf_counter()
    if thaw:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
    _give_back_memory()
    return time.perf_counter() - started


def _give_back_memory() -> None:
    """A wave of connections leaves freed heap behind (handshakes, snapshots); glibc keeps it unless
    asked to return it to the system."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Settler:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last_settled = self.last_thawed = clock()
        self.last_activity = clock()
        self.connects = 0
        self.due_since: float | None = None

    def activity(self, connect: bool = False) -> None:
        self.last_activity = self.clock()
        if connect:
            self.connects += 1

    def due(self) -> bool:
        now = self.clock()
        if self.due_since is None and (self.connects >= AFTER_CONNECTS or now - self.last_settled >= EVERY_S):
            self.due_since = now
        if self.due_since is None:
            return False
        return now - self.last_activity >= QUIET_S or now - self.due_since >= AT_THE_LATEST_S

    def run_once(self) -> float | None:
        if not self.due():
            return None
        thaw = self.clock() - self.last_thawed >= THAW_EVERY_S
        took = settle(thaw)
        self.last_settled, self.connects, self.due_since = self.clock(), 0, None
        if thaw:
            self.last_thawed = self.last_settled
        log.info("garbage collected%s and frozen in %.0f ms (%d objects frozen)", " (frozen ones too)" if thaw else "",
                 took * 1000, gc.get_freeze_count())
        return took

    def run(self, sleep: Callable[[float], None]) -> None:
        while True:
            sleep(QUIET_S / 4)
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a failed settling must not end the loop
                log.exception("settling the garbage collector failed")
