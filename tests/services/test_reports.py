"""A day of an office, inserted row by row with explicit times, and its report worked out by hand.

Times are written on the office's clock (Hà Nội, UTC+7). The expected figures below are computed
by hand from those times (waits and service times in tenths of a minute, half up; percentiles by
nearest rank), not by the code under test.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from queue_server.domain.clock import ManualClock, to_utc_naive
from queue_server.domain.errors import InvalidInput
from queue_server.persistence.database import Database
from queue_server.persistence.tables import dossier_steps, dossiers, ratings, report_days, tickets, users
from queue_server.services.reports import ReportService, Tally, _runs, sheets, to_csv
from tests.factories import counter_id, make_office

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = "2026-11-20"            # the reported day; the clock says 2026-11-23 09:00


def at(day: str, clock: str) -> datetime:
    """A time on the office's clock → the stored form (naive UTC)."""
    return to_utc_naive(datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=VN))


class Office:
    """Two services (S1 → A…, S2 → B…), counter 1 takes S1, counter 2 takes both; officers can1, can2."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.id = make_office(db, services_spec=[{"code": "S1", "prefix": "A"}, {"code": "S2", "prefix": "B"}],
                              counters_spec=[(1, ["S1"]), (2, ["S1", "S2"])])
        with db.read() as conn:
            self.service = dict(conn.execute(sa.text("SELECT code, id FROM services WHERE office_id = :o"),
                                             {"o": self.id}).all())
        self.counter = {n: counter_id(db, self.id, n) for n in (1, 2)}
        self.user = {}
        with db.write() as conn:
            for name in ("can1", "can2"):
                self.user[name] = conn.execute(sa.insert(users).values(
                    office_id=self.id, username=name, full_name=f"Cán bộ {name[-1]}", password_hash="x",
                    role="staff", created_at=at(DAY, "07:00:00")).returning(users.c.id)).scalar_one()

    def ticket(self, service: str, number: str, seq: int | None, status: str, issued: str, *, day: str = DAY,
               called: str | None = None, ended: str | None = None, counter: int | None = None,
               officer: str | None = None, queued: str | None = None, origin: int | None = None) -> int:
        """`issued` etc. are clock times on `day`; an issued time with a date ("2026-11-19 23:59:59") is taken as is."""
        def stamp(value: str | None) -> datetime | None:
            if value is None:
                return None
            return at(*value.split(" ")) if " " in value else at(day, value)
        with self.db.write() as conn:
            return conn.execute(sa.insert(tickets).values(
                office_id=self.id, service_id=self.service[service], business_date=date.fromisoformat(day), seq=seq,
                number=number, status=status, counter_id=self.counter.get(counter), served_by=self.user.get(officer),
                session="sang", origin_ticket_id=origin, issued_at=stamp(issued), queued_at=stamp(queued or issued),
                called_at=stamp(called), finished_at=stamp(ended),
            ).returning(tickets.c.id)).scalar_one()

    def rate(self, ticket: int, counter: int, officer: str, service: str, level: str, when: str) -> None:
        score, satisfied = {"very_satisfied": (3, True), "satisfied": (2, True), "unsatisfied": (1, False)}[level]
        with self.db.write() as conn:
            conn.execute(sa.insert(ratings).values(
                office_id=self.id, ticket_id=ticket, counter_id=self.counter[counter], user_id=self.user[officer],
                service_id=self.service[service], level=level, score=score, satisfied=satisfied, channel="tablet",
                at=at(*when.split(" "))))

    def dossier(self, code: int, appointment: str, steps: list[tuple[str, int]], office: bool = True) -> None:
        with self.db.write() as conn:
            did = conn.execute(sa.insert(dossiers).values(
                code=f"000.00.12.H56-251118-{code:04d}", agency_code="000.00.12.H56", received_date=date(2025, 11, 18),
                office_id=self.id if office else None, procedure_name="Chứng thực", owner_name="Nguyễn Văn An",
                received_at=at(*steps[0][0].split(" ")), appointment_at=at(*appointment.split(" ")),
                status=steps[-1][1], updated_at=at(*steps[-1][0].split(" "))).returning(dossiers.c.id)).scalar_one()
            for when, status in steps:
                conn.execute(sa.insert(dossier_steps).values(dossier_id=did, at=at(*when.split(" ")), status=status))


@pytest.fixture
def office(any_db_url: str):  # noqa: ANN201
    db = Database(any_db_url)
    o = Office(db)
    # Service S1 -------------------------------------------------------------------------------
    t1 = o.ticket("S1", "A001", 1, "finished", "08:00:00", called="08:04:00", ended="08:10:00", counter=1,
                  officer="can1")                                                  # wait 4:00, served 6:00
    t2 = o.ticket("S1", "A002", 2, "finished", "08:01:00", called="08:06:30", ended="08:09:00", counter=2,
                  officer="can1")                                                  # wait 5:30, served 2:30
    o.ticket("S1", "A003", 3, "no_show", "08:02:00", called="08:12:10", ended="08:14:00", counter=1,
             officer="can1")                                                       # wait 10:10 → 10.2
    t4 = o.ticket("S1", "A004", 4, "transferred", "08:03:00", called="08:20:00", ended="08:25:00", counter=1,
                  officer="can1")                                                  # wait 17:00, then moved to S2
    o.ticket("S1", "A005", 5, "expired", "09:15:00", ended="23:59:00")             # never called
    o.ticket("S1", "A006", 6, "expired", "06:59:59")          # stored as 23:59:59 UTC the day before; never called
    # Service S2: the transferred copy of A004, then two of its own ---------------------------------
    t6 = o.ticket("S2", "A004", None, "finished", "08:03:00", called="08:31:00", ended="08:40:00", counter=2,
                  officer="can2", origin=t4)                    # queued again at 08:25: wait 6:00, served 9:00
    with o.db.write() as conn:
        conn.execute(sa.update(tickets).where(tickets.c.id == t4).values(transferred_to_id=t6))
    t7 = o.ticket("S2", "B001", 1, "finished", "10:00:00", called="10:00:20.500000", ended="10:12:41", counter=2,
                  officer="can2")                                  # wait 0:20.5 → 0.3, served 12:20.5 → 12.3
    t8 = o.ticket("S2", "B002", 2, "finished", "14:30:00", called="14:45:03", ended="14:50:00", counter=2,
                  officer="can2")                                  # wait 15:03 → 15.1, served 4:57 → 5.0
    # Outside the day: the day before (and rated just after our midnight), and today.
    t10 = o.ticket("S1", "A001", 1, "finished", "08:00:00", day="2026-11-19", called="08:05:00", ended="08:10:00",
                   counter=1, officer="can1")
    o.ticket("S2", "B001", 1, "finished", "08:30:00", day="2026-11-23", called="08:35:00", ended="08:45:00",
             counter=2, officer="can2")                            # today: wait 5:00, served 10:00
    # Ratings, by when they were given -------------------------------------------------------------
    o.rate(t1, 1, "can1", "S1", "very_satisfied", f"{DAY} 08:11:00")
    o.rate(t2, 2, "can1", "S1", "satisfied", f"{DAY} 08:10:00")
    o.rate(t6, 2, "can2", "S2", "unsatisfied", f"{DAY} 08:41:00")
    o.rate(t7, 2, "can2", "S2", "very_satisfied", f"{DAY} 10:13:00")
    o.rate(t8, 2, "can2", "S2", "very_satisfied", "2026-11-21 00:10:00")          # the next day: not counted
    o.rate(t10, 1, "can1", "S1", "unsatisfied", f"{DAY} 00:05:00")                # counted: given on the day
    # Dossiers whose processing ended on the day, and two that did not ---------------------------------
    o.dossier(1, "2026-11-21 17:00:00", [("2026-11-18 09:00:00", 2), (f"{DAY} 10:00:00", 9)])     # early
    o.dossier(2, f"{DAY} 16:00:00", [("2026-11-18 09:00:00", 2), (f"{DAY} 15:00:00", 9)])        # on time
    o.dossier(3, "2026-11-19 17:00:00", [("2026-11-18 09:00:00", 2), (f"{DAY} 09:00:00", 9)])    # late
    o.dossier(4, "2026-11-19 10:00:00", [("2026-11-17 08:00:00", 2), ("2026-11-18 08:00:00", 5),
                                         ("2026-11-19 08:00:00", 4), (f"{DAY} 09:30:00", 9)])    # on time: +24 h
    o.dossier(5, "2026-11-25 10:00:00", [("2026-11-16 08:00:00", 2), ("2026-11-17 08:00:00", 5),
                                         ("2026-11-17 12:00:00", 4), ("2026-11-18 08:00:00", 5),
                                         ("2026-11-18 12:00:00", 4), (f"{DAY} 08:00:00", 9)])    # late: 2 requests
    o.dossier(6, "2026-11-25 10:00:00", [("2026-11-18 09:00:00", 2), ("2026-11-19 16:00:00", 9),
                                         (f"{DAY} 11:00:00", 10)])                       # ended the day before
    o.dossier(7, "2026-11-25 10:00:00", [("2026-11-18 09:00:00", 2), (f"{DAY} 12:00:00", 8)],
              office=False)                                             # no office, a single-office database: early
    o.dossier(8, "2026-11-22 10:00:00", [("2026-11-18 09:00:00", 2), (f"{DAY} 00:30:00", 10)])   # early
    o.dossier(9, "2026-11-25 10:00:00", [("2026-11-18 09:00:00", 2), ("2026-11-21 00:05:00", 9)])  # the next day
    o.dossier(10, f"{DAY} 23:00:00", [("2026-11-18 09:00:00", 2), (f"{DAY} 06:30:00", 9)])       # on time (local day)
    o.dossier(11, "2026-11-25 10:00:00", [("2026-11-18 09:00:00", 2), (f"{DAY} 10:00:00", 4)])   # not ended
    yield o
    db.dispose()


@pytest.fixture
def reports(office: Office, clock: ManualClock) -> ReportService:
    return ReportService(office.db, clock)


def times(mean: float | None, median: float | None, p90: float | None, count: int) -> dict:
    return {"count": count, "mean_min": mean, "median_min": median, "p90_min": p90}


def test_the_day_by_service(office: Office, reports: ReportService) -> None:
    report = reports.summary(office.id, date(2026, 11, 20), date(2026, 11, 20))
    s1, s2 = report["by_service"]
    assert (s1["code"], s1["issued"], s1["called"], s1["served"], s1["no_show"], s1["transferred"]) == \
        ("S1", 6, 4, 2, 1, 1)
    # waits 4.0, 5.5, 10.2, 17.0: mean 36.7/4 = 9.175 → 9.2; median rank 2; p90 rank ⌈3.6⌉ = 4
    assert s1["wait"] == times(9.2, 5.5, 17.0, 4)
    assert s1["service_time"] == times(4.3, 2.5, 6.0, 2)                 # 6.0, 2.5: mean 4.25 → 4.3
    assert s1["ratings"] == {"count": 3, "satisfied": 2, "satisfied_pct": 66.7}
    # S2: the copy of A004 is served here but issued at S1; its wait counts from the transfer (08:25)
    assert (s2["code"], s2["issued"], s2["called"], s2["served"], s2["no_show"], s2["transferred"]) == \
        ("S2", 2, 3, 3, 0, 0)
    assert s2["wait"] == times(7.1, 6.0, 15.1, 3)                        # 6.0, 0.3, 15.1: 21.4/3 = 7.13
    assert s2["service_time"] == times(8.8, 9.0, 12.3, 3)                # 9.0, 12.3, 5.0: 26.3/3 = 8.77
    assert s2["ratings"] == {"count": 2, "satisfied": 1, "satisfied_pct": 50.0}
    totals = report["totals"]
    assert (totals["issued"], totals["called"], totals["served"], totals["no_show"], totals["transferred"]) == \
        (8, 7, 5, 1, 1)
    assert totals["wait"] == times(8.3, 6.0, 17.0, 7)                   # 58.1/7 = 8.3; rank 4 → 6.0; rank 7
    assert totals["service_time"] == times(7.0, 6.0, 12.3, 5)           # 34.8/5 = 6.96 → 7.0; rank 3; rank 5


def test_the_day_by_counter_and_officer(office: Office, reports: ReportService) -> None:
    report = reports.summary(office.id, date(2026, 11, 20), date(2026, 11, 20))
    c1, c2 = report["by_counter"]
    assert (c1["number"], c1["issued"], c1["called"], c1["served"], c1["no_show"], c1["transferred"]) == \
        (1, None, 3, 1, 1, 1)
    assert c1["wait"] == times(10.4, 10.2, 17.0, 3)                      # 4.0, 10.2, 17.0
    assert c1["service_time"] == times(6.0, 6.0, 6.0, 1)
    assert c1["ratings"] == {"count": 2, "satisfied": 1, "satisfied_pct": 50.0}
    assert (c2["number"], c2["called"], c2["served"], c2["no_show"], c2["transferred"]) == (2, 4, 4, 0, 0)
    assert c2["wait"] == times(6.7, 5.5, 15.1, 4)                        # 0.3, 5.5, 6.0, 15.1: 26.9/4 = 6.725
    assert c2["service_time"] == times(7.2, 5.0, 12.3, 4)               # 2.5, 5.0, 9.0, 12.3: 28.8/4
    assert c2["ratings"] == {"count": 3, "satisfied": 2, "satisfied_pct": 66.7}
    can1, can2 = report["by_officer"]
    assert (can1["username"], can1["full_name"], can1["called"], can1["served"], can1["no_show"],
            can1["transferred"]) == ("can1", "Cán bộ 1", 4, 2, 1, 1)
    assert can1["wait"] == times(9.2, 5.5, 17.0, 4)
    assert can1["service_time"] == times(4.3, 2.5, 6.0, 2)
    assert can1["ratings"] == {"count": 3, "satisfied": 2, "satisfied_pct": 66.7}
    assert (can2["username"], can2["called"], can2["served"]) == ("can2", 3, 3)
    assert can2["wait"] == times(7.1, 6.0, 15.1, 3)
    assert can2["ratings"] == {"count": 2, "satisfied": 1, "satisfied_pct": 50.0}


def test_hours_waits_satisfaction_and_dossiers(office: Office, reports: ReportService) -> None:
    report = reports.summary(office.id, date(2026, 11, 20), date(2026, 11, 20))
    assert {h["hour"]: h["issued"] for h in report["hours"] if h["issued"]} == {6: 1, 8: 4, 9: 1, 10: 1, 14: 1}
    assert [(b["from_min"], b["count"], b["pct"]) for b in report["wait_distribution"]] == [
        (0, 2, 28.6), (5, 2, 28.6), (10, 1, 14.3), (15, 2, 28.6), (20, 0, 0.0), (30, 0, 0.0), (45, 0, 0.0),
        (60, 0, 0.0)]
    sat = report["satisfaction"]
    assert (sat["count"], sat["satisfied"], sat["satisfied_pct"]) == (5, 3, 60.0)
    assert [(lv["level"], lv["name_vi"], lv["count"], lv["pct"]) for lv in sat["levels"]] == [
        ("very_satisfied", "Rất hài lòng", 2, 40.0), ("satisfied", "Hài lòng", 1, 20.0),
        ("unsatisfied", "Không hài lòng", 2, 40.0)]
    assert [(c["number"], c["levels"], c["count"], c["satisfied_pct"]) for c in sat["by_counter"]] == [
        (1, {"very_satisfied": 1, "satisfied": 0, "unsatisfied": 1}, 2, 50.0),
        (2, {"very_satisfied": 1, "satisfied": 1, "unsatisfied": 1}, 3, 66.7)]
    assert report["dossiers"] == {"basis": "finished_in_range", "total": 8, "early": 3, "on_time": 3, "late": 2,
                                  "early_pct": 37.5, "on_time_pct": 37.5, "late_pct": 25.0,
                                  "in_time": 6, "in_time_pct": 75.0}


def test_today_is_counted_afresh_and_changes_to_past_days_are_noticed(office: Office, reports: ReportService) -> None:
    statements: list[str] = []
    sa.event.listen(office.db.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: statements.append(statement))
    first = reports.summary(office.id, date(2026, 11, 20), date(2026, 11, 23))
    counted = sum("s, c, u, d" in s for s in statements)
    again = reports.summary(office.id, date(2026, 11, 20), date(2026, 11, 23))
    assert again == first
    assert sum("s, c, u, d" in s for s in statements) - counted == counted // 2   # only today again
    s2 = first["by_service"][1]
    assert (s2["issued"], s2["served"], s2["service_time"]["count"]) == (3, 4, 4)   # today's B001 as well
    with office.db.write() as conn:     # a closed day changes (as when a ticket left called expires)
        conn.execute(sa.update(tickets).where(tickets.c.number == "B002", tickets.c.business_date == date(2026, 11, 20))
                     .values(status="no_show"))
    changed = reports.summary(office.id, date(2026, 11, 20), date(2026, 11, 23))["by_service"][1]
    assert (changed["served"], changed["no_show"], changed["service_time"]["count"]) == (3, 1, 3)
    # An integrator adds two supplement requests to an early dossier's past: it is late now.
    assert (first["dossiers"]["early"], first["dossiers"]["late"]) == (4, 2)     # dossier 9 ended on the 21st
    with office.db.write() as conn:
        dossier = conn.execute(sa.select(dossiers.c.id).where(dossiers.c.code.like("%-0001"))).scalar_one()
        for when, status in (("2026-11-18 10:00:00", 5), ("2026-11-18 11:00:00", 4), ("2026-11-18 12:00:00", 5),
                             ("2026-11-18 13:00:00", 4)):
            conn.execute(sa.insert(dossier_steps).values(dossier_id=dossier, at=at(*when.split(" ")), status=status))
    later = reports.summary(office.id, date(2026, 11, 20), date(2026, 11, 23))["dossiers"]
    assert (later["early"], later["late"], later["total"]) == (3, 3, 9)


def test_an_empty_range_and_a_bad_one(office: Office, reports: ReportService) -> None:
    empty = reports.summary(office.id, date(2026, 10, 1), date(2026, 10, 31))
    assert empty["totals"]["issued"] == 0 and empty["totals"]["wait"] == times(None, None, None, 0)
    assert empty["by_counter"] == [] and empty["by_officer"] == []
    assert empty["satisfaction"]["satisfied_pct"] is None and empty["dossiers"]["in_time_pct"] is None
    assert [s["issued"] for s in empty["by_service"]] == [0, 0]
    assert sum(h["issued"] for h in empty["hours"]) == 0
    assert reports.period(office.id, None, None) == (date(2026, 11, 23), date(2026, 11, 23))
    with pytest.raises(InvalidInput):
        reports.period(office.id, "2026-11-30", "2026-11-01")
    with pytest.raises(InvalidInput):
        reports.summary(office.id, date(2025, 1, 1), date(2026, 1, 2))   # 367 days


def test_exports_carry_the_summary_figures(office: Office, reports: ReportService) -> None:
    report = reports.summary(office.id, date(2026, 11, 20), date(2026, 11, 20))
    tables = {sheet.title: sheet for sheet in sheets(report)}
    assert list(tables) == ["Tổng hợp", "Theo dịch vụ", "Theo quầy", "Theo cán bộ", "Theo giờ", "Thời gian chờ",
                            "Đánh giá", "Đánh giá theo quầy", "Hồ sơ"]
    service = tables["Theo dịch vụ"]
    assert service.headers[:8] == ["Mã dịch vụ", "Dịch vụ", "Số phiếu cấp", "Đã gọi", "Đã phục vụ", "Vắng mặt",
                                   "Chuyển dịch vụ", "Chờ TB (phút)"]
    assert service.rows[0] == ["S1", "Dịch vụ S1", 6, 4, 2, 1, 1, 9.2, 5.5, 17.0, 4.3, 2.5, 6.0, 3, 66.7]
    assert tables["Hồ sơ"].rows[0] == ["Trước hạn", 3, 37.5]
    data = to_csv(report)
    assert data.startswith(b"\xef\xbb\xbf") and "Chờ trung vị (phút)".encode() in data


# Stored days ------------------------------------------------------------------------------------------
RANGE = (date(2026, 11, 19), date(2026, 11, 23))      # two days with tickets, a weekend, and today


def stored_days(db: Database) -> dict[date, datetime]:
    with db.read() as conn:
        return {row.business_date: row.computed_at for row in conn.execute(
            sa.select(report_days.c.business_date, report_days.c.computed_at))}


def test_a_tally_survives_json_exactly(office: Office, reports: ReportService) -> None:
    with office.db.read() as conn:
        days = reports._count(conn, reports_office(office, conn), date(2026, 11, 19), date(2026, 11, 23))
    assert days[date(2026, 11, 20)].waits and days[date(2026, 11, 20)].ratings
    for tally in days.values():
        assert Tally.from_json(json.loads(json.dumps(tally.to_json()))) == tally
    assert Tally.total(days.values()) == days[date(2026, 11, 19)] + days[date(2026, 11, 20)] + \
        days[date(2026, 11, 21)] + days[date(2026, 11, 22)] + days[date(2026, 11, 23)]


def reports_office(office: Office, conn: sa.Connection):  # noqa: ANN201
    from queue_server.services.offices import get_office
    return get_office(conn, office.id)


def test_stored_days_give_the_same_report_as_counting(office: Office, reports: ReportService,
                                                      clock: ManualClock) -> None:
    cold = reports.summary(office.id, *RANGE)                         # counts the closed days and stores them
    assert set(stored_days(office.db)) == {date(2026, 11, d) for d in (19, 20, 21, 22)}   # never today
    fresh = ReportService(office.db, clock)                          # a new process: nothing in memory
    assert fresh.summary(office.id, *RANGE) == cold
    with office.db.write() as conn:
        conn.execute(sa.delete(report_days))
    assert ReportService(office.db, clock).summary(office.id, *RANGE) == cold


def test_summarising_stores_closed_days_only(office: Office, reports: ReportService, clock: ManualClock) -> None:
    assert reports.office_dates() == {office.id: date(2026, 11, 23)}
    assert reports.summarise_closed_days(office.id, days=5) == 5
    assert set(stored_days(office.db)) == {date(2026, 11, d) for d in (18, 19, 20, 21, 22)}
    assert reports.summarise_closed_days(office.id, days=5) == 0      # nothing stale: nothing counted again
    statements: list[str] = []
    sa.event.listen(office.db.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: statements.append(statement))
    written = stored_days(office.db)
    clock.advance(hours=1)
    fresh = ReportService(office.db, clock)
    report = fresh.summary(office.id, *RANGE)
    assert stored_days(office.db) == written                         # read, not counted and rewritten
    assert sum("s, c, u, d" in s for s in statements) == 2     # today's two queries, nothing else
    assert report["totals"]["issued"] == 10 and report["by_service"][1]["served"] == 4


def test_a_change_on_a_stored_day_makes_it_stale(office: Office, reports: ReportService, clock: ManualClock) -> None:
    before = reports.summary(office.id, *RANGE)
    written = stored_days(office.db)
    with office.db.write() as conn:     # a ticket of the 20th changes status
        conn.execute(sa.update(tickets).where(tickets.c.number == "B002", tickets.c.business_date == date(2026, 11, 20))
                     .values(status="no_show"))
    clock.advance(minutes=5)
    fresh = ReportService(office.db, clock)
    changed = fresh.summary(office.id, *RANGE)["by_service"][1]
    assert (before["by_service"][1]["served"], changed["served"], changed["no_show"]) == (4, 3, 1)
    rewritten = stored_days(office.db)
    assert rewritten[date(2026, 11, 20)] > written[date(2026, 11, 20)]
    assert {d: at for d, at in rewritten.items() if d != date(2026, 11, 20)} == \
        {d: at for d, at in written.items() if d != date(2026, 11, 20)}
    # A rating given on the 21st (for the 20th's A003, unrated so far) reaches a stored day too.
    with office.db.read() as conn:
        a003 = conn.execute(sa.select(tickets.c.id).where(tickets.c.number == "A003",
                                                         tickets.c.business_date == date(2026, 11, 20))).scalar_one()
    assert before["satisfaction"]["count"] == 6
    office.rate(a003, 1, "can1", "S1", "satisfied", "2026-11-21 09:00:00")
    clock.advance(minutes=5)
    after = ReportService(office.db, clock).summary(office.id, *RANGE)
    assert after["satisfaction"]["count"] == 7
    assert stored_days(office.db)[date(2026, 11, 21)] > written[date(2026, 11, 21)]
    assert after == ReportService(office.db, clock).summary(office.id, *RANGE)      # now all stored again


def test_missing_days_are_counted_in_runs_with_pauses_between(office: Office, reports: ReportService) -> None:
    assert _runs([date(2026, 11, d) for d in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13)], 7) == [
        (date(2026, 11, 1), date(2026, 11, 3)), (date(2026, 11, 5), date(2026, 11, 11)),
        (date(2026, 11, 12), date(2026, 11, 13))]
    pauses: list[None] = []
    assert reports.summarise_closed_days(office.id, days=10, pause=lambda: pauses.append(None)) == 10
    assert len(pauses) == 1                                           # two runs of at most 7 days
