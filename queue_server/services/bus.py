"""In-process event bus between the services and whoever publishes outward (Socket.IO)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

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
