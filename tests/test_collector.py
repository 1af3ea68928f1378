"""The garbage collector's settling: when it runs, and that it freezes what survived."""
from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from queue_server import collector
from queue_server.collector import Settler


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    """Settling freezes this test process's objects; give them back to the collector afterwards."""
    yield
    gc.unfreeze()


def test_a_wave_of_connections_is_settled_once_the_hall_is_quiet() -> None:
    clock = Clock()
    settler = Settler(clock)
    for _ in range(collector.AFTER_CONNECTS - 1):
        settler.activity(connect=True)
    clock.now += collector.QUIET_S
    assert settler.run_once() is None                 # not enough connections yet
    settler.activity(connect=True)
    assert settler.run_once() is None                 # due, but a connection just came
    clock.now += collector.QUIET_S / 2
    assert settler.run_once() is None
    clock.now += collector.QUIET_S / 2
    assert settler.run_once() is not None
    assert gc.get_freeze_count() > 0
    assert settler.connects == 0 and settler.run_once() is None


def test_it_settles_every_few_minutes_and_at_the_latest_a_minute_after_it_was_due() -> None:
    clock = Clock()
    settler = Settler(clock)
    clock.now += collector.EVERY_S - 1
    assert settler.run_once() is None
    clock.now += 1
    settler.activity()
    assert settler.run_once() is None                 # due now, but a request just came
    latest = clock.now + collector.AT_THE_LATEST_S
    while clock.now + 0.25 < latest:                  # requests every quarter second: never quiet
        clock.now += 0.25
        settler.activity()
        assert settler.run_once() is None
    clock.now += 0.25
    settler.activity()
    assert settler.run_once() is not None             # a minute after it was due, quiet or not


def test_a_cycle_dropped_after_freezing_is_reclaimed_when_frozen_objects_are_thawed() -> None:
    class Node:
        pass

    clock = Clock()
    settler = Settler(clock)
    node = Node()
    node.me = node                                    # a cycle: only the collector frees it
    count = sum(1 for o in gc.get_objects() if isinstance(o, Node))
    clock.now += collector.EVERY_S + collector.QUIET_S
    settler.run_once()                                # frozen: alive and out of the collector's sight
    del node
    gc.collect()
    assert gc.get_freeze_count() > 0
    clock.now += collector.EVERY_S + collector.QUIET_S
    settler.run_once()                                # not thawed yet: the cycle stays frozen
    gc.unfreeze()
    assert sum(1 for o in gc.get_objects() if isinstance(o, Node)) == count
    gc.freeze()
    clock.now += collector.THAW_EVERY_S
    settler.run_once()                                # thawed and collected
    gc.unfreeze()
    assert sum(1 for o in gc.get_objects() if isinstance(o, Node)) == count - 1
