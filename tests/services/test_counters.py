import pytest

from queue_server.domain.clock import ManualClock
from queue_server.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from queue_server.persistence.database import Database
from queue_server.services.bus import EventBus
from queue_server.services.counters import CounterService
from queue_server.services.tickets import IssueRequest, TicketService
from tests.factories import counter_id, make_office, office_admin, staff_user


@pytest.fixture
def backend(any_db_url: str):  # noqa: ANN201
    database = Database(any_db_url)
    yield database
    database.dispose()


class Hall:
    """An office with its ticket and counter services, and the events they published."""

    def __init__(self, db: Database, clock: ManualClock, **office) -> None:  # noqa: ANN003
        self.db = db
        self.bus = EventBus()
        self.events: list = []
        self.bus.subscribe(self.events.append)
        self.office = make_office(db, **office)
        self.tickets = TicketService(db, clock, self.bus)
        self.counters = CounterService(db, clock, self.bus)
        self.admin = office_admin(db, self.office)

    def issue(self, code: str, priority: str | None = None) -> dict:
        return self.tickets.issue(IssueRequest(code, self.office, priority=priority))

    def counter(self, number: int) -> int:
        return counter_id(self.db, self.office, number)

    def call(self, number: int) -> str | None:
        called = self.counters.call_next(self.counter(number), self.admin)
        return called["number"] if called else None


def test_counter_serves_its_services_in_rank_order(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock, counters_spec=[(1, ["S2", "S1"])])
    hall.issue("S1")
    hall.issue("S1")
    hall.issue("S2")
    assert [hall.call(1) for _ in range(4)] == ["B001", "A001", "A002", None]


def test_call_next_finishes_the_current_ticket(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    first = hall.issue("S1")
    hall.issue("S1")
    hall.call(1)
    hall.call(1)
    assert hall.tickets.get(first["id"])["status"] == "finished"


def test_strict_priority_goes_first(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock, policy="strict")
    hall.issue("S1")
    hall.issue("S1")
    hall.issue("S1", priority="NCT")
    assert [hall.call(1) for _ in range(3)] == ["A003", "A001", "A002"]


def test_interleaved_priority_every_n(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock, policy="interleaved", interleave=2)
    for _ in range(4):
        hall.issue("S1")
    hall.issue("S1", priority="NCT")
    hall.issue("S1", priority="NCT")
    assert [hall.call(1) for _ in range(6)] == ["A001", "A002", "A005", "A003", "A004", "A006"]


def test_two_counters_share_a_service_without_sharing_tickets(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock, counters_spec=[(1, ["S1"]), (2, ["S2", "S1"])])
    for _ in range(3):
        hall.issue("S1")
    assert hall.call(1) == "A001"
    assert hall.call(2) == "A002"
    assert hall.call(1) == "A003"
    assert hall.call(2) is None


def test_recall_finish_and_finishing_twice(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    ticket = hall.issue("S1")
    cid = hall.counter(1)
    hall.call(1)
    clock.advance(seconds=30)
    recalled = hall.counters.recall(cid, hall.admin)
    assert recalled["recall_count"] == 1 and recalled["status"] == "called"
    called_events = [e for e in hall.events if e.name == "ticket_called"]
    assert [e.data["recall"] for e in called_events] == [False, True]
    finished = hall.counters.finish(cid, hall.admin)
    assert finished["status"] == "finished" and finished["id"] == ticket["id"]
    with pytest.raises(Conflict) as info:
        hall.counters.finish(cid, hall.admin)
    assert info.value.code == "no_current_ticket"
    with pytest.raises(Conflict):
        hall.counters.recall(cid, hall.admin)


def test_no_show_then_called_back_by_number(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    ticket = hall.issue("S1")
    hall.issue("S1")
    cid = hall.counter(1)
    hall.call(1)
    assert hall.counters.no_show(cid, hall.admin)["status"] == "no_show"
    hall.call(1)                                      # A002 now at the counter
    back = hall.counters.call_number(cid, "a001", hall.admin)
    assert back["id"] == ticket["id"] and back["status"] == "called"
    with pytest.raises(NotFound):
        hall.counters.call_number(cid, "A099", hall.admin)
    with pytest.raises(Conflict) as info:
        hall.counters.call_number(cid, "A002", hall.admin)   # already finished by the call above
    assert info.value.code == "ticket_not_callable"


def test_transfer_keeps_the_number_and_queue_time(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock, counters_spec=[(1, ["S1"]), (2, ["S2"])])
    ticket = hall.issue("S1")
    clock.advance(minutes=5)
    hall.issue("S2")                                   # B001 was taken after A001
    cid = hall.counter(1)
    hall.call(1)
    moved = hall.counters.transfer(cid, "S2", hall.admin)
    assert moved["status"] == "transferred" and moved["transferred_to"]
    assert hall.tickets.get(moved["transferred_to"])["status"] == "waiting"
    assert hall.call(2) == "A001"                      # queued with its original time, before B001
    with pytest.raises(Conflict):
        hall.counters.transfer(cid, "S2", hall.admin)  # nothing current any more
    hall.call(1)
    assert hall.tickets.get(ticket["id"])["status"] == "transferred"


def test_transfer_to_unknown_or_same_service(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    hall.issue("S1")
    cid = hall.counter(1)
    hall.call(1)
    with pytest.raises(NotFound):
        hall.counters.transfer(cid, "NOPE", hall.admin)
    with pytest.raises(InvalidInput):
        hall.counters.transfer(cid, "S1", hall.admin)
    assert hall.counters.state(cid, hall.admin)["current"]["number"] == "A001"  # unchanged


def test_pause_blocks_calls_until_resume(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    hall.issue("S1")
    cid = hall.counter(1)
    state = hall.counters.pause(cid, "Nghỉ giải lao", hall.admin)
    assert state["counter"]["state"] == "paused" and state["counter"]["reason"] == "Nghỉ giải lao"
    with pytest.raises(Conflict) as info:
        hall.counters.call_next(cid, hall.admin)
    assert info.value.code == "counter_paused"
    hall.counters.resume(cid, hall.admin)
    assert hall.call(1) == "A001"


def test_staff_act_only_at_their_counters(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock, counters_spec=[(1, ["S1"]), (2, ["S1"])])
    hall.issue("S1")
    officer = staff_user(backend, clock, hall.office, "officer1", [1])
    with pytest.raises(Forbidden):
        hall.counters.call_next(hall.counter(2), officer)
    with pytest.raises(Forbidden):
        hall.counters.state(hall.counter(2), officer)
    assert hall.counters.call_next(hall.counter(1), officer)["number"] == "A001"
    assert [c["number"] for c in hall.counters.counters_for(officer)] == [1]


def test_events_for_a_call(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    hall.issue("S1")
    hall.events.clear()
    hall.call(1)
    assert [e.name for e in hall.events] == ["ticket_called", "queue_changed", "counter_changed"]
    seqs = [e.seq for e in hall.events]
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    called = hall.events[0].data
    assert called["ticket"]["number"] == "A001" and called["counter"] == 1 and called["recall"] is False


def test_a_yesterday_ticket_left_at_a_counter_expires(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    old = hall.issue("S1")
    hall.call(1)
    clock.advance(days=1)
    hall.issue("S1")
    assert hall.call(1) == "A001"                      # today's A001
    assert hall.tickets.get(old["id"])["status"] == "expired"
