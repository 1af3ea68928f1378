"""Office-level preferences kept in offices.settings: the board notice, the voice, the ticket template.

Each change is validated by the caller's schema, written with its audit entry in one transaction,
and announced to boards and consoles when they show it, so it takes effect without a restart.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..domain import events as ev
from ..domain.clock import Clock
from ..persistence.database import Database
from ..persistence.tables import offices
from . import audit, sequence
from .auth import Principal
from .bus import EventBus


def notice_of(settings: dict) -> dict | None:
    """The board's scrolling notice, or None when the office has none."""
    notice = settings.get("notice") or {}
    vi, en = (notice.get("vi") or "").strip(), (notice.get("en") or "").strip()
    return {"vi": vi, "en": en} if vi or en else None


class OfficeSettings:
    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    def get(self, office_id: int, name: str) -> dict | None:
        with self.db.read() as conn:
            settings = conn.execute(sa.select(offices.c.settings).where(offices.c.id == office_id)).scalar() or {}
        return settings.get(name)

    def put(self, actor: Principal, office_id: int, name: str, value: dict | None,
            event: str | None = None, public: dict | None = None) -> dict | None:
        """Replaces one named setting; `event` with `public` tells the boards what they now show."""
        with self.db.write() as conn:
            row = conn.execute(self.db.for_update(sa.select(offices.c.settings).where(offices.c.id == office_id))
                               ).first()
            settings = dict((row.settings if row else None) or {})
            before = settings.get(name)
            if value is None:
                settings.pop(name, None)
            else:
                settings[name] = value
            conn.execute(sa.update(offices).where(offices.c.id == office_id).values(settings=settings))
            audit.record(conn, self.clock, actor, office_id, "settings", name, "update", before, value)
            events = sequence.allocate(conn, office_id, [(event, public or {})]) if event and before != value else []
        self.bus.publish(events)
        return value

    def set_notice(self, actor: Principal, office_id: int, vi: str, en: str) -> dict | None:
        notice = notice_of({"notice": {"vi": vi, "en": en}})
        self.put(actor, office_id, "notice", notice, ev.NOTICE_CHANGED, {"notice": notice})
        return notice
