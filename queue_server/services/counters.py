"""Counter actions: call, recall, finish, no-show, transfer, pause. Each is one transaction.

Every action first locks the counter row, then the tickets it touches, then the office
row (for the event sequence), always in that order, so concurrent actions cannot deadlock.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ..domain import events as ev
from ..domain.clock import Clock, business_date, to_utc_naive
from ..domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ..domain.model import CounterState, TicketStatus, can_transition
from ..domain.ordering import class_preference, next_streak
from ..persistence.database import Database
from ..persistence.tables import counter_services, counters, services, ticket_actions, tickets
from . import offices as directory
from . import sequence
from .auth import Principal, forbid_counter
from .bus import EventBus
from .tickets import ticket_view
from .voice import announcement_text

WAITING = TicketStatus.WAITING.value
CALLED = TicketStatus.CALLED.value
ANY = object()   # `expect`: the caller does not say which ticket it believes is current


@dataclass
class _Action:
    """What one transaction did, collected for the events published after commit."""
    counter: RowMapping
    office_id: int
    today: object
    pending: list
    office_settings: dict

    def emit(self, name: str, data: dict) -> None:
        self.pending.append((name, data))


class CounterService:
    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    # plumbing ----------------------------------------------------------------
    def _begin(self, conn: Connection, counter_id: int, actor: Principal) -> _Action:
        row = conn.execute(self.db.for_update(sa.select(counters).where(counters.c.id == counter_id))
                           ).mappings().first()
        if row is None:
            raise NotFound("Không tìm thấy quầy.", "Counter not found.", code="counter_not_found")
        if not actor.may_act_at(row["office_id"], row["id"]):
            raise forbid_counter()
        office = directory.get_office(conn, row["office_id"])
        return _Action(counter=row, office_id=office.id, today=business_date(self.clock.now(), office.timezone),
                       pending=[], office_settings=office.settings)

    def _finish_tx(self, conn: Connection, act: _Action) -> list:
        return sequence.allocate(conn, act.office_id, act.pending)

    def _log(self, conn: Connection, ticket_id: int, action: str, act: _Action, actor: Principal,
             detail: str | None = None) -> int:
        return conn.execute(sa.insert(ticket_actions).values(
            ticket_id=ticket_id, action=action, counter_id=act.counter["id"], user_id=actor.user_id,
            detail=detail, at=to_utc_naive(self.clock.now())).returning(ticket_actions.c.id)).scalar_one()

    def _ticket(self, conn: Connection, ticket_id: int) -> RowMapping:
        return conn.execute(self.db.for_update(sa.select(tickets).where(tickets.c.id == ticket_id))
                            ).mappings().one()

    def _service_code(self, conn: Connection, service_id: int) -> str:
        return conn.execute(sa.select(services.c.code).where(services.c.id == service_id)).scalar_one()

    def _waiting(self, conn: Connection, service_id: int, today) -> int:  # noqa: ANN001
        return conn.execute(sa.select(sa.func.count()).where(
            tickets.c.service_id == service_id, tickets.c.business_date == today,
            tickets.c.status == WAITING)).scalar_one()

    def _set_status(self, conn: Connection, ticket: RowMapping, target: TicketStatus, **values) -> None:  # noqa: ANN003
        if not can_transition(TicketStatus(ticket["status"]), target):
            raise Conflict(f"Phiếu {ticket['number']} đang ở trạng thái không cho phép thao tác này.",
                           f"Ticket {ticket['number']} is {ticket['status']}; this action is not allowed.",
                           code="invalid_transition")
        done = conn.execute(sa.update(tickets).where(tickets.c.id == ticket["id"],
                                                     tickets.c.status == ticket["status"])
                            .values(status=target.value, **values)).rowcount
        if done != 1:  # someone else moved it first
            raise Conflict(f"Phiếu {ticket['number']} vừa được xử lý ở nơi khác.",
                           f"Ticket {ticket['number']} was just handled elsewhere.", code="ticket_taken")

    def _close_current(self, conn: Connection, act: _Action, actor: Principal,
                       target: TicketStatus) -> RowMapping | None:
        current_id = act.counter["current_ticket_id"]
        if current_id is None:
            return None
        ticket = self._ticket(conn, current_id)
        if ticket["status"] != CALLED:
            return None
        if ticket["business_date"] < act.today:
            target = TicketStatus.EXPIRED
        finished = to_utc_naive(self.clock.now())
        self._set_status(conn, ticket, target, finished_at=finished)
        self._log(conn, ticket["id"], target.value, act, actor)
        called = ticket["called_at"]
        act.emit(ev.TICKET_UPDATED, {"ticket": {
            "id": ticket["id"], "number": ticket["number"], "status": target.value, "counter": act.counter["number"],
            # seconds waited before the call and spent at the counter: the live metrics' histograms
            "waited_s": round((called - ticket["queued_at"]).total_seconds(), 3) if called else None,
            "served_s": round((finished - called).total_seconds(), 3) if called else None}})
        return ticket

    def _current_or_conflict(self, conn: Connection, act: _Action) -> RowMapping:
        current_id = act.counter["current_ticket_id"]
        ticket = self._ticket(conn, current_id) if current_id else None
        if ticket is None or ticket["status"] != CALLED:
            raise Conflict("Quầy chưa gọi phiếu nào.", "This counter has no called ticket.", code="no_current_ticket")
        return ticket

    def _require_active(self, act: _Action) -> None:
        if act.counter["state"] != CounterState.ACTIVE.value:
            raise Conflict("Quầy đang tạm dừng. Bấm «Tiếp tục» để gọi số.",
                           "The counter is paused. Press “Resume” to call numbers.", code="counter_paused")

    def _call(self, conn: Connection, act: _Action, actor: Principal, ticket: RowMapping,
              streak: int | None = None, detail: str | None = None) -> dict:
        now = to_utc_naive(self.clock.now())
        self._set_status(conn, ticket, TicketStatus.CALLED, counter_id=act.counter["id"], called_at=now,
                         served_by=actor.user_id, finished_at=None)
        values: dict = {"current_ticket_id": ticket["id"]}
        if streak is not None:
            values["regular_streak"] = streak
        conn.execute(sa.update(counters).where(counters.c.id == act.counter["id"]).values(**values))
        call_id = self._log(conn, ticket["id"], "called", act, actor, detail)
        called = conn.execute(sa.select(tickets).where(tickets.c.id == ticket["id"])).mappings().one()
        code = self._service_code(conn, ticket["service_id"])
        view = ticket_view(called, code, act.counter["number"])
        act.emit(ev.TICKET_CALLED, self._call_event(view, act, recall=False, call_id=call_id))
        act.emit(ev.QUEUE_CHANGED, {"service": code, "waiting": self._waiting(conn, ticket["service_id"], act.today)})
        act.emit(ev.COUNTER_CHANGED, self._counter_event(act, view["number"]))
        return view

    def _call_event(self, view: dict, act: _Action, recall: bool, call_id: int) -> dict:
        try:
            spoken = announcement_text(act.office_settings, view["number"], act.counter["number"])
        except DomainError:
            spoken = None        # a number the voice cannot read is still called, on screen
        return {"ticket": {"id": view["id"], "number": view["number"], "service": view["service"],
                           "track_token": view["track_token"]},
                "counter": act.counter["number"], "counter_id": act.counter["id"],
                "counter_name": act.counter["name"], "recall": recall, "called_at": view["called_at"],
                "call_id": call_id, "announcement": spoken, "led_address": act.counter["led_address"]}

    def _counter_event(self, act: _Action, current_number: str | None, state: str | None = None,
                       reason: str | None = None) -> dict:
        return {"counter": act.counter["number"], "counter_id": act.counter["id"],
                "led_address": act.counter["led_address"], "state": state or act.counter["state"],
                "reason": reason if state else act.counter["state_reason"], "current": current_number}

    def _run(self, counter_id: int, actor: Principal, body, expect: object = ANY) -> dict | None:  # noqa: ANN001
        """`expect`: the ticket id the caller's screen shows as current (None: none). Two consoles at one
        counter each act on what they show: if the counter has moved on since, nothing changes."""
        with self.db.write() as conn:
            act = self._begin(conn, counter_id, actor)
            if expect is not ANY:
                current = self._current(conn, act)
                if (current["id"] if current else None) != expect:
                    raise self._moved_on(current["number"] if current else None)
            result = body(conn, act)
            published = self._finish_tx(conn, act)
        self.bus.publish(published)
        return result

    @staticmethod
    def _moved_on(number: str | None) -> Conflict:
        vi, en = ((f"đang gọi số {number}", f"it is now calling {number}") if number
                  else ("không còn gọi số nào", "it is calling no number now"))
        return Conflict(f"Quầy vừa được thao tác từ máy khác ({vi}). Màn hình đã được cập nhật, vui lòng xem lại.",
                        f"The counter was just used from another screen ({en}). This screen is updated; please "
                        "check it again.", code="counter_moved_on", details={"current": number})

    # actions -----------------------------------------------------------------
    def call_next(self, counter_id: int, actor: Principal, expect: object = ANY) -> dict | None:
        def body(conn: Connection, act: _Action) -> dict | None:
            self._require_active(act)
            closed = self._close_current(conn, act, actor, TicketStatus.FINISHED)
            office = directory.get_office(conn, act.office_id)
            streak = act.counter["regular_streak"]
            for want_priority in class_preference(office.priority, streak):
                stmt = (sa.select(tickets.c.id)
                        .join(counter_services, sa.and_(counter_services.c.service_id == tickets.c.service_id,
                                                        counter_services.c.counter_id == act.counter["id"]))
                        .where(tickets.c.office_id == act.office_id, tickets.c.business_date == act.today,
                               tickets.c.status == WAITING, tickets.c.is_priority.is_(want_priority))
                        .order_by(counter_services.c.rank, tickets.c.queued_at, tickets.c.id).limit(1))
                if self.db.is_postgres:
                    stmt = stmt.with_for_update(of=tickets, skip_locked=True)
                ticket_id = conn.execute(stmt).scalar()
                if ticket_id is not None:
                    ticket = self._ticket(conn, ticket_id)
                    return self._call(conn, act, actor, ticket,
                                      streak=next_streak(office.priority, streak, want_priority))
            if closed is not None:
                conn.execute(sa.update(counters).where(counters.c.id == act.counter["id"])
                             .values(current_ticket_id=None))
                act.emit(ev.COUNTER_CHANGED, self._counter_event(act, None))
            return None
        return self._run(counter_id, actor, body, expect)

    def call_number(self, counter_id: int, number: str, actor: Principal, expect: object = ANY) -> dict:
        number = number.strip().upper()

        def body(conn: Connection, act: _Action) -> dict:
            self._require_active(act)
            rows = conn.execute(self.db.for_update(
                sa.select(tickets).where(tickets.c.office_id == act.office_id, tickets.c.business_date == act.today,
                                         tickets.c.number == number)
                .order_by(tickets.c.id.desc()))).mappings().all()
            if not rows:
                raise NotFound(f"Hôm nay chưa cấp số {number}.", f"No ticket {number} was issued today.",
                               code="ticket_not_found")
            if any(r["id"] == act.counter["current_ticket_id"] and r["status"] == CALLED for r in rows):
                raise Conflict(f"Số {number} đang ở quầy này.", f"Number {number} is already at this counter.",
                               code="already_current")
            callable_rows = [r for r in rows if r["status"] in (WAITING, TicketStatus.NO_SHOW.value)]
            if not callable_rows:
                raise Conflict(f"Số {number} đã được phục vụ hoặc đang được gọi ở quầy khác.",
                               f"Number {number} has been served or is being called elsewhere.",
                               code="ticket_not_callable")
            target = callable_rows[0]
            self._close_current(conn, act, actor, TicketStatus.FINISHED)
            return self._call(conn, act, actor, target, detail="by_number")
        return self._run(counter_id, actor, body, expect)

    def recall(self, counter_id: int, actor: Principal, expect: object = ANY) -> dict:
        def body(conn: Connection, act: _Action) -> dict:
            ticket = self._current_or_conflict(conn, act)
            conn.execute(sa.update(tickets).where(tickets.c.id == ticket["id"])
                         .values(recall_count=tickets.c.recall_count + 1))
            call_id = self._log(conn, ticket["id"], "recalled", act, actor)
            row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket["id"])).mappings().one()
            view = ticket_view(row, self._service_code(conn, ticket["service_id"]), act.counter["number"])
            act.emit(ev.TICKET_CALLED, self._call_event(view, act, recall=True, call_id=call_id))
            return view
        return self._run(counter_id, actor, body, expect)

    def _end_current(self, counter_id: int, actor: Principal, target: TicketStatus, expect: object = ANY) -> dict:
        def body(conn: Connection, act: _Action) -> dict:
            ticket = self._current_or_conflict(conn, act)
            self._close_current(conn, act, actor, target)
            conn.execute(sa.update(counters).where(counters.c.id == act.counter["id"]).values(current_ticket_id=None))
            act.emit(ev.COUNTER_CHANGED, self._counter_event(act, None))
            row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket["id"])).mappings().one()
            return ticket_view(row, self._service_code(conn, ticket["service_id"]), act.counter["number"])
        return self._run(counter_id, actor, body, expect)

    def finish(self, counter_id: int, actor: Principal, expect: object = ANY) -> dict:
        return self._end_current(counter_id, actor, TicketStatus.FINISHED, expect)

    def no_show(self, counter_id: int, actor: Principal, expect: object = ANY) -> dict:
        return self._end_current(counter_id, actor, TicketStatus.NO_SHOW, expect)

    def transfer(self, counter_id: int, service_code: str, actor: Principal, expect: object = ANY) -> dict:
        """Ends the visit here and queues the same number at the target service.

        The copy keeps its original queue time, so the citizen does not start over.
        """
        def body(conn: Connection, act: _Action) -> dict:
            ticket = self._current_or_conflict(conn, act)
            target = directory.service_by_code(conn, act.office_id, service_code)
            if target.id == ticket["service_id"]:
                raise InvalidInput("Phiếu đã thuộc dịch vụ này.", "The ticket already belongs to this service.",
                                   code="same_service")
            if target.id not in self._served(conn, act.office_id):      # the citizen would wait for nobody
                raise Conflict(f"Chưa có quầy nào phục vụ dịch vụ «{target.name_vi}»: không chuyển được.",
                               f"No counter serves “{target.name_en}” yet: the ticket cannot go there.",
                               code="service_not_served")
            copy_id = conn.execute(sa.insert(tickets).values(
                office_id=ticket["office_id"], service_id=target.id, business_date=ticket["business_date"],
                seq=None, number=ticket["number"], priority_group_id=ticket["priority_group_id"],
                is_priority=ticket["is_priority"], status=WAITING, kiosk=ticket["kiosk"], lang=ticket["lang"],
                session=ticket["session"], track_token=None,
                origin_ticket_id=ticket["origin_ticket_id"] or ticket["id"],
                issued_at=ticket["issued_at"], queued_at=ticket["queued_at"],
            ).returning(tickets.c.id)).scalar_one()
            self._close_current(conn, act, actor, TicketStatus.TRANSFERRED)
            conn.execute(sa.update(tickets).where(tickets.c.id == ticket["id"]).values(transferred_to_id=copy_id))
            conn.execute(sa.update(counters).where(counters.c.id == act.counter["id"]).values(current_ticket_id=None))
            self._log(conn, ticket["id"], "transfer", act, actor, detail=target.code)
            act.emit(ev.QUEUE_CHANGED, {"service": target.code,
                                        "waiting": self._waiting(conn, target.id, act.today)})
            act.emit(ev.COUNTER_CHANGED, self._counter_event(act, None))
            row = conn.execute(sa.select(tickets).where(tickets.c.id == ticket["id"])).mappings().one()
            return ticket_view(row, self._service_code(conn, ticket["service_id"]), act.counter["number"])
        return self._run(counter_id, actor, body, expect)

    def pause(self, counter_id: int, reason: str, actor: Principal) -> dict:
        return self._set_state(counter_id, actor, CounterState.PAUSED, reason)

    def resume(self, counter_id: int, actor: Principal) -> dict:
        return self._set_state(counter_id, actor, CounterState.ACTIVE, None)

    def _set_state(self, counter_id: int, actor: Principal, state: CounterState, reason: str | None) -> dict:
        def body(conn: Connection, act: _Action) -> None:
            conn.execute(sa.update(counters).where(counters.c.id == act.counter["id"])
                         .values(state=state.value, state_reason=reason))
            act.emit(ev.COUNTER_CHANGED, self._counter_event(act, self._current_number(conn, act),
                                                             state.value, reason))
        self._run(counter_id, actor, body)
        return self.state(counter_id, actor)

    @staticmethod
    def _served(conn: Connection, office_id: int) -> set[int]:
        """The office's services that some counter serves."""
        return set(conn.execute(sa.select(counter_services.c.service_id).distinct()
                                .join(counters, counters.c.id == counter_services.c.counter_id)
                                .where(counters.c.office_id == office_id)).scalars())

    def _current(self, conn: Connection, act: _Action) -> RowMapping | None:
        """The ticket the counter is serving now (called, not yet ended), if any."""
        if act.counter["current_ticket_id"] is None:
            return None
        row = self._ticket(conn, act.counter["current_ticket_id"])
        return row if row["status"] == CALLED else None

    def _current_number(self, conn: Connection, act: _Action) -> str | None:
        row = self._current(conn, act)
        return row["number"] if row is not None else None

    # reading -----------------------------------------------------------------
    def state(self, counter_id: int, actor: Principal, upcoming: int = 5) -> dict:
        """What the counter console shows: the counter, its current ticket, its queues."""
        with self.db.read() as conn:
            row = directory.counter_row(conn, counter_id)
            if not actor.may_act_at(row["office_id"], row["id"]):
                raise forbid_counter()
            office = directory.get_office(conn, row["office_id"])
            today = business_date(self.clock.now(), office.timezone)
            current = None
            if row["current_ticket_id"] is not None:
                t = conn.execute(sa.select(tickets, services.c.code.label("service_code"))
                                 .join(services, services.c.id == tickets.c.service_id)
                                 .where(tickets.c.id == row["current_ticket_id"])).mappings().first()
                if t is not None and t["status"] == CALLED:
                    current = ticket_view(t, t["service_code"], row["number"])
            queues = []
            served = conn.execute(
                sa.select(services).join(counter_services, counter_services.c.service_id == services.c.id)
                .where(counter_services.c.counter_id == counter_id).order_by(counter_services.c.rank)
            ).mappings().all()
            for svc in served:
                waiting = conn.execute(sa.select(tickets.c.number, tickets.c.is_priority, tickets.c.queued_at).where(
                    tickets.c.service_id == svc["id"], tickets.c.business_date == today, tickets.c.status == WAITING
                ).order_by(tickets.c.is_priority.desc(), tickets.c.queued_at, tickets.c.id)).all()
                queues.append({
                    "service": svc["code"], "name_vi": svc["name_vi"], "name_en": svc["name_en"],
                    "waiting": len(waiting),
                    "longest_wait_s": int((to_utc_naive(self.clock.now()) - min(w.queued_at for w in waiting))
                                          .total_seconds()) if waiting else 0,
                    "next": [{"number": w.number, "priority": bool(w.is_priority)} for w in waiting[:upcoming]],
                })
            served = self._served(conn, office.id)
            all_services = [{"code": s.code, "name_vi": s.name_vi, "name_en": s.name_en}   # where to transfer to
                            for s in directory.list_services(conn, office.id) if s.active and s.id in served]
            return {
                "counter": {"id": row["id"], "number": row["number"], "name": row["name"],
                            "name_en": row["name_en"], "state": row["state"], "reason": row["state_reason"]},
                "current": current,
                "queues": queues,
                "services": all_services,
                "server_time": self.clock.now().isoformat(),
                "seq": sequence.current(conn, office.id),
            }

    def counters_for(self, actor: Principal) -> list[dict]:
        with self.db.read() as conn:
            stmt = sa.select(counters).order_by(counters.c.office_id, counters.c.number)
            rows = [r for r in conn.execute(stmt).mappings() if actor.may_act_at(r["office_id"], r["id"])]
            return [{"id": r["id"], "number": r["number"], "name": r["name"], "name_en": r["name_en"],
                     "state": r["state"],
                     "services": directory.counter_service_codes(conn, r["id"])} for r in rows]


