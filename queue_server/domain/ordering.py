"""Which waiting ticket a counter takes next.

A counter serves its services in rank order (its first service before its second),
oldest first within a service. Priority groups jump the queue by the office's policy.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import PriorityPolicy


@dataclass(frozen=True)
class PriorityRule:
    policy: PriorityPolicy
    interleave_every: int = 3  # N regular tickets, then one priority ticket

    def __post_init__(self) -> None:
        if self.policy is PriorityPolicy.INTERLEAVED and self.interleave_every < 1:
            raise ValueError("interleave_every must be at least 1")


def class_preference(rule: PriorityRule, regular_streak: int) -> tuple[bool, bool]:
    """Order in which to look: (True, False) means priority tickets first.

    `regular_streak` is how many regular tickets this counter called since its last
    priority ticket. Whichever class comes first, the other is the fallback, so a
    counter never idles while anyone waits.
    """
    if rule.policy is PriorityPolicy.STRICT:
        return (True, False)
    if regular_streak >= rule.interleave_every:
        return (True, False)
    return (False, True)


def next_streak(rule: PriorityRule, regular_streak: int, called_priority: bool) -> int:
    if called_priority:
        return 0
    return regular_streak + 1


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket as ordering sees it."""
    ticket_id: int
    service_rank: int
    is_priority: bool
    queued_order: tuple  # (queued_at, id): earlier first


def choose(rule: PriorityRule, regular_streak: int, candidates: list[Candidate]) -> Candidate | None:
    """The reference ordering; the database query implements the same rule."""
    for want_priority in class_preference(rule, regular_streak):
        pool = [c for c in candidates if c.is_priority == want_priority]
        if pool:
            return min(pool, key=lambda c: (c.service_rank, c.queued_order))
    return None
