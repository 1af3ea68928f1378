"""In-process event bus between the services and whoever publishes outward (Socket.IO)."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from ..domain.events import Event

log = logging.getLogger(__name__)
Handler = Callable[[Event], None]
BatchHandler = Callable[[list[Event]], None]


class EventBus:
    """Each handler runs inside its own try/except: one broken listener cannot stop the others.

    A handler takes events one by one; a batch handler takes what one `publish` carried (the events
    of one action, in sequence order) at once, e.g. to send them outward as one message."""

    def __init__(self) -> None:
        self._handlers: list[tuple[Callable, bool]] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        return self._add((handler, False))

    def subscribe_batches(self, handler: BatchHandler) -> Callable[[], None]:
        return self._add((handler, True))

    def _add(self, entry: tuple[Callable, bool]) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._handlers:
                    self._handlers.remove(entry)
        return unsubscribe

    def publish(self, events: Iterable[Event]) -> None:
        events = list(events)
        if not events:
            return
        for handler, whole in list(self._handlers):
            for item in ([events] if whole else events):
                try:
                    handler(item)
                except Exception:  # noqa: BLE001 - isolation is the point
                    log.exception("event handler %r failed on %s", handler,
                                  ", ".join(e.name for e in events) if whole else item.name)


class Handoff:
    """A batch handler that returns at once and leaves the work to one background task, which takes
    the batches in the order they came. Under gevent, writing what a call published to a hall of 1,000
    sockets (or sending it through Redis) takes tens of milliseconds; the counter that called should
    not wait for it, and the next call's events must not overtake this one's.

    `start_task(fn, *args)` and `make_queue()` come from the server's async mode (Socket.IO's own).
    The task starts on first use, and again in a process forked after that (each has its own)."""

    def __init__(self, handler: BatchHandler, start_task: Callable[..., Any], make_queue: Callable[[], Any]) -> None:
        self._handler = handler
        self._start_task = start_task
        self._make_queue = make_queue
        self._queue: Any = None
        self._pid: int | None = None

    def __call__(self, events: list[Event]) -> None:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._queue = self._make_queue()
            self._start_task(self._run, self._queue)
        self._queue.put(events)

    def _run(self, queue: Any) -> None:
        while True:
            events = queue.get()
            try:
                self._handler(events)
            except Exception:  # noqa: BLE001 - the next batch still goes out
                log.exception("sending %s failed", ", ".join(e.name for e in events))
