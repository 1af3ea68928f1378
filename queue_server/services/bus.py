"""In-process event bus between the services and whoever publishes outward (Socket.IO)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from ..domain.events import Event

log = logging.getLogger(__name__)
Handler = Callable[[Event], None]


class EventBus:
    """Each handler runs inside its own try/except: one broken listener cannot stop the others."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)
        return unsubscribe

    def publish(self, events: Iterable[Event]) -> None:
        handlers = list(self._handlers)
        for event in events:
            for handler in handlers:
                try:
                    handler(event)
                except Exception:  # noqa: BLE001 - isolation is the point
                    log.exception("event handler %r failed on %s", handler, event.name)
