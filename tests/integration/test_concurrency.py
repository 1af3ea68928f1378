"""Many kiosks and counters at once: no duplicate, no gap, no ticket called twice.

Runs against a SQLite file and a real PostgreSQL. Each thread uses its own database
connection; only the database's own guarantees keep the numbers right.
"""
import threading
import time
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa

from queue_server.domain.clock import ManualClock
from queue_server.persistence.database import Database
from queue_server.persistence.tables import ticket_actions, tickets
from queue_server.services.bus import EventBus
from queue_server.services.counters import CounterService
from queue_server.services.tickets import IssueRequest, TicketService
from tests.factories import counter_id, make_office, office_admin

ISSUERS = 64
PER_ISSUER = 32            # 2,048 tickets
COUNTERS = 8
SERVICES = ["S1", "S2", "S3", "S4"]


def test_issue_and_call_under_contention(any_db_url: str, clock: ManualClock) -> None:
    db = Database(any_db_url, pool_size=ISSUERS + COUNTERS, max_overflow=0)
    bus = EventBus()
    seqs: list[int] = []
    bus.subscribe(lambda e: seqs.append(e.seq))
    office = make_office(
        db, services_spec=[{"code": c, "prefix": p} for c, p in zip(SERVICES, "ABCD", strict=True)],
        counters_spec=[(n, [SERVICES[n % 4], SERVICES[(n + 1) % 4]]) for n in range(1, COUNTERS + 1)])
    tickets_svc = TicketService(db, clock, bus)
    counters_svc = CounterService(db, clock, bus)
    admin = office_admin(db, office)
    issued: list[dict] = []
    called: dict[int, list[int]] = defaultdict(list)
    errors: list[BaseException] = []
    issuing_done = threading.Event()
    start = threading.Barrier(ISSUERS + COUNTERS)

    def issuer(i: int) -> None:
        try:
            start.wait()
            for k in range(PER_ISSUER):
                issued.append(tickets_svc.issue(IssueRequest(SERVICES[(i + k) % 4], office)))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def counter(n: int) -> None:
        cid = counter_id(db, office, n)
        try:
            start.wait()
            while True:
                got = counters_svc.call_next(cid, admin)
                if got is not None:
                    called[n].append(got["id"])
                elif issuing_done.is_set():
                    return
                else:
                    time.sleep(0.002)   # an idle counter does not spin
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    issuers = [threading.Thread(target=issuer, args=(i,)) for i in range(ISSUERS)]
    callers = [threading.Thread(target=counter, args=(n,)) for n in range(1, COUNTERS + 1)]
    for t in issuers + callers:
        t.start()
    for t in issuers:
        t.join(timeout=240)
    issuing_done.set()
    for t in callers:
        t.join(timeout=240)
    assert not errors, errors[:3]
    assert len(issued) == ISSUERS * PER_ISSUER

    # No duplicate and no gap per service: exactly 1..n.
    by_service: dict[str, list[int]] = defaultdict(list)
    for t in issued:
        by_service[t["service"]].append(int(t["number"][1:]))
    for service, numbers in by_service.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), service

    # Every ticket was called exactly once, by exactly one counter.
    all_called = [tid for ids in called.values() for tid in ids]
    assert Counter(all_called).most_common(1)[0][1] == 1
    assert set(all_called) == {t["id"] for t in issued}
    with db.read() as conn:
        per_ticket = conn.execute(sa.select(ticket_actions.c.ticket_id, sa.func.count())
                                  .where(ticket_actions.c.action == "called")
                                  .group_by(ticket_actions.c.ticket_id)).all()
        assert len(per_ticket) == len(issued) and {n for _, n in per_ticket} == {1}
        statuses = dict(conn.execute(sa.select(tickets.c.status, sa.func.count()).group_by(tickets.c.status)).all())
    assert statuses.get("waiting", 0) == 0
    assert statuses.get("finished", 0) + statuses.get("called", 0) == len(issued)
    # The event sequence is gap-free too: every committed change got exactly one number.
    assert sorted(seqs) == list(range(1, len(seqs) + 1))
    db.dispose()


@pytest.mark.parametrize("n", [200])
def test_parallel_call_next_on_one_queue(any_db_url: str, clock: ManualClock, n: int) -> None:
    """All counters hammer one shared service at once: each ticket goes to one counter."""
    db = Database(any_db_url)
    office = make_office(db, services_spec=[{"code": "S1", "prefix": "A"}],
                         counters_spec=[(k, ["S1"]) for k in range(1, COUNTERS + 1)])
    bus = EventBus()
    tickets_svc, counters_svc = TicketService(db, clock, bus), CounterService(db, clock, bus)
    for _ in range(n):
        tickets_svc.issue(IssueRequest("S1", office))
    admin = office_admin(db, office)
    got: list[str] = []
    barrier = threading.Barrier(COUNTERS)

    def worker(k: int) -> None:
        cid = counter_id(db, office, k)
        barrier.wait()
        while (t := counters_svc.call_next(cid, admin)) is not None:
            got.append(t["number"])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, COUNTERS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(got) == [f"A{i:03d}" for i in range(1, n + 1)]
    db.dispose()
