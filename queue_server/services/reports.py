"""Reports for a range of business dates: tickets, waits, service times, busy hours, satisfaction and
dossiers on time; and the same figures as CSV and XLSX sheets.

How the figures are counted (the report page says the same):
- issued: tickets taken at the kiosk (`seq` set), under the service they were taken for. A transfer
  ends the ticket as "transferred" and queues a copy (no `seq`) at the other service; the copy is
  not issued again, and its wait, call and service count where it was served.
- wait: from joining the queue to the call, for every called ticket; a copy joins its new queue at
  the transfer (when the previous visit ended), not at the kiosk. Service time: from the call to
  the end, for finished tickets. Both are measured and summarised as `domain.stats` says (tenths of
  a minute; nearest-rank percentiles).
- busiest hours: tickets issued per hour of the day, on the office's clock.
- satisfaction: ratings given during the range, under the counter, officer and service they name.
- dossiers: the office's dossiers whose processing ended within the range (the first "Đã xử lý
  xong", else "Đã trả kết quả", else stopped, refused or withdrawn), bucketed by `deadline_bucket`.

Speed. SQLite has no hash aggregation: each GROUP BY sorts its rows, about half a second per million
tickets on the project's two-core machines, so a 90-day report of a busy centre costs two such sorts.
Days before today change only by status (a ticket left called expires the next morning), so each closed
day's tally is stored in `report_days` with the day's fingerprint (its tickets per status with the sum
of their ids, the count and id sum of the ratings given on it, which the covering indexes answer without
reading a row), and reused while the fingerprint matches; days missing or stale are counted, a run of
days per query, and stored again. The background job stores each day once it closes
(`summarise_closed_days`), so a report only reads them; the sum of a range's closed days is also kept in
memory while their fingerprints hold. Today is counted afresh on every call. Dossiers (an integrator may
still add steps to old ones) are read on every call too, but their buckets are remembered for rows that
have not changed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import stats
from ..domain.clock import Clock, business_date, from_utc_naive, to_utc_naive
from ..domain.dossiers import (
    BUCKET_NAMES,
    EARLY,
    ENDED,
    LATE,
    ON_TIME,
    SUPPLEMENT,
    Step,
    deadline_bucket,
    end_of_processing,
)
from ..domain.ratings import satisfaction_rate, scale_of
from ..persistence.database import Database
from ..persistence.tables import (
    counters,
    dossier_steps,
    dossiers,
    offices,
    ratings,
    report_days,
    services,
    tickets,
    users,
)
from .offices import Office, get_office

FINISHED, NO_SHOW, TRANSFERRED = "finished", "no_show", "transferred"
BUCKETS = {EARLY: "early", ON_TIME: "on_time", LATE: "late"}
CACHED_RANGES = 16
TALLY_FORMAT = 2          # part of every stored day's fingerprint: a new Tally layout makes old rows stale
RUN_DAYS = 7             # missing days counted per query: a backfill yields (`pause`) between runs
UNION_DAYS = 100          # per-day aggregates joined into one statement (SQLite allows 500)
STOPPED = tuple(s for s in ENDED if s not in (9, 10))     # stopped, refused, withdrawn
Cell = tuple[int, int | None, int | None]                 # (service_id, counter_id, user_id)


@dataclass
class Tally:
    """What some business days add up to: mergeable counts and histograms, no tickets."""
    counts: dict[tuple, int] = field(default_factory=dict)      # cell + (status, issued?) → tickets
    waits: dict[Cell, list[int]] = field(default_factory=dict)  # cell → histogram of waits (tenths of a minute)
    serves: dict[Cell, list[int]] = field(default_factory=dict)  # cell → histogram of service times
    hours: list[int] = field(default_factory=lambda: [0] * 24)  # tickets issued per local hour
    ratings: dict[tuple, int] = field(default_factory=dict)     # (service, counter, user, level, score, satisfied)

    def __add__(self, other: Tally) -> Tally:
        return Tally.total([self, other])

    @staticmethod
    def total(tallies: Iterable[Tally]) -> Tally:
        """The sum of many tallies at once (each histogram column summed once, not once per addition)."""
        parts = list(tallies)
        counts: dict[tuple, int] = {}
        rated: dict[tuple, int] = {}
        waits: dict[Cell, list] = {}
        serves: dict[Cell, list] = {}
        for part in parts:
            stats.merge_counts(counts, part.counts)
            stats.merge_counts(rated, part.ratings)
            for cell, histogram in part.waits.items():
                waits.setdefault(cell, []).append(histogram)
            for cell, histogram in part.serves.items():
                serves.setdefault(cell, []).append(histogram)
        return Tally(counts=counts, waits={cell: stats.add(h) for cell, h in waits.items()},
                     serves={cell: stats.add(h) for cell, h in serves.items()},
                     hours=[sum(column) for column in zip(*(p.hours for p in parts), strict=True)] if parts
                     else [0] * 24,
                     ratings=rated)

    def to_json(self) -> dict:
        """JSON-safe and exact: `Tally.from_json(t.to_json()) == t`. Histograms stay dense lists: JSON
        parses a list of small integers several times faster than the same counts as (value, count) pairs."""
        return {"counts": [[*key, n] for key, n in self.counts.items()],
                "waits": [[*cell, h] for cell, h in self.waits.items()],
                "serves": [[*cell, h] for cell, h in self.serves.items()],
                "hours": list(self.hours),
                "ratings": [[*key, n] for key, n in self.ratings.items()]}

    @classmethod
    def from_json(cls, data: dict) -> Tally:
        return cls(counts={tuple(row[:-1]): row[-1] for row in data["counts"]},
                   waits={tuple(row[:3]): row[3] for row in data["waits"]},
                   serves={tuple(row[:3]): row[3] for row in data["serves"]},
                   hours=list(data["hours"]),
                   ratings={tuple(row[:-1]): row[-1] for row in data["ratings"]})


class _Sql:
    """The few expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.sqlite = db.is_sqlite

    def tenths(self, start: sa.ColumnElement, end: sa.ColumnElement) -> sa.ColumnElement:
        """Tenths of a minute from start to end, half up (whole milliseconds first: both keep µs)."""
        if self.sqlite:
            ms = sa.func.max(sa.cast(sa.func.round((sa.func.julianday(end) - sa.func.julianday(start)) * 86_400_000),
                                     sa.Integer), 0)
        else:
            # date_part gives a double; EXTRACT a numeric, whose arithmetic is several times slower
            ms = sa.func.greatest(sa.cast(sa.func.round(sa.func.date_part("epoch", end - start) * 1000), sa.BigInteger),
                                  0)
        return (ms + stats.TENTH_MS // 2) // stats.TENTH_MS

    def hour_key(self, column: sa.ColumnElement, exact_hours: bool) -> sa.ColumnElement:
        """The stored (UTC) instant's hour 'HH', or its minute 'YYYY-MM-DD HH:MM' when the office's
        offset from UTC is not the same whole number of hours all through the range."""
        if self.sqlite:
            return sa.func.substr(column, 12, 2) if exact_hours else sa.func.substr(column, 1, 16)
        return sa.func.to_char(column, "HH24" if exact_hours else "YYYY-MM-DD HH24:MI")

    def raw(self, column: sa.ColumnElement) -> sa.ColumnElement:
        """A date or time read as the driver gives it, without SQLAlchemy's per-row parsing."""
        return sa.type_coerce(column, sa.String) if self.sqlite else column


def _instant(value: str | datetime) -> datetime:
    """A stored instant as read through `_Sql.raw` → aware UTC."""
    return from_utc_naive(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _fixed_offset(zone: ZoneInfo, start: date, end: date) -> timedelta | None:
    """The zone's offset from UTC when it stays the same from a year before the range to a year after
    (Việt Nam's always does: no daylight saving), else None."""
    offsets = {zone.utcoffset(datetime.combine(start + timedelta(days=i), datetime.min.time()))
               for i in range(-366, (end - start).days + 367)}
    return offsets.pop() if len(offsets) == 1 else None


def _local_clock(offset: timedelta | None, zone: ZoneInfo) -> Callable[[str | datetime], datetime]:
    """Stored instants → the office's wall-clock time, for `deadline_bucket`'s "same day". With a fixed
    offset a naive local time by adding it: a third of the cost of `astimezone` over thousands of
    dossiers, and as comparable, since every time handed over is made the same way."""
    if offset is not None:
        return lambda value: (datetime.fromisoformat(value) if isinstance(value, str) else value) + offset
    return lambda value: _instant(value).astimezone(zone)


class ReportService:
    def __init__(self, db: Database, clock: Clock, cached_ranges: int = CACHED_RANGES) -> None:
        self.db = db
        self.clock = clock
        self.sql = _Sql(db)
        self._tallies: OrderedDict[tuple, tuple[tuple, Tally]] = OrderedDict()    # closed days: fingerprint, tally
        self._buckets: OrderedDict[tuple, dict[str, int]] = OrderedDict()        # dossier rows → their buckets
        self._cached_ranges = cached_ranges
        self._lock = threading.Lock()

    # public calls ------------------------------------------------------------------------------
    def period(self, office_id: int, start_text: str | None, end_text: str | None) -> tuple[date, date]:
        """The range a request asks for, checked; today on the office's clock when none is given."""
        with self.db.read() as conn:
            office = get_office(conn, office_id)
        return stats.report_range(start_text, end_text, business_date(self.clock.now(), office.timezone))

    def summary(self, office_id: int, start: date, end: date) -> dict:
        """Everything the report page shows for business dates start..end, both inclusive."""
        stats.report_range(start.isoformat(), end.isoformat(), start)   # the limits a request has
        now = self.clock.now()
        with self.db.read() as conn:
            if self.db.is_postgres:     # compiling these one-off queries costs PostgreSQL more than running them
                conn.exec_driver_sql("SET LOCAL jit = off")
            office = get_office(conn, office_id)
            tally, counted = self._tally(conn, office, start, end, business_date(now, office.timezone))
            names = _names(conn, office.id, _officers(tally))
            buckets = self._dossiers(conn, office, start, end, now)
        self._store(office.id, counted)
        return _assemble(office, start, end, now, tally, names, buckets)

    def summarise_closed_days(self, office_id: int, days: int = 90, pause: Callable[[], None] | None = None) -> int:
        """Counts and stores the office's last `days` closed days that have no current stored tally, so
        that the first report of the day (in any process) only reads them. Returns the days stored.
        `pause` runs between runs of RUN_DAYS counted days: under gevent the first backfill (about a
        tenth of a second per busy day) would otherwise hold the worker for seconds at a stretch."""
        now = self.clock.now()
        with self.db.read() as conn:
            office = get_office(conn, office_id)
            end = business_date(now, office.timezone) - timedelta(days=1)
            _, counted = self._closed_days(conn, office, end - timedelta(days=days - 1), end, with_payload=False,
                                           pause=pause)
        self._store(office.id, counted)
        return len(counted)

    def office_dates(self) -> dict[int, date]:
        """Today on each office's clock: when it changes, an office has a newly closed day to summarise."""
        now = self.clock.now()
        with self.db.read() as conn:
            return {row.id: business_date(now, row.timezone)
                    for row in conn.execute(sa.select(offices.c.id, offices.c.timezone))}

    # tickets and ratings -------------------------------------------------------------------------
    def _tally(self, conn: Connection, office: Office, start: date, end: date,
               today: date) -> tuple[Tally, dict[date, tuple[str, Tally]]]:
        """Closed days (before today) from the range cache, else from the stored days, counting only the
        days missing or stale; today always now. Also returns the days counted, for `_store`."""
        closed_end = min(end, today - timedelta(days=1))
        total = Tally()
        counted: dict[date, tuple[str, Tally]] = {}
        if start <= closed_end:
            key = (office.id, start, closed_end)
            prints = self._fingerprints(conn, office, start, closed_end)
            with self._lock:
                hit = self._tallies.get(key)
            if hit is not None and hit[0] == prints:
                total = hit[1]
            else:
                per_day, counted = self._closed_days(conn, office, start, closed_end, prints=prints)
                total = Tally.total(per_day.values())
            with self._lock:
                self._remember(self._tallies, key, (prints, total))
        open_start = max(start, closed_end + timedelta(days=1))
        if open_start <= end:
            total = Tally.total([total, *self._count(conn, office, open_start, end).values()])
        return total, counted

    def _closed_days(self, conn: Connection, office: Office, start: date, end: date, with_payload: bool = True,
                     prints: tuple[tuple[date, str], ...] | None = None, pause: Callable[[], None] | None = None,
                     ) -> tuple[dict[date, Tally], dict[date, tuple[str, Tally]]]:
        """Each closed day's tally: stored while its fingerprint holds, else counted, a run of missing
        days per query. Fingerprints are read before counting: a change in between leaves a stored tally
        newer than its fingerprint, which the next call finds stale, never the other way round."""
        if prints is None:
            prints = self._fingerprints(conn, office, start, end)
        d = report_days.c
        stored = {_day(day): (fingerprint, payload) for day, fingerprint, payload in conn.execute(
            sa.select(self.sql.raw(d.business_date), d.fingerprint, d.payload if with_payload else sa.null())
            .where(d.office_id == office.id, d.business_date.between(start, end)))}
        per_day: dict[date, Tally] = {}
        missing: list[date] = []
        for day, fingerprint in prints:
            row = stored.get(day)
            if row is not None and row[0] == fingerprint:
                if with_payload:
                    per_day[day] = Tally.from_json(row[1])
            else:
                missing.append(day)
        wanted = dict(prints)
        counted: dict[date, tuple[str, Tally]] = {}
        for i, (first, last) in enumerate(_runs(missing, RUN_DAYS)):
            if i and pause is not None:
                pause()
            for day, tally in self._count(conn, office, first, last).items():
                per_day[day] = tally
                counted[day] = (wanted[day], tally)
        return per_day, counted

    def _store(self, office_id: int, counted: dict[date, tuple[str, Tally]]) -> None:
        """Writes counted days back (insert or replace) for the next report and the next process."""
        if not counted:
            return
        from sqlalchemy.dialects import postgresql, sqlite
        insert = (sqlite if self.db.is_sqlite else postgresql).insert(report_days)
        stmt = insert.on_conflict_do_update(
            index_elements=[report_days.c.office_id, report_days.c.business_date],
            set_={name: insert.excluded[name] for name in ("payload", "fingerprint", "computed_at")})
        computed_at = to_utc_naive(self.clock.now())
        with self.db.write() as conn:
            conn.execute(stmt, [{"office_id": office_id, "business_date": day, "payload": tally.to_json(),
                                 "fingerprint": fingerprint, "computed_at": computed_at}
                                for day, (fingerprint, tally) in sorted(counted.items())])

    def _fingerprints(self, conn: Connection, office: Office, start: date, end: date) -> tuple[tuple[date, str], ...]:
        """Each day's fingerprint: changes when a ticket of the day is added, removed or changes status, or
        a rating given on it is added or removed (and with the office's time zone, which moves the day).
        Tickets: one GROUP BY in the order of the (office, date, status, …) index; ratings: one range
        count per day over the (office, at) index, all in one statement. Neither reads a table row."""
        t = tickets.c
        by_day: dict[date, list] = {}
        for day, status, n, ids in conn.execute(
                sa.select(self.sql.raw(t.business_date), t.status, sa.func.count(), sa.func.sum(t.id))
                .where(t.office_id == office.id, t.business_date.between(start, end))
                .group_by(t.business_date, t.status)):
            by_day.setdefault(_day(day), []).append((status, n, int(ids)))
        r = ratings.c
        rated = {day: (n, int(ids or 0)) for day, n, ids in self._per_day(
            conn, office, start, end, lambda begin, finish: sa.select(sa.func.count(), sa.func.sum(r.id))
            .where(r.office_id == office.id, r.at >= begin, r.at < finish))}
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        return tuple((day, hashlib.sha256(repr((TALLY_FORMAT, office.timezone, by_day.get(day, []),
                                                rated.get(day))).encode()).hexdigest()) for day in days)

    def _per_day(self, conn: Connection, office: Office, start: date, end: date,
                 select: Callable[[datetime, datetime], sa.Select]) -> list[sa.Row]:
        """`select(begin, finish)` for each of the office's days start..end, the day first in each row: one
        statement (UNION ALL) per UNION_DAYS days, each part an index range of that day alone."""
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        rows: list[sa.Row] = []
        for i in range(0, len(days), UNION_DAYS):
            parts = [select(*_bounds(office, day, day)).add_columns(sa.literal(day.isoformat(), sa.String).label("day"))
                     for day in days[i:i + UNION_DAYS]]
            statement = parts[0] if len(parts) == 1 else sa.union_all(*parts)
            rows.extend((_day(row[-1]), *row[:-1]) for row in conn.execute(statement))
        return rows

    def _count(self, conn: Connection, office: Office, start: date, end: date) -> dict[date, Tally]:
        """Each day's tally, every day of start..end present (empty days too); the queries group by the
        business date as well, so one query counts a run of days."""
        t = tickets.c
        mine = sa.and_(t.office_id == office.id, t.business_date.between(start, end))
        cell = (t.service_id.label("s"), t.counter_id.label("c"), t.served_by.label("u"))
        issued = t.seq.is_not(None).label("i")
        day = self.sql.raw(t.business_date).label("d")
        tallies = {start + timedelta(days=i): Tally() for i in range((end - start).days + 1)}

        # 1. Statuses, and the service time of finished tickets: one sort for both.
        serve = sa.case((sa.and_(t.status == FINISHED, t.called_at.is_not(None)),
                         self.sql.tenths(t.called_at, t.finished_at))).label("v")
        serves: dict[date, dict[Cell, list[tuple[int, int]]]] = {}
        for s, c, u, status, was_issued, tenths, d, n in conn.execute(
                sa.select(*cell, t.status.label("st"), issued, serve, day, sa.func.count()).where(mine)
                .group_by(*_labels("v", "st", "i", "s", "c", "u", "d"))):
            d = _day(d)
            counts = tallies[d].counts
            key = (s, c, u, status, bool(was_issued))
            counts[key] = counts.get(key, 0) + n
            if tenths is not None:
                serves.setdefault(d, {}).setdefault((s, c, u), []).append((tenths, n))
        for d, cells in serves.items():
            tallies[d].serves = {c: stats.from_pairs(p) for c, p in cells.items()}

        # 2. Waits of called tickets, and the hour each issued ticket was taken: one sort for both.
        before = tickets.alias("before")
        handed_over = (sa.select(before.c.finished_at)
                       .where(before.c.office_id == t.office_id, before.c.business_date == t.business_date,
                              before.c.number == t.number, before.c.transferred_to_id == t.id)
                       .limit(1).scalar_subquery())
        queued = sa.case((t.seq.is_(None), sa.func.coalesce(handed_over, t.queued_at)), else_=t.queued_at)
        wait = sa.case((t.called_at.is_not(None), self.sql.tenths(queued, t.called_at))).label("w")
        offset = _fixed_offset(ZoneInfo(office.timezone), start, end)
        steady = None if offset is None or offset.total_seconds() % 3600 else int(offset.total_seconds() // 3600)
        hour = sa.case((t.seq.is_not(None), self.sql.hour_key(t.issued_at, steady is not None))).label("h")
        waits: dict[date, dict[Cell, list[tuple[int, int]]]] = {}
        hours: dict[date, dict[str, int]] = {}
        for s, c, u, tenths, hour_key, d, n in conn.execute(
                sa.select(*cell, wait, hour, day, sa.func.count()).where(mine)
                .group_by(*_labels("w", "h", "s", "c", "u", "d"))):
            d = _day(d)
            if tenths is not None:
                waits.setdefault(d, {}).setdefault((s, c, u), []).append((tenths, n))
            if hour_key is not None:
                day_hours = hours.setdefault(d, {})
                day_hours[hour_key] = day_hours.get(hour_key, 0) + n
        for d, cells in waits.items():
            tallies[d].waits = {c: stats.from_pairs(p) for c, p in cells.items()}
        for d, day_hours in hours.items():
            if steady is not None:
                for utc_hour, n in day_hours.items():
                    tallies[d].hours[(int(utc_hour) + steady) % 24] += n
            else:
                tallies[d].hours = stats.local_hours(
                    ((from_utc_naive(datetime.fromisoformat(m)), n) for m, n in day_hours.items()), office.timezone)

        # 3. Ratings given during each day: a small GROUP BY per day, all in one statement.
        r = ratings.c
        key_columns = (r.service_id, r.counter_id, r.user_id, r.level, r.score, r.satisfied)
        for d, s, c, u, level, score, satisfied, n in self._per_day(
                conn, office, start, end, lambda begin, finish: sa.select(*key_columns, sa.func.count())
                .where(r.office_id == office.id, r.at >= begin, r.at < finish).group_by(*key_columns)):
            key = (s, c, u, level, score, bool(satisfied))
            rated = tallies[d].ratings
            rated[key] = rated.get(key, 0) + n
        return tallies

    # dossiers ------------------------------------------------------------------------------------
    def _dossiers(self, conn: Connection, office: Office, start: date, end: date, now: datetime) -> dict[str, int]:
        """Trước hạn / Đúng hạn / Quá hạn of the office's dossiers whose processing ended in the range.

        The database gives each candidate's first "xử lý xong", first "trả kết quả" and first stop:
        all `deadline_bucket` needs unless the dossier waited for a supplement, whose full history
        is then read. Times go to `deadline_bucket` on the office's clock, so a day is the office's day.
        """
        d, s = dossiers.c, dossier_steps.c
        begin, finish = _bounds(office, start, end)
        ours = d.office_id == office.id
        if conn.execute(sa.select(sa.func.count()).select_from(offices)).scalar_one() == 1:
            ours = sa.or_(ours, d.office_id.is_(None))   # a single office owns dossiers filed without one

        def first(*statuses: int) -> sa.ColumnElement:
            return self.sql.raw(sa.func.min(sa.case((s.status.in_(statuses), s.at))))
        ended_in_range = sa.select(s.dossier_id).where(s.status.in_(ENDED), s.at >= begin, s.at < finish)
        rows = conn.execute(
            sa.select(d.id, self.sql.raw(d.appointment_at), first(9), first(10), first(*STOPPED),
                      sa.func.count(sa.case((s.status == SUPPLEMENT, 1))), sa.func.count(), sa.func.sum(s.id))
            .join(dossier_steps, s.dossier_id == d.id).where(ours, d.id.in_(ended_in_range))
            .group_by(d.id, d.appointment_at)).all()
        # Steps are only ever added, so each row's step count and id sum stand for its whole history:
        # the same rows give the same buckets (`now` plays no part once a dossier has ended).
        key = (office.id, office.timezone, begin, finish, len(rows), hash(tuple(tuple(row) for row in rows)))
        with self._lock:
            known = self._buckets.get(key)
        if known is not None:
            return dict(known)
        zone = ZoneInfo(office.timezone)
        local = _local_clock(_fixed_offset(zone, start, end), zone)
        local_now, begin_local, finish_local = (local(x) for x in (to_utc_naive(now), begin, finish))
        buckets = dict.fromkeys(BUCKETS, 0)
        full: dict[int, str | datetime] = {}
        for dossier_id, appointment, done, returned, stopped, supplements, _, _ in rows:
            if supplements:
                full[dossier_id] = appointment
                continue
            # The first step of each kind stands for all of them: end_of_processing takes the first.
            history = [Step(local(at), status) for at, status in ((done, 9), (returned, 10), (stopped, STOPPED[0]))
                       if at is not None]
            self._bucket(buckets, local(appointment), history, local_now, begin_local, finish_local)
        waited = list(full)
        for i in range(0, len(waited), 500):
            histories: dict[int, list[Step]] = {}
            for dossier_id, at, status in conn.execute(
                    sa.select(s.dossier_id, self.sql.raw(s.at), s.status).where(s.dossier_id.in_(waited[i:i + 500]))
                    .order_by(s.dossier_id, s.at, s.id)):
                histories.setdefault(dossier_id, []).append(Step(local(at), status))
            for dossier_id, history in histories.items():
                self._bucket(buckets, local(full[dossier_id]), history, local_now, begin_local, finish_local)
        with self._lock:
            self._remember(self._buckets, key, dict(buckets))
        return buckets

    def _remember(self, cache: OrderedDict, key: tuple, value: object) -> None:
        """Keeps the most recently used entries (the caller holds the lock)."""
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > self._cached_ranges:
            cache.popitem(last=False)

    @staticmethod
    def _bucket(buckets: dict[str, int], appointment: datetime, history: list[Step], now: datetime,
                begin: datetime, finish: datetime) -> None:
        ended = end_of_processing(history)
        if ended is not None and begin <= ended < finish:
            buckets[deadline_bucket(appointment, history, now)] += 1


# helpers ---------------------------------------------------------------------------------------
def _labels(*names: str) -> list[sa.ColumnElement]:
    """GROUP BY the select's labelled columns (an expression with a subquery is then computed once).
    The busiest column goes first: SQLite's sort then settles most comparisons on it."""
    return [sa.literal_column(name) for name in names]


def _day(value: str | date) -> date:
    """A business date as read through `_Sql.raw` (SQLite gives its text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _runs(days: list[date], longest: int) -> list[tuple[date, date]]:
    """Ascending days → (first, last) of each run of consecutive days, at most `longest` days each."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day and (day - runs[-1][0]).days < longest:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _bounds(office: Office, start: date, end: date) -> tuple[datetime, datetime]:
    """Stored (naive UTC) instants where the office's day `start` begins and its day `end` ends."""
    begin, finish = stats.day_bounds(start, end, office.timezone)
    return to_utc_naive(begin), to_utc_naive(finish)


def _names(conn: Connection, office_id: int, user_ids: set[int | None]) -> dict:
    return {
        "services": conn.execute(sa.select(services.c.id, services.c.code, services.c.name_vi, services.c.name_en)
                                 .where(services.c.office_id == office_id)
                                 .order_by(services.c.position, services.c.id)).all(),
        "counters": conn.execute(sa.select(counters.c.id, counters.c.number, counters.c.name, counters.c.name_en)
                                 .where(counters.c.office_id == office_id).order_by(counters.c.number)).all(),
        "users": {row.id: row for row in conn.execute(sa.select(users.c.id, users.c.username, users.c.full_name)
                                                      .where(users.c.id.in_(user_ids - {None})))},
    }


def _officers(tally: Tally) -> set[int | None]:
    """Everyone who called a ticket or was rated in the tally (None: a ticket called without a user)."""
    return {cell[2] for cell in tally.waits} | {key[2] for key in tally.ratings}


def _figures(tally: Tally, match: Callable[[Cell], bool], with_issued: bool) -> dict:
    """One row of a table: the tickets, times and ratings of the cells `match` accepts."""
    by_status: dict[str, int] = {}
    issued = 0
    for (s, c, u, status, was_issued), n in tally.counts.items():
        if match((s, c, u)):
            by_status[status] = by_status.get(status, 0) + n
            issued += n if was_issued else 0
    waits = stats.add(h for cell, h in tally.waits.items() if match(cell))
    serves = stats.add(h for cell, h in tally.serves.items() if match(cell))
    rated = satisfied = 0
    for (s, c, u, _level, _score, ok), n in tally.ratings.items():
        if match((s, c, u)):
            rated += n
            satisfied += n if ok else 0
    return {"issued": issued if with_issued else None, "called": sum(waits),
            "served": by_status.get(FINISHED, 0), "no_show": by_status.get(NO_SHOW, 0),
            "transferred": by_status.get(TRANSFERRED, 0),
            "wait": stats.time_stats(waits), "service_time": stats.time_stats(serves),
            "ratings": {"count": rated, "satisfied": satisfied, "satisfied_pct": satisfaction_rate(satisfied, rated)}}


def _assemble(office: Office, start: date, end: date, now: datetime, tally: Tally, names: dict,
              buckets: dict[str, int]) -> dict:
    zone = ZoneInfo(office.timezone)
    by_service = [{"id": s.id, "code": s.code, "name_vi": s.name_vi, "name_en": s.name_en,
                   **_figures(tally, lambda cell, sid=s.id: cell[0] == sid, True)} for s in names["services"]]
    by_counter = [{"id": c.id, "number": c.number, "name": c.name, "name_en": c.name_en,
                   **_figures(tally, lambda cell, cid=c.id: cell[1] == cid, False)} for c in names["counters"]]
    by_counter = [row for row in by_counter if row["called"] or row["ratings"]["count"]]
    known = names["users"]
    by_officer = []
    for uid in sorted(_officers(tally), key=lambda u: (u not in known, known[u].username if u in known else "")):
        user = known.get(uid)
        by_officer.append({"id": uid, "username": user.username if user else None,
                           "full_name": (user.full_name or user.username) if user else None,
                           **_figures(tally, lambda cell, u=uid: cell[2] == u, False)})
    totals = _figures(tally, lambda cell: True, True)

    scale = {level["code"]: level for level in scale_of(office.settings)}
    levels: dict[tuple, int] = {}
    per_counter: dict[int | None, dict[str, int]] = {}
    for (_, counter_id, _, level, score, satisfied), n in tally.ratings.items():
        levels[(level, score, satisfied)] = levels.get((level, score, satisfied), 0) + n
        counts = per_counter.setdefault(counter_id, {})
        counts[level] = counts.get(level, 0) + n
    rated = totals["ratings"]
    level_rows = [{"level": level, "name_vi": scale.get(level, {}).get("vi", level),
                   "name_en": scale.get(level, {}).get("en", level), "score": score, "satisfied": satisfied,
                   "count": n, "pct": stats.percent(n, rated["count"])}
                  for (level, score, satisfied), n in sorted(levels.items(), key=lambda kv: (-kv[0][1], kv[0][0]))]
    satisfaction_by_counter = [
        {"id": row["id"], "number": row["number"], "name": row["name"], "name_en": row["name_en"],
         "levels": {level["level"]: per_counter[row["id"]].get(level["level"], 0) for level in level_rows},
         "count": row["ratings"]["count"], "satisfied_pct": row["ratings"]["satisfied_pct"]}
        for row in by_counter if row["id"] in per_counter]

    finished = sum(buckets.values())
    in_time = buckets[EARLY] + buckets[ON_TIME]
    dossier_figures: dict = {"basis": "finished_in_range", "total": finished,
                             "in_time": in_time, "in_time_pct": stats.percent(in_time, finished)}
    for bucket, key in BUCKETS.items():
        dossier_figures[key] = buckets[bucket]
        dossier_figures[key + "_pct"] = stats.percent(buckets[bucket], finished)
    return {
        "office": {"id": office.id, "code": office.code, "name": office.name, "name_en": office.name_en,
                   "timezone": office.timezone},
        "from": start.isoformat(), "to": end.isoformat(), "days": (end - start).days + 1,
        "generated_at": now.astimezone(zone).isoformat(timespec="seconds"),
        "totals": totals,
        "by_service": by_service,
        "by_counter": by_counter,
        "by_officer": by_officer,
        "hours": [{"hour": h, "issued": n} for h, n in enumerate(tally.hours)],
        "wait_distribution": stats.bands(stats.add(tally.waits.values())),
        "satisfaction": {**rated, "levels": level_rows, "by_counter": satisfaction_by_counter},
        "dossiers": dossier_figures,
    }


# exports -----------------------------------------------------------------------------------------
@dataclass
class Sheet:
    """One breakdown as a table: a sheet of the workbook, a section of the CSV file."""
    title: str
    headers: list[str]
    rows: list[list]
    widths: list[int] = field(default_factory=list)


TIME_HEADERS = ["Chờ TB (phút)", "Chờ trung vị (phút)", "Chờ P90 (phút)",
                "Phục vụ TB (phút)", "Phục vụ trung vị (phút)", "Phục vụ P90 (phút)"]
COUNT_HEADERS = ["Đã gọi", "Đã phục vụ", "Vắng mặt", "Chuyển dịch vụ"]
RATING_HEADERS = ["Số đánh giá", "% hài lòng"]
PRECISION_NOTE = ("Thời gian đo đến 0,1 phút (làm tròn nửa lên); trung vị và P90 theo hạng gần nhất: giá trị "
                  "thứ ⌈p·n/100⌉ trong n giá trị xếp tăng dần.")


def _figure_cells(row: dict) -> list:
    wait, serve, rated = row["wait"], row["service_time"], row["ratings"]
    return [row["called"], row["served"], row["no_show"], row["transferred"],
            wait["mean_min"], wait["median_min"], wait["p90_min"],
            serve["mean_min"], serve["median_min"], serve["p90_min"], rated["count"], rated["satisfied_pct"]]


def sheets(report: dict) -> list[Sheet]:
    """The report as tables with Vietnamese headings; the CSV and the workbook both write these."""
    totals, dossier, sat = report["totals"], report["dossiers"], report["satisfaction"]
    office = report["office"]
    summary = Sheet("Tổng hợp", ["Chỉ tiêu", "Giá trị"], [
        ["Cơ quan", office["name"]], ["Từ ngày", report["from"]], ["Đến ngày", report["to"]],
        ["Số phiếu cấp", totals["issued"]], ["Đã gọi", totals["called"]], ["Đã phục vụ", totals["served"]],
        ["Vắng mặt", totals["no_show"]], ["Chuyển dịch vụ", totals["transferred"]],
        *[[header, value] for header, value in zip(TIME_HEADERS, _figure_cells(totals)[4:10], strict=True)],
        ["Số đánh giá", sat["count"]], ["% hài lòng", sat["satisfied_pct"]],
        ["Hồ sơ giải quyết xong trong kỳ", dossier["total"]],
        ["Tỷ lệ hồ sơ đúng hạn (%)", dossier["in_time_pct"]],
        ["Ghi chú", PRECISION_NOTE]], [34, 60])
    by_service = Sheet("Theo dịch vụ", ["Mã dịch vụ", "Dịch vụ", "Số phiếu cấp", *COUNT_HEADERS, *TIME_HEADERS,
                                         *RATING_HEADERS],
                       [[r["code"], r["name_vi"], r["issued"], *_figure_cells(r)] for r in report["by_service"]],
                       [14, 36])
    by_counter = Sheet("Theo quầy", ["Quầy số", "Tên quầy", *COUNT_HEADERS, *TIME_HEADERS, *RATING_HEADERS],
                       [[r["number"], r["name"], *_figure_cells(r)] for r in report["by_counter"]], [9, 32])
    by_officer = Sheet("Theo cán bộ", ["Tên đăng nhập", "Cán bộ", *COUNT_HEADERS, *TIME_HEADERS, *RATING_HEADERS],
                       [[r["username"] or "", r["full_name"] or "(không rõ)", *_figure_cells(r)]
                        for r in report["by_officer"]], [16, 28])
    by_hour = Sheet("Theo giờ", ["Giờ", "Số phiếu cấp"],
                    [[f"{h['hour']:02d}:00–{(h['hour'] + 1) % 24:02d}:00", h["issued"]] for h in report["hours"]],
                    [14, 14])
    waits = Sheet("Thời gian chờ", ["Khoảng chờ (phút)", "Số lượt", "Tỷ lệ (%)"],
                  [[_band(b), b["count"], b["pct"]] for b in report["wait_distribution"]], [18, 10, 10])
    levels = Sheet("Đánh giá", ["Mức đánh giá", "Điểm", "Tính là hài lòng", "Số lượt", "Tỷ lệ (%)"],
                   [[lv["name_vi"], lv["score"], "Có" if lv["satisfied"] else "Không", lv["count"], lv["pct"]]
                    for lv in sat["levels"]] + [["Tổng", None, None, sat["count"], None]],
                   [22, 8, 16, 10, 10])
    level_names = [lv["name_vi"] for lv in sat["levels"]]
    per_counter = Sheet("Đánh giá theo quầy", ["Quầy số", "Tên quầy", *level_names, "Tổng", "% hài lòng"],
                        [[r["number"], r["name"], *[r["levels"].get(lv["level"], 0) for lv in sat["levels"]],
                          r["count"], r["satisfied_pct"]] for r in sat["by_counter"]], [9, 32])
    files = Sheet("Hồ sơ", ["Kết quả giải quyết", "Số hồ sơ", "Tỷ lệ (%)"],
                  [[BUCKET_NAMES[b][0], dossier[key], dossier[key + "_pct"]] for b, key in BUCKETS.items()]
                  + [["Tổng (giải quyết xong trong kỳ)", dossier["total"], None]], [32, 10, 10])
    return [summary, by_service, by_counter, by_officer, by_hour, waits, levels, per_counter, files]


def _band(band: dict) -> str:
    return f"≥ {band['from_min']}" if band["to_min"] is None else f"{band['from_min']}–{band['to_min']}"


def file_name(report: dict, extension: str) -> str:
    return f"bao-cao-{report['from']}_{report['to']}.{extension}"


def to_csv(report: dict) -> bytes:
    """One UTF-8 file (with a BOM, so Excel reads Vietnamese): each table under its title, a blank line between."""
    out = io.StringIO()
    writer = csv.writer(out)
    for sheet in sheets(report):
        writer.writerow([sheet.title])
        writer.writerow(sheet.headers)
        writer.writerows([["" if v is None else v for v in row] for row in sheet.rows])
        writer.writerow([])
    return "\ufeff".encode() + out.getvalue().encode()


def to_xlsx(report: dict) -> bytes:
    """A workbook with one sheet per table; numbers stay numbers (minutes and percentages as 0.0)."""
    from openpyxl import Workbook  # imported on use: it costs the server memory otherwise
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets(report):
        page = book.create_sheet(sheet.title)
        page.append(sheet.headers)
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            page.append(row)
        for row in page.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float):
                    cell.number_format = "0.0"
        for i, header in enumerate(sheet.headers):
            width = sheet.widths[i] if i < len(sheet.widths) else max(10, min(24, len(header) + 2))
            page.column_dimensions[get_column_letter(i + 1)].width = width
        page.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


