"""Ratings on a real database: one per visit, bound to the counter, officer and service that served it."""
from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from queue_server.domain import events as ev
from queue_server.domain import ratings as rd
from queue_server.domain.clock import ManualClock, to_utc_naive
from queue_server.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthorized
from queue_server.domain.model import DeviceKind
from queue_server.persistence.database import Database
from queue_server.persistence.tables import offices, ratings, services, tickets, user_photos
from queue_server.services.auth import ANONYMOUS, AuthService, Principal
from queue_server.services.bus import EventBus
from queue_server.services.counters import CounterService
from queue_server.services.ratings import MAX_PHOTO_BYTES, PHOTO_PX, RatingService
from queue_server.services.tickets import IssueRequest, TicketService
from tests.factories import counter_id, make_office, office_admin, staff_user


@pytest.fixture
def backend(any_db_url: str):  # noqa: ANN201
    database = Database(any_db_url)
    yield database
    database.dispose()


class Hall:
    """An office with two counters, an officer at each, and the services a visit goes through."""

    def __init__(self, db: Database, clock: ManualClock, code: str = "t") -> None:
        self.db, self.clock = db, clock
        self.bus = EventBus()
        self.events: list = []
        self.bus.subscribe(self.events.append)
        self.office = make_office(db, code, counters_spec=[(1, ["S1", "S2"]), (2, ["S2"])])
        self.tickets = TicketService(db, clock, self.bus)
        self.counters = CounterService(db, clock, self.bus)
        self.ratings = RatingService(db, clock, self.bus)
        self.auth = AuthService(db, clock)
        self.officers = {1: staff_user(db, clock, self.office, f"{code}-officer1", [1]),
                         2: staff_user(db, clock, self.office, f"{code}-officer2", [2])}
        self.admin = office_admin(db, self.office)

    def device(self, counter: int | None, kind: DeviceKind = DeviceKind.RATING, code: str | None = None) -> Principal:
        settings = {"counter": counter} if counter is not None else None
        token = self.auth.issue_device_token(self.office, kind, code or f"{kind.value}-{counter}", settings=settings)
        return self.auth.principal_from_token(token)

    def serve(self, counter: int = 1, service: str = "S1") -> dict:
        ticket = self.tickets.issue(IssueRequest(service, self.office))
        cid = counter_id(self.db, self.office, counter)
        called = self.counters.call_next(cid, self.officers[counter])
        assert called is not None and called["id"] == ticket["id"]
        self.counters.finish(cid, self.officers[counter])
        return ticket

    def stored(self, ticket_id: int) -> list[dict]:
        with self.db.read() as conn:
            return [dict(r) for r in conn.execute(sa.select(ratings).where(ratings.c.ticket_id == ticket_id)
                                                  ).mappings()]


