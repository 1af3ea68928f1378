from datetime import datetime

import pytest
import sqlalchemy as sa

from queue_server.domain.clock import ManualClock
from queue_server.domain.errors import NotFound, Unauthorized, Unavailable
from queue_server.domain.schedule import OFFICE_HOURS
from queue_server.persistence.database import Database
from queue_server.persistence.tables import tickets
from queue_server.services.bus import EventBus
from queue_server.services.tickets import IssueRequest, TicketService
from tests.conftest import VN
from tests.factories import make_office


def local(hh: int, mm: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=VN)


@pytest.fixture
def backend(any_db_url: str):  # noqa: ANN201
    database = Database(any_db_url)
    yield database
    database.dispose()


def service(db: Database, clock: ManualClock) -> tuple[TicketService, list]:
    bus = EventBus()
    seen: list = []
    bus.subscribe(seen.append)
    return TicketService(db, clock, bus), seen


def test_numbers_are_sequential_per_service(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend, services_spec=[{"code": "S1", "prefix": "A"}, {"code": "S2", "block": 2}])
    svc, _ = service(backend, clock)
    numbers = [svc.issue(IssueRequest("S1", office))["number"] for _ in range(3)]
    numbers += [svc.issue(IssueRequest("S2", office))["number"] for _ in range(2)]
    assert numbers == ["A001", "A002", "A003", "2001", "2002"]


def test_numbers_reset_at_local_midnight(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend)
    svc, _ = service(backend, clock)
    clock.set(local(23, 59))  # 23:59 local on Monday
    first = svc.issue(IssueRequest("S1", office))
    second = svc.issue(IssueRequest("S1", office))
    clock.advance(minutes=1)                             # 00:00 local on Tuesday
    third = svc.issue(IssueRequest("S1", office))
    assert [first["number"], second["number"], third["number"]] == ["A001", "A002", "A001"]
    assert first["business_date"] == "2026-11-23" and third["business_date"] == "2026-11-24"


def test_daily_limit_refuses_and_keeps_numbers_contiguous(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend, services_spec=[{"code": "S1", "prefix": "A", "daily_limit": 2}])
    svc, _ = service(backend, clock)
    svc.issue(IssueRequest("S1", office))
    svc.issue(IssueRequest("S1", office))
    for _ in range(3):
        with pytest.raises(Unavailable) as info:
            svc.issue(IssueRequest("S1", office))
        assert info.value.code == "daily_limit_reached"
    with backend.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tickets)).scalar_one() == 2
    clock.advance(days=1)
    assert svc.issue(IssueRequest("S1", office))["number"] == "A001"


def test_outside_opening_hours_is_refused(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend, services_spec=[{"code": "S1", "prefix": "A", "opening_hours": OFFICE_HOURS}])
    svc, seen = service(backend, clock)
    clock.set(local(12, 0))
    with pytest.raises(Unavailable) as info:
        svc.issue(IssueRequest("S1", office))
    assert "13:30" in info.value.message_vi and "13:30" in info.value.message_en
    assert seen == []
    clock.set(local(13, 30))
    assert svc.issue(IssueRequest("S1", office))["number"] == "A001"  # the refusal used no number


def test_inactive_and_unknown_services(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend, services_spec=[{"code": "S1", "prefix": "A", "active": False},
                                                 {"code": "S2", "prefix": "B"}])
    svc, _ = service(backend, clock)
    with pytest.raises(Unavailable) as info:
        svc.issue(IssueRequest("S1", office))
    assert info.value.code == "service_inactive"
    with pytest.raises(NotFound) as info:
        svc.issue(IssueRequest("NOPE", office))
    assert info.value.code == "service_not_found"
    with pytest.raises(NotFound) as info:
        svc.issue(IssueRequest("S2", office, priority="NOPE"))
    assert info.value.code == "priority_group_not_found"
    assert svc.issue(IssueRequest("S2", office))["number"] == "B001"  # refusals used no number


def test_position_and_priority(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend)
    svc, _ = service(backend, clock)
    a = svc.issue(IssueRequest("S1", office))
    b = svc.issue(IssueRequest("S1", office))
    p = svc.issue(IssueRequest("S1", office, priority="NCT"))
    assert (a["position"], b["position"], p["position"]) == (0, 1, 0)
    assert p["priority"] is True
    assert svc.get(b["id"])["position"] == 2  # the priority ticket now goes before b
    assert b["estimated_wait_s"] > 0


def test_idempotency_key_returns_the_same_ticket(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend)
    svc, seen = service(backend, clock)
    first = svc.issue(IssueRequest("S1", office, idempotency_key="tap-0001-abcdef"))
    again = svc.issue(IssueRequest("S1", office, idempotency_key="tap-0001-abcdef"))
    assert again["id"] == first["id"] and again["number"] == first["number"] and again["replayed"]
    assert len([e for e in seen if e.name == "ticket_issued"]) == 1


def test_kiosk_token_required(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend, kiosk_token_required=True)
    svc, _ = service(backend, clock)
    with pytest.raises(Unauthorized):
        svc.issue(IssueRequest("S1", office))
    with pytest.raises(Unauthorized):          # refused before it learns whether the service exists
        svc.issue(IssueRequest("NOPE", office))
    assert svc.issue(IssueRequest("S1", office, authenticated=True))["number"] == "A001"


def test_a_service_is_looked_up_in_its_own_office_only(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend)
    other = make_office(backend, code="B", services_spec=[{"code": "ONLYB", "prefix": "B"}])
    svc, _ = service(backend, clock)
    with pytest.raises(NotFound) as info:
        svc.issue(IssueRequest("ONLYB", office))
    assert info.value.code == "service_not_found"
    with pytest.raises(NotFound) as info:
        svc.issue(IssueRequest("S1", other + office + 1000))
    assert info.value.code == "office_not_found"
    assert svc.issue(IssueRequest("ONLYB", other))["number"] == "B001"


def test_events_carry_increasing_sequence(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend)
    svc, seen = service(backend, clock)
    svc.issue(IssueRequest("S1", office))
    svc.issue(IssueRequest("S2", office))
    assert [e.name for e in seen] == ["ticket_issued", "queue_changed"] * 2
    assert [e.seq for e in seen] == [1, 2, 3, 4]
    assert seen[1].data == {"service": "S1", "waiting": 1}


def test_waiting_tickets_of_past_days_expire(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend)
    svc, _ = service(backend, clock)
    old = svc.issue(IssueRequest("S1", office))
    assert svc.expire_past_days() == 0
    clock.advance(days=1)
    fresh = svc.issue(IssueRequest("S1", office))
    assert svc.expire_past_days() == 1
    assert svc.get(old["id"])["status"] == "expired"
    assert svc.get(fresh["id"])["status"] == "waiting"


def test_ticket_lookup_by_token(backend: Database, clock: ManualClock) -> None:
    office = make_office(backend)
    svc, _ = service(backend, clock)
    issued = svc.issue(IssueRequest("S1", office))
    assert svc.get_by_token(issued["track_token"])["id"] == issued["id"]
    with pytest.raises(NotFound):
        svc.get_by_token("not-a-token")
    with pytest.raises(NotFound):
        svc.get(issued["id"], office_id=office + 1)   # another office does not see it
