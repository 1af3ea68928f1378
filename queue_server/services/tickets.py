"""Issuing tickets and reading them back."""
from __future__ import annotations

import math
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from ..domain import events as ev
from ..domain.clock import Clock, business_date, from_utc_naive, local_time, to_utc_naive
from ..domain.errors import NotFound, Unauthorized, Unavailable
from ..domain.model import TicketStatus
from ..domain.numbering import check_within_limit, format_number
from ..domain.schedule import check_open, session_of_day
from ..persistence.database import Database
from ..persistence.tables import counter_services, counters, daily_sequences, offices, services, tickets
from . import offices as directory
from . import sequence
from .bus import EventBus
from .printing import PrintService, ticket_slip

# Statements on the issuing path, built once (building one costs more than running it on SQLite).
_IDEMPOTENT = sa.select(tickets.c.id).where(tickets.c.office_id == sa.bindparam("office_id"),
                                            tickets.c.idempotency_key == sa.bindparam("key"))
_INSERT_TICKET = sa.insert(tickets).returning(*tickets.c)
# All four columns of the (office, date, status, service) index: the count never touches the table rows
# it does not need.
_WAITING_COUNTS = sa.select(sa.func.count(), sa.func.count().filter(tickets.c.is_priority.is_(True))).where(
    tickets.c.office_id == sa.bindparam("office_id"), tickets.c.business_date == sa.bindparam("day"),
    tickets.c.status == TicketStatus.WAITING.value, tickets.c.service_id == sa.bindparam("service_id"))


def _sequence_upsert(dialect) -> sa.Insert:  # noqa: ANN001
    """INSERT … ON CONFLICT DO UPDATE … RETURNING: atomic on SQLite and PostgreSQL alike."""
    stmt = dialect.insert(daily_sequences).values(service_id=sa.bindparam("service_id"),
                                                  business_date=sa.bindparam("day"), last_seq=1)
    return stmt.on_conflict_do_update(
        index_elements=[daily_sequences.c.service_id, daily_sequences.c.business_date],
        set_={"last_seq": daily_sequences.c.last_seq + 1},
    ).returning(daily_sequences.c.last_seq)


@dataclass(frozen=True)
class IssueRequest:
    service: str
    office_id: int | None = None
    priority: str | None = None
    kiosk: str | None = None
    lang: str = "vi"
    idempotency_key: str | None = None
    authenticated: bool = False  # a kiosk device token or a signed-in user stands behind it
    track_url_base: str | None = None  # where the ticket's QR points, e.g. https://hcc.example.vn


def ticket_view(row: RowMapping, service_code: str, counter_number: int | None = None) -> dict:
    """The public shape of a ticket (no personal data exists on a ticket)."""
    return {
        "id": row["id"],
        "number": row["number"],
        "service": service_code,
        "status": row["status"],
        "priority": bool(row["is_priority"]),
        "business_date": row["business_date"].isoformat(),
        "issued_at": from_utc_naive(row["issued_at"]).isoformat(),
        "called_at": from_utc_naive(row["called_at"]).isoformat() if row["called_at"] else None,
        "finished_at": from_utc_naive(row["finished_at"]).isoformat() if row["finished_at"] else None,
        "counter": counter_number,
        "recall_count": row["recall_count"],
        "session": row["session"],
        "track_token": row["track_token"],
        "transferred_to": row["transferred_to_id"],
    }


class WaitEstimator:
    """Estimated wait from people ahead, active counters and recent service times.

    Cached per service for a short while: it is an estimate, and issuing must stay cheap.
    """

    TTL_S = 20.0

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._cache: dict[int, tuple[float, int, int]] = {}
        self._lock = threading.Lock()

    def estimate(self, conn: Connection, service_id: int, default_s: int, today: date, ahead: int) -> int:
        with self._lock:
            hit = self._cache.get(service_id)
        if hit is None or hit[0] < time.monotonic():
            active = conn.execute(
                sa.select(sa.func.count()).select_from(counter_services.join(counters))
                .where(counter_services.c.service_id == service_id, counters.c.state == "active")
            ).scalar_one()
            recent = conn.execute(
                sa.select(tickets.c.called_at, tickets.c.finished_at)
                .where(tickets.c.service_id == service_id, tickets.c.business_date == today,
                       tickets.c.status == TicketStatus.FINISHED.value)
                .order_by(tickets.c.id.desc()).limit(20)
            ).all()
            durations = [(f - c).total_seconds() for c, f in recent if c and f and f > c]
            avg = int(sum(durations) / len(durations)) if len(durations) >= 3 else default_s
            hit = (time.monotonic() + self.TTL_S, max(1, active), max(30, avg))
            with self._lock:
                self._cache[service_id] = hit
        _, active, avg = hit
        return math.ceil(ahead / active) * avg


