"""The public state of a hall: what a board or a kiosk needs after (re)connecting."""
from __future__ import annotations

import sqlalchemy as sa

from ..domain.clock import Clock, business_date, from_utc_naive, local_time
from ..domain.errors import InvalidInput
from ..domain.model import DeviceKind, TicketStatus
from ..domain.schedule import is_open
from ..persistence.database import Database
from ..persistence.tables import counter_services, counters, devices, services, ticket_actions, tickets
from . import offices as directory
from . import sequence
from .office_settings import notice_of


class DisplayService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def services(self, office_id: int | None) -> dict:
        """Services with waiting counts and whether issuing is open right now."""
        now = self.clock.now()
        with self.db.read() as conn:
            office = directory.get_office(conn, office_id) if office_id else directory.default_office(conn)
            local = local_time(now, office.timezone)
            waiting = self._waiting(conn, office.id, local.date())
            issued = dict(conn.execute(
                sa.text("SELECT service_id, last_seq FROM daily_sequences WHERE business_date = :d"),
                {"d": local.date()}).all())
            out = []
            for s in directory.list_services(conn, office.id):
                limit = s.daily_limit
                limit_reached = limit is not None and issued.get(s.id, 0) >= limit
                out.append({
                    "code": s.code, "name_vi": s.name_vi, "name_en": s.name_en,
                    "numbering": s.numbering.style.value, "prefix": s.numbering.prefix, "block": s.numbering.block,
                    "waiting": waiting.get(s.code, 0), "active": s.active,
                    "open_now": s.active and is_open(s.opening_hours, local) and not limit_reached,
                    "limit_reached": limit_reached, "daily_limit": limit,
                    "opening_hours": s.opening_hours,
                })
            return {"office": {"code": office.code, "name": office.name, "name_en": office.name_en,
                               "timezone": office.timezone},
                    "business_date": local.date().isoformat(), "services": out,
                    "priority_groups": directory.list_priority_groups(conn, office.id)}

    def _waiting(self, conn: sa.Connection, office_id: int, day) -> dict[str, int]:  # noqa: ANN001
        return dict(conn.execute(
            sa.select(services.c.code, sa.func.count(tickets.c.id))
            .join(tickets, tickets.c.service_id == services.c.id)
            .where(tickets.c.office_id == office_id, tickets.c.business_date == day,
                   tickets.c.status == TicketStatus.WAITING.value)
            .group_by(services.c.code)).all())

    def board_settings(self, device_id: int) -> dict | None:
        """A display device's board as configured now (an admin may change it while the board is open)."""
        with self.db.read() as conn:
            settings = conn.execute(sa.select(devices.c.settings).where(devices.c.id == device_id)).scalar()
        return (settings or {}).get("board")

    def state(self, office_id: int | None, recent: int = 10, board: dict | None = None) -> dict:
        """Board snapshot, read in one transaction so `seq` matches what it shows.

        `board` limits it to some counters and services (a display device's settings); the
        services a kept counter serves stay on the board's waiting list.
        """
        if board is not None and not board.get("counters") and not board.get("services"):
            raise InvalidInput("Bảng hiển thị này chưa được gán quầy hoặc dịch vụ nào.",
                               "This display board is not assigned any counter or service.", code="empty_board")
        now = self.clock.now()
        with self.db.read() as conn:
            office = directory.get_office(conn, office_id) if office_id else directory.default_office(conn)
            today = business_date(now, office.timezone)
            seq = sequence.current(conn, office.id)
            current = sa.select(tickets.c.id, tickets.c.number, services.c.code).join(
                services, services.c.id == tickets.c.service_id).where(
                tickets.c.id == counters.c.current_ticket_id, tickets.c.status == TicketStatus.CALLED.value,
                tickets.c.business_date == today).correlate(counters).subquery()
            rows = conn.execute(
                sa.select(counters, current.c.number.label("current_number"),
                          current.c.code.label("current_service"))
                .outerjoin(current, current.c.id == counters.c.current_ticket_id)
                .where(counters.c.office_id == office.id).order_by(counters.c.number)).mappings().all()
            served = {}
            for cid, code in conn.execute(
                    sa.select(counter_services.c.counter_id, services.c.code)
                    .join(services, services.c.id == counter_services.c.service_id)
                    .where(services.c.office_id == office.id).order_by(counter_services.c.rank)).all():
                served.setdefault(cid, []).append(code)
            calls = conn.execute(
                sa.select(ticket_actions.c.id.label("call_id"), ticket_actions.c.at, ticket_actions.c.action,
                          tickets.c.number, tickets.c.id,
                          services.c.code, counters.c.number.label("counter"), counters.c.id.label("counter_id"))
                .join(tickets, tickets.c.id == ticket_actions.c.ticket_id)
                .join(services, services.c.id == tickets.c.service_id)
                .join(counters, counters.c.id == ticket_actions.c.counter_id)
                .where(tickets.c.office_id == office.id, tickets.c.business_date == today,
                       ticket_actions.c.action.in_(["called", "recalled"]))
                .order_by(ticket_actions.c.id.desc()).limit(recent)).mappings().all()
            svc = directory.list_services(conn, office.id)
            waiting = self._waiting(conn, office.id, today)
        voice = office.settings.get("voice") or {}
        state = {
            "seq": seq,
            "voice": {"engine": voice.get("engine", "clips"), "repeat": int(voice.get("repeat", 2))},
            "notice": notice_of(office.settings),
            "office": {"code": office.code, "name": office.name, "name_en": office.name_en},
            "business_date": today.isoformat(),
            "server_time": now.isoformat(),
            "counters": [{"id": r["id"], "number": r["number"], "name": r["name"], "name_en": r["name_en"],
                          "state": r["state"], "reason": r["state_reason"], "current": r["current_number"],
                          "current_service": r["current_service"], "services": served.get(r["id"], [])}
                         for r in rows],
            "recent_calls": [{"call_id": c["call_id"], "number": c["number"], "ticket": c["id"], "service": c["code"],
                              "counter": c["counter"],
                              "counter_id": c["counter_id"], "recall": c["action"] == "recalled",
                              "called_at": from_utc_naive(c["at"]).isoformat()} for c in calls],
            "waiting": [{"service": s.code, "name_vi": s.name_vi, "name_en": s.name_en,
                         "waiting": waiting.get(s.code, 0)}
                        for s in svc if s.active or waiting.get(s.code)],   # closed to new tickets, still served
        }
        return limit_to_board(state, board) if board is not None else state


def limit_to_board(state: dict, board: dict) -> dict:
    """What one board of several shows: its counters, their calls, the services they serve."""
    numbers = set(board.get("counters") or [])
    wanted = set(board.get("services") or [])
    kept = [c for c in state["counters"] if c["number"] in numbers]
    if not numbers:     # a board by service shows the counters that serve those services
        kept = [c for c in state["counters"] if wanted & set(c["services"])]
        numbers = {c["number"] for c in kept}
    wanted |= {code for c in kept if board.get("counters") for code in c["services"]}
    return {**state, "board": {"counters": sorted(numbers), "services": sorted(wanted)},
            "counters": kept,
            "recent_calls": [r for r in state["recent_calls"] if r["counter"] in numbers],
            "waiting": [w for w in state["waiting"] if w["service"] in wanted]}


def board_of(principal) -> dict | None:  # noqa: ANN001
    """A display device shows the board it was configured for; everyone else the whole hall."""
    if principal.is_device and principal.device_kind is DeviceKind.DISPLAY:
        return principal.device_settings.get("board")
    return None
