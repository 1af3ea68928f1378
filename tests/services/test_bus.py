"""The event bus's hand-off: publishing returns at once, one task sends the batches in order."""
from __future__ import annotations

import gevent
import gevent.event
import gevent.queue

from queue_server.domain.events import Event
from queue_server.services.bus import EventBus, Handoff


def _event(name: str) -> Event:
    return Event(name=name, office_id=1, seq=1)


def test_a_handed_off_batch_is_sent_after_publish_returns_in_the_order_published() -> None:
    sent: list[list[str]] = []
    release = gevent.event.Event()

    def slow_send(events: list[Event]) -> None:
        release.wait()                       # a hall of sockets, or Redis, taking its time
        sent.append([e.name for e in events])

    bus = EventBus()
    bus.subscribe_batches(Handoff(slow_send, gevent.spawn, gevent.queue.Queue))
    bus.publish([_event("ticket_called"), _event("counter_changed")])
    bus.publish([_event("ticket_issued")])
    assert sent == []                        # the publisher did not wait
    release.set()
    gevent.sleep(0.01)
    assert sent == [["ticket_called", "counter_changed"], ["ticket_issued"]]


def test_a_batch_that_fails_to_send_does_not_stop_the_next(caplog) -> None:  # noqa: ANN001
    sent: list[str] = []

    def send(events: list[Event]) -> None:
        if events[0].name == "broken":
            raise ConnectionError("redis went away")
        sent.append(events[0].name)

    handoff = Handoff(send, gevent.spawn, gevent.queue.Queue)
    for name in ("ticket_issued", "broken", "ticket_called"):
        handoff([_event(name)])
    gevent.sleep(0.01)
    assert sent == ["ticket_issued", "ticket_called"]
    assert "sending broken failed" in caplog.text