class TicketService:
    def __init__(self, db: Database, clock: Clock, bus: EventBus, printing: PrintService | None = None) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.printing = printing
        self.estimator = WaitEstimator(clock)
        self._upsert_seq = _sequence_upsert(postgresql if db.is_postgres else sqlite)

    def _upsert_sequence(self, conn: Connection, service_id: int, day: date) -> int:
        return conn.execute(self._upsert_seq, {"service_id": service_id, "day": day}).scalar_one()

    def issue(self, req: IssueRequest) -> dict:
        try:
            return self._issue(req)
        except IntegrityError:
            if not req.idempotency_key:
                raise
            # The same key raced itself on another connection: the winner's ticket is the answer.
            return self._issue(req)

    def _issue(self, req: IssueRequest) -> dict:
        now = self.clock.now()
        with self.db.write() as conn:
            office, service = directory.office_with_service(conn, req.office_id or None, req.service)
            if office.kiosk_token_required and not req.authenticated:
                raise Unauthorized("Cơ quan này chỉ cấp số từ ki-ốt đã đăng ký.",
                                   "This office issues numbers only from registered kiosks.",
                                   code="kiosk_token_required")
            if service is None:
                raise directory.no_service(req.service)
            if req.idempotency_key:
                existing = conn.execute(_IDEMPOTENT, {"office_id": office.id, "key": req.idempotency_key}).scalar()
                if existing is not None:
                    replay = {**self._get(conn, tickets.c.id == existing, office.id), "replayed": True}
                    if self.printing is not None:
                        replay["print_job"] = self.printing.latest_job(conn, existing)
                    return replay
            if not service.active:
                raise Unavailable(f"Dịch vụ «{service.name_vi}» tạm ngừng cấp số.",
                                  f"The service “{service.name_en}” is not issuing numbers at the moment.",
                                  code="service_inactive")
            local = local_time(now, office.timezone)
            check_open(service.opening_hours, local, service.name_vi, service.name_en)
            group_id = directory.priority_group_id(conn, office.id, req.priority) if req.priority else None
            day = local.date()
            self.estimator.estimate(conn, service.id, service.avg_service_s, day, 0)  # warm, outside the lock
            # From here the service's sequence row is locked until commit: keep this part short.
            seq = self._upsert_sequence(conn, service.id, day)
            check_within_limit(service.numbering, service.daily_limit, seq)  # raising rolls the seq back
            stamp = to_utc_naive(now)
            row = conn.execute(_INSERT_TICKET, {
                "office_id": office.id, "service_id": service.id, "business_date": day, "seq": seq,
                "number": format_number(service.numbering, seq), "priority_group_id": group_id,
                "is_priority": group_id is not None, "status": TicketStatus.WAITING.value,
                "kiosk": req.kiosk, "lang": req.lang, "session": session_of_day(local),
                "track_token": secrets.token_urlsafe(16), "idempotency_key": req.idempotency_key,
                "issued_at": stamp, "queued_at": stamp, "recall_count": 0,
            }).mappings().one()
            view = self._issued_view(conn, row, service.code, service.avg_service_s)
            device_events = []
            if self.printing is not None and self.printing.kiosk_prints(conn, office.id, req.kiosk):
                slip = ticket_slip(office, service.name_vi, service.name_en, view,
                                   track_url(req.track_url_base, row["track_token"]), req.lang, office.timezone,
                                   directory.priority_group_names(conn, group_id) if group_id else None)
                view["print_job"], job_event = self.printing.enqueue(conn, office.id, req.kiosk, row["id"],
                                                                     "ticket", slip)
                device_events.append(job_event)
            published = sequence.allocate(conn, office.id, [
                (ev.TICKET_ISSUED, {"ticket": _public_event_ticket(view)}),
                (ev.QUEUE_CHANGED, {"service": service.code, "waiting": view["waiting"]}),
            ])
        self.bus.publish(published + device_events)
        return view

    def _issued_view(self, conn: Connection, row: RowMapping, service_code: str, default_s: int) -> dict:
        total, priority = conn.execute(_WAITING_COUNTS, {"office_id": row["office_id"], "service_id": row["service_id"],
                                                          "day": row["business_date"]}).one()
        view = ticket_view(row, service_code)
        view["waiting"] = total
        ahead = priority - 1 if row["is_priority"] else total - 1
        view["position"] = ahead
        view["estimated_wait_s"] = self.estimator.estimate(conn, row["service_id"], default_s,
                                                           row["business_date"], ahead)
        return view

    def _ahead(self, conn: Connection, row: RowMapping) -> int:
        """People waiting before this ticket in its service (priority tickets go first)."""
        earlier = sa.or_(tickets.c.queued_at < row["queued_at"],
                         sa.and_(tickets.c.queued_at == row["queued_at"], tickets.c.id < row["id"]))
        cond = [tickets.c.service_id == row["service_id"], tickets.c.business_date == row["business_date"],
                tickets.c.status == TicketStatus.WAITING.value, tickets.c.id != row["id"]]
        if row["is_priority"]:
            cond += [tickets.c.is_priority.is_(True), earlier]
        else:
            cond += [sa.or_(tickets.c.is_priority.is_(True), earlier)]
        return conn.execute(sa.select(sa.func.count()).where(*cond)).scalar_one()

    def get(self, ticket_id: int, office_id: int | None = None) -> dict:
        with self.db.read() as conn:
            return self._get(conn, tickets.c.id == ticket_id, office_id)

    def get_by_token(self, token: str) -> dict:
        with self.db.read() as conn:
            return self._get(conn, tickets.c.track_token == token, None)

    def _get(self, conn: Connection, where: sa.ColumnElement, office_id: int | None) -> dict:
        stmt = (sa.select(tickets, services.c.code.label("service_code"), services.c.name_vi.label("service_name_vi"),
                          services.c.name_en.label("service_name_en"), counters.c.number.label("counter_number"))
                .join(services, services.c.id == tickets.c.service_id)
                .outerjoin(counters, counters.c.id == tickets.c.counter_id).where(where))
        if office_id is not None:
            stmt = stmt.where(tickets.c.office_id == office_id)
        row = conn.execute(stmt).mappings().first()
        if row is None:
            raise NotFound("Không tìm thấy phiếu.", "Ticket not found.", code="ticket_not_found")
        view = ticket_view(row, row["service_code"], row["counter_number"])
        view["service_name_vi"], view["service_name_en"] = row["service_name_vi"], row["service_name_en"]
        if row["status"] == TicketStatus.WAITING.value:
            office = directory.get_office(conn, row["office_id"])
            if row["business_date"] == business_date(self.clock.now(), office.timezone):
                ahead = self._ahead(conn, row)
                default_s = conn.execute(sa.select(services.c.avg_service_s)
                                         .where(services.c.id == row["service_id"])).scalar_one()
                view["position"] = ahead
                view["estimated_wait_s"] = self.estimator.estimate(conn, row["service_id"], default_s,
                                                                   row["business_date"], ahead)
        return view

    def expire_past_days(self) -> int:
        """Tickets still waiting or called on a day that has ended become expired."""
        now = self.clock.now()
        expired = 0
        with self.db.write() as conn:
            for office_id, tz in conn.execute(sa.select(offices.c.id, offices.c.timezone)).all():
                today = business_date(now, tz)
                stale = tickets.c.office_id == office_id, tickets.c.business_date < today, \
                    tickets.c.status.in_([TicketStatus.WAITING.value, TicketStatus.CALLED.value])
                ids = list(conn.execute(sa.select(tickets.c.id).where(*stale)).scalars())
                if not ids:
                    continue
                conn.execute(sa.update(tickets).where(tickets.c.id.in_(ids))
                             .values(status=TicketStatus.EXPIRED.value, finished_at=to_utc_naive(now)))
                conn.execute(sa.update(counters).where(counters.c.current_ticket_id.in_(ids))
                             .values(current_ticket_id=None))
                expired += len(ids)
        return expired


def track_url(base: str | None, token: str | None) -> str | None:
    """The address a ticket's QR opens: the tracking page of that ticket."""
    if not base or not token:
        return None
    return f"{base.rstrip('/')}/t/{token}"


def _public_event_ticket(view: dict) -> dict:
    return {k: view[k] for k in ("id", "number", "service", "status", "priority", "issued_at", "position")}