def test_a_rating_is_bound_to_the_counter_officer_service_and_time(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    ticket = hall.serve(1, "S1")
    clock.advance(minutes=2)
    rating = hall.ratings.rate_at_counter(hall.device(1), ticket["id"], "very_satisfied")
    assert rating["ticket"] == {"id": ticket["id"], "number": "A001"}
    assert (rating["counter"], rating["level"], rating["name_vi"], rating["score"], rating["satisfied"],
            rating["channel"]) == (1, "very_satisfied", "Rất hài lòng", 3, True, "tablet")
    [row] = hall.stored(ticket["id"])
    with backend.read() as conn:
        service_id = conn.execute(sa.select(services.c.id).where(services.c.office_id == hall.office,
                                                                 services.c.code == "S1")).scalar_one()
    assert row["office_id"] == hall.office
    assert row["counter_id"] == counter_id(backend, hall.office, 1)
    assert row["user_id"] == hall.officers[1].user_id
    assert row["service_id"] == service_id
    assert (row["level"], row["score"], row["satisfied"], row["reason"], row["channel"]) == (
        "very_satisfied", 3, True, None, "tablet")
    assert row["at"] == to_utc_naive(clock.now())
    event = hall.events[-1]
    assert event.name == ev.TICKET_RATED and event.audience == "public"
    assert event.data == {"ticket": {"id": ticket["id"], "number": "A001"}, "counter": 1, "channel": "tablet"}
    assert event.seq == hall.events[-2].seq + 1                   # numbered with the office's other events


def test_one_rating_per_visit(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    ticket = hall.serve()
    device = hall.device(1)
    hall.ratings.rate_at_counter(device, ticket["id"], "satisfied")
    for attempt in (lambda: hall.ratings.rate_at_counter(device, ticket["id"], "unsatisfied"),
                    lambda: hall.ratings.rate_pending(device, position=1),
                    lambda: hall.ratings.rate_by_token(_token(db, ticket["id"]), "satisfied")):
        with pytest.raises(Conflict) as caught:
            attempt()
        assert caught.value.code in ("already_rated", "nothing_to_rate")
    assert len(hall.stored(ticket["id"])) == 1


def _token(db: Database, ticket_id: int) -> str:
    with db.read() as conn:
        return conn.execute(sa.select(tickets.c.track_token).where(tickets.c.id == ticket_id)).scalar_one()


def test_the_tablet_state(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    device = hall.device(1)
    state = hall.ratings.state(device, 1)
    assert state["counter"]["number"] == 1 and state["pending"] is None
    # Nobody has called yet today: the counter's only assigned officer.
    assert state["officer"] == {"id": hall.officers[1].user_id, "full_name": "t-officer1", "photo_version": None}
    assert [lv["code"] for lv in state["levels"]] == ["very_satisfied", "satisfied", "unsatisfied"]
    assert state["question"]["vi"] == rd.QUESTION["vi"] and state["window_s"] == 1800
    assert len(state["reasons"]) == 4

    ticket = hall.serve(1)
    pending = hall.ratings.state(device)["pending"]
    assert pending == {"ticket_id": ticket["id"], "number": "A001",
                       "service": {"code": "S1", "name_vi": "Dịch vụ S1", "name_en": "Service S1"},
                       "finished_at": clock.now().isoformat()}
    hall.ratings.rate_pending(device, "satisfied")
    assert hall.ratings.state(device)["pending"] is None


def test_the_officer_is_whoever_called_at_the_counter_last(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    stand_in = staff_user(db, clock, hall.office, "stand-in", [2])
    hall.officers[2] = stand_in
    hall.serve(2, "S2")
    assert hall.ratings.state(hall.device(2))["officer"]["full_name"] == "stand-in"
    # Two officers assigned and nobody called today: the tablet cannot tell who is there.
    assert hall.ratings.state(hall.device(1))["officer"]["full_name"] == "t-officer1"
    staff_user(db, clock, hall.office, "second", [1])
    assert hall.ratings.state(hall.device(1, code="rating-1b"))["officer"] is None


def test_only_the_latest_visit_at_the_counter_is_pending(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    device = hall.device(1)
    first = hall.serve()
    clock.advance(minutes=1)
    second = hall.serve()
    assert hall.ratings.state(device)["pending"]["ticket_id"] == second["id"]
    hall.ratings.rate_at_counter(device, second["id"], "satisfied")
    # The citizen before has left: the tablet does not ask about them, the keypad does not rate them.
    assert hall.ratings.state(device)["pending"] is None
    with pytest.raises(Conflict, match="no visit waiting"):
        hall.ratings.rate_pending(device, position=1)
    # An explicit request for the earlier visit, still in its window, is allowed.
    assert hall.ratings.rate_at_counter(device, first["id"], "satisfied")["ticket"]["id"] == first["id"]


def test_the_rating_windows(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    device = hall.device(1)
    ticket = hall.serve()
    token = _token(db, ticket["id"])
    clock.advance(minutes=31)
    assert hall.ratings.state(device)["pending"] is None
    with pytest.raises(Conflict) as caught:
        hall.ratings.rate_at_counter(device, ticket["id"], "satisfied")
    assert caught.value.code == "too_late" and "30 phút" in caught.value.message_vi
    assert hall.ratings.track_state(token)["state"] == "open"     # the phone has 24 hours
    clock.advance(hours=24)
    assert hall.ratings.track_state(token)["state"] == "closed"
    with pytest.raises(Conflict) as caught:
        hall.ratings.rate_by_token(token, "satisfied")
    assert caught.value.code == "too_late" and "24 hours" in caught.value.message_en


def test_an_office_window_and_scale(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    scale = [{"code": "good", "vi": "Tốt", "en": "Good", "satisfied": True},
             {"code": "ok", "vi": "Bình thường", "en": "OK", "satisfied": False, "asks_reason": False},
             {"code": "bad", "vi": "Kém", "en": "Poor", "satisfied": False}]
    with db.write() as conn:
        conn.execute(sa.update(offices).where(offices.c.id == hall.office).values(
            settings={"rating": {"levels": scale, "window_minutes": 5}}))
    device = hall.device(1)
    ticket = hall.serve()
    assert [lv["code"] for lv in hall.ratings.state(device)["levels"]] == ["good", "ok", "bad"]
    with pytest.raises(InvalidInput) as caught:
        hall.ratings.rate_at_counter(device, ticket["id"], "satisfied")
    assert caught.value.code == "unknown_level"
    rating = hall.ratings.rate_pending(device, position=2)
    assert (rating["level"], rating["score"], rating["satisfied"], rating["channel"]) == ("ok", 2, False, "keypad")
    second = hall.serve()
    clock.advance(minutes=6)
    with pytest.raises(Conflict, match="5 minutes"):
        hall.ratings.rate_at_counter(device, second["id"], "bad")


def test_a_reason_is_kept_only_where_the_level_asks_why(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    device = hall.device(1)
    first, second = hall.serve(), hall.serve()
    hall.ratings.rate_at_counter(device, first["id"], "satisfied", "should not be kept")
    rating = hall.ratings.rate_at_counter(device, second["id"], "unsatisfied", " Chờ\nlâu ")
    assert rating["reason"] == "Chờ lâu"
    assert hall.stored(first["id"])[0]["reason"] is None


@pytest.mark.parametrize("case", ["other_counter", "called", "waiting", "no_show", "unknown", "other_office"])
def test_what_a_rating_device_may_not_rate(db: Database, clock: ManualClock, case: str) -> None:
    hall = Hall(db, clock)
    device = hall.device(1)
    cid1 = counter_id(db, hall.office, 1)
    if case == "other_counter":
        ticket_id, error, code = hall.serve(2, "S2")["id"], Forbidden, "not_this_counter"
    elif case == "called":
        ticket_id = hall.tickets.issue(IssueRequest("S1", hall.office))["id"]
        hall.counters.call_next(cid1, hall.officers[1])
        error, code = Conflict, "not_finished"
    elif case == "waiting":     # never called here: not this counter's visit
        ticket_id = hall.tickets.issue(IssueRequest("S1", hall.office))["id"]
        error, code = Forbidden, "not_this_counter"
    elif case == "no_show":
        ticket_id = hall.tickets.issue(IssueRequest("S1", hall.office))["id"]
        hall.counters.call_next(cid1, hall.officers[1])
        hall.counters.no_show(cid1, hall.officers[1])
        error, code = Conflict, "not_served"
    elif case == "unknown":
        ticket_id, error, code = 999_999, NotFound, "ticket_not_found"
    else:
        other = Hall(db, clock, "u")
        ticket_id, error, code = other.serve()["id"], NotFound, "ticket_not_found"
    with pytest.raises(error) as caught:
        hall.ratings.rate_at_counter(device, ticket_id, "satisfied")
    assert caught.value.code == code
    assert hall.stored(ticket_id) == []


def test_who_may_rate_at_a_counter(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    ticket = hall.serve()
    attempts = [
        (hall.officers[1], Forbidden, "staff_cannot_rate"),
        (hall.admin, Forbidden, "staff_cannot_rate"),
        (ANONYMOUS, Unauthorized, "device_token_required"),
        (hall.device(None, DeviceKind.KIOSK, "kiosk-x"), Forbidden, "not_a_rating_device"),
        (hall.device(None, DeviceKind.AGENT, "agent-x"), Forbidden, "not_a_rating_device"),
        (hall.device(None, DeviceKind.RATING, "rating-x"), Forbidden, "device_without_counter"),
        (hall.device(9, DeviceKind.RATING, "rating-9"), NotFound, "counter_not_found"),
    ]
    for principal, error, code in attempts:
        with pytest.raises(error) as caught:
            hall.ratings.rate_at_counter(principal, ticket["id"], "satisfied")
        assert caught.value.code == code, principal
    # An agent set up with a counter serves that counter's keypad.
    agent = hall.device(1, DeviceKind.AGENT, "agent-1")
    assert hall.ratings.rate_pending(agent, position=1)["level"] == "very_satisfied"


def test_a_device_on_another_counters_page(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    with pytest.raises(Forbidden) as caught:
        hall.ratings.state(hall.device(2), 1)
    assert caught.value.code == "wrong_counter" and caught.value.details == {"device_counter": 2}
    assert "quầy 2, không phải quầy 1" in caught.value.message_vi


def test_the_tracking_page_follows_a_transfer(backend: Database, clock: ManualClock) -> None:
    hall = Hall(backend, clock)
    ticket = hall.tickets.issue(IssueRequest("S1", hall.office))
    token = _token(backend, ticket["id"])
    assert hall.ratings.track_state(token)["state"] == "not_finished"
    cid1, cid2 = counter_id(backend, hall.office, 1), counter_id(backend, hall.office, 2)
    hall.counters.call_next(cid1, hall.officers[1])
    hall.counters.transfer(cid1, "S2", hall.officers[1])
    assert hall.ratings.track_state(token)["state"] == "not_finished"
    with pytest.raises(Conflict) as caught:
        hall.ratings.rate_by_token(token, "satisfied")
    assert caught.value.code == "not_finished"
    hall.counters.call_next(cid2, hall.officers[2])
    hall.counters.finish(cid2, hall.officers[2])
    state = hall.ratings.track_state(token)
    assert state["state"] == "open" and state["ticket"] == {"number": "A001", "status": "finished", "counter": 2}
    assert state["until"] == (clock.now() + timedelta(hours=24)).isoformat()
    rating = hall.ratings.rate_by_token(token, "unsatisfied", "Phải chuyển quầy")
    assert (rating["counter"], rating["channel"], rating["reason"]) == (2, "web", "Phải chuyển quầy")
    with backend.read() as conn:
        row = conn.execute(sa.select(ratings)).mappings().one()
    assert row["user_id"] == hall.officers[2].user_id and row["counter_id"] == cid2
    state = hall.ratings.track_state(token)
    assert state["state"] == "rated" and state["rating"]["name_vi"] == "Không hài lòng" and state["until"] is None
    with pytest.raises(NotFound):
        hall.ratings.track_state("no-such-token")


def test_two_ratings_of_one_visit_at_once(backend: Database, clock: ManualClock) -> None:
    """Each pair races from a barrier on its own connections: exactly one wins, the other hears why."""
    hall = Hall(backend, clock)
    device = hall.device(1)
    visits = [hall.serve() for _ in range(6)]
    outcomes: dict[int, list[str]] = {v["id"]: [] for v in visits}
    unexpected: list[BaseException] = []

    def rate(ticket_id: int, level: str, start: threading.Barrier) -> None:
        start.wait()
        try:
            hall.ratings.rate_at_counter(device, ticket_id, level)
            outcomes[ticket_id].append("rated")
        except DomainError as exc:
            outcomes[ticket_id].append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            unexpected.append(exc)

    for visit in visits:
        start = threading.Barrier(2)
        threads = [threading.Thread(target=rate, args=(visit["id"], level, start))
                   for level in ("satisfied", "unsatisfied")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not unexpected, unexpected
    assert all(sorted(o) == ["already_rated", "rated"] for o in outcomes.values()), outcomes
    with backend.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ratings)).scalar_one() == len(visits)


def test_a_rating_that_loses_on_the_unique_constraint_is_a_conflict(backend: Database, clock: ManualClock) -> None:
    """The other rating commits after this one checked and before it inserted: the UNIQUE ticket_id decides."""
    hall = Hall(backend, clock)
    ticket = hall.serve()
    device = hall.device(1)
    with backend.read() as conn:
        row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket["id"])).mappings().one()
    other = backend.engine.connect()
    if backend.is_sqlite:
        other.execution_options(sqlite_begin="IMMEDIATE")
    transaction = other.begin()
    other.execute(sa.insert(ratings).values(
        office_id=hall.office, ticket_id=ticket["id"], counter_id=row["counter_id"], user_id=row["served_by"],
        service_id=row["service_id"], level="satisfied", score=2, satisfied=True, channel="keypad",
        at=to_utc_naive(clock.now())))
    result: list = []

    def rate() -> None:
        try:
            result.append(hall.ratings.rate_at_counter(device, ticket["id"], "very_satisfied"))
        except BaseException as exc:  # noqa: BLE001
            result.append(exc)

    thread = threading.Thread(target=rate)
    thread.start()
    thread.join(0.5)                   # it waits on the uncommitted row (PostgreSQL) or the write lock (SQLite)
    assert thread.is_alive()
    transaction.commit()
    other.close()
    thread.join(30)
    [outcome] = result
    assert isinstance(outcome, Conflict) and outcome.code == "already_rated", outcome
    assert [r["channel"] for r in hall.stored(ticket["id"])] == ["keypad"]


# --- photos ------------------------------------------------------------------------------------------

def image_bytes(fmt: str, size: tuple[int, int] = (1200, 600), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else "red").save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB"), ("PNG", "P")])
def test_a_photo_is_stored_as_a_small_jpeg(db: Database, clock: ManualClock, fmt: str, mode: str) -> None:
    hall = Hall(db, clock)
    user_id = hall.officers[1].user_id
    saved = hall.ratings.set_photo(hall.admin, user_id, image_bytes(fmt, mode=mode))
    assert saved["content_type"] == "image/jpeg"
    content_type, data, updated_at = hall.ratings.photo(user_id)
    with Image.open(io.BytesIO(data)) as stored:
        assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (PHOTO_PX, PHOTO_PX // 2))
    assert content_type == "image/jpeg" and updated_at == clock.now()
    assert hall.ratings.state(hall.device(1))["officer"]["photo_version"] == int(clock.now().timestamp())


def test_a_small_photo_is_not_enlarged_and_a_new_one_replaces_it(db: Database, clock: ManualClock) -> None:
    hall = Hall(db, clock)
    user_id = hall.officers[1].user_id
    hall.ratings.set_photo(hall.admin, user_id, image_bytes("PNG", (100, 200)))
    clock.advance(minutes=1)
    hall.ratings.set_photo(hall.admin, user_id, image_bytes("JPEG", (300, 300)))
    _, data, updated_at = hall.ratings.photo(user_id)
    assert Image.open(io.BytesIO(data)).size == (300, 300) and updated_at == clock.now()
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(user_photos)).scalar_one() == 1
    hall.ratings.delete_photo(hall.admin, user_id)
    with pytest.raises(NotFound):
        hall.ratings.photo(user_id)
    with pytest.raises(NotFound):
        hall.ratings.delete_photo(hall.admin, user_id)


@pytest.mark.parametrize(("data", "code"), [
    (b"", "not_an_image"),
    (b"hello, I am not a picture", "not_an_image"),
    (image_bytes("JPEG")[:400], "not_an_image"),            # cut short
    (image_bytes("GIF"), "unsupported_image"),
    (image_bytes("BMP", (20, 20)), "unsupported_image"),
    (b"x" * (MAX_PHOTO_BYTES + 1), "photo_too_large"),
])
def test_what_is_not_a_photo(db: Database, clock: ManualClock, data: bytes, code: str) -> None:
    hall = Hall(db, clock)
    with pytest.raises(InvalidInput) as caught:
        hall.ratings.set_photo(hall.admin, hall.officers[1].user_id, data)
    assert caught.value.code == code


def test_an_admin_sets_photos_in_their_own_office_only(db: Database, clock: ManualClock) -> None:
    hall, other = Hall(db, clock), Hall(db, clock, "u")
    with pytest.raises(NotFound):
        hall.ratings.set_photo(hall.admin, other.officers[1].user_id, image_bytes("PNG"))
    with pytest.raises(NotFound):
        hall.ratings.set_photo(hall.admin, 999_999, image_bytes("PNG"))
