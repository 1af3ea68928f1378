import pytest

from queue_server.domain.model import PriorityPolicy
from queue_server.domain.ordering import Candidate, PriorityRule, choose, class_preference, next_streak

STRICT = PriorityRule(PriorityPolicy.STRICT)
EVERY_2 = PriorityRule(PriorityPolicy.INTERLEAVED, interleave_every=2)


def c(tid: int, rank: int = 0, prio: bool = False, t: int | None = None) -> Candidate:
    order = (t if t is not None else tid, tid)
    return Candidate(ticket_id=tid, service_rank=rank, is_priority=prio, queued_order=order)


@pytest.mark.parametrize(("rule", "streak", "expected"), [
    (STRICT, 0, (True, False)), (STRICT, 5, (True, False)),
    (EVERY_2, 0, (False, True)), (EVERY_2, 1, (False, True)), (EVERY_2, 2, (True, False)),
    (EVERY_2, 3, (True, False)),
])
def test_class_preference(rule: PriorityRule, streak: int, expected: tuple) -> None:
    assert class_preference(rule, streak) == expected


@pytest.mark.parametrize(("rule", "streak", "candidates", "expected"), [
    (STRICT, 0, [], None),
    (STRICT, 0, [c(1), c(2)], 1),                            # oldest first
    (STRICT, 0, [c(1), c(2, prio=True)], 2),                 # priority jumps the queue
    (STRICT, 0, [c(1, rank=1), c(2, rank=0)], 2),            # the counter's first service first
    (STRICT, 0, [c(1, rank=0, prio=True), c(2, rank=0)], 1),
    (EVERY_2, 0, [c(1), c(2, prio=True)], 1),                # regular turn
    (EVERY_2, 2, [c(1), c(2, prio=True)], 2),                # priority turn after 2 regular
    (EVERY_2, 2, [c(1)], 1),                                  # no priority waiting: fall back
    (EVERY_2, 0, [c(2, prio=True)], 2),                      # no regular waiting: fall back
    (STRICT, 0, [c(5, t=1), c(3, t=1)], 3),                  # same queue time: lower id first
])
def test_choose(rule: PriorityRule, streak: int, candidates: list, expected: int | None) -> None:
    chosen = choose(rule, streak, candidates)
    assert (chosen.ticket_id if chosen else None) == expected


def test_interleaved_sequence_over_many_calls() -> None:
    """With N=2, regular and priority alternate 2:1 while both wait."""
    waiting = [c(i) for i in range(1, 7)] + [c(100 + i, prio=True) for i in range(1, 4)]
    streak, order = 0, []
    while waiting:
        chosen = choose(EVERY_2, streak, waiting)
        waiting.remove(chosen)
        order.append(chosen.ticket_id)
        streak = next_streak(EVERY_2, streak, chosen.is_priority)
    assert order == [1, 2, 101, 3, 4, 102, 5, 6, 103]


def test_interleave_needs_positive_n() -> None:
    with pytest.raises(ValueError):
        PriorityRule(PriorityPolicy.INTERLEAVED, interleave_every=0)
