"""What parts of the hall report wrong: a board whose voice fell back, a clip the server lacks.

One row per (office, source, kind) holds the latest report and how often it came; a source that
reports it is fine again clears its row. The admin's live view reads them.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..domain import events as ev
from ..domain.clock import Clock, from_utc_naive, to_utc_naive
from ..persistence.database import Database
from ..persistence.tables import health_reports
from .bus import EventBus
from .presence import upsert_status

VOICE_FALLBACK = "voice_fallback"
CLIP_MISSING = "clip_missing"
SERVER = "server"

_FIND = sa.select(health_reports.c.id, health_reports.c.detail).where(
    health_reports.c.office_id == sa.bindparam("office_id"), health_reports.c.source == sa.bindparam("source"),
    health_reports.c.kind == sa.bindparam("kind"))


class HealthService:
    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    def report(self, office_id: int, source: str, kind: str, detail: dict | None) -> bool:
        """Records a problem, or clears it when `detail` is None; staff hear of every change."""
        changed = self._store(office_id, source, kind, detail)
        if changed:
            self.bus.publish([ev.device_event(ev.HEALTH_CHANGED, office_id, source[:80],
                                              {"kind": kind, "source": source[:80], "detail": detail}, ev.STAFF)])
        return changed

    def _store(self, office_id: int, source: str, kind: str, detail: dict | None) -> bool:
        now = to_utc_naive(self.clock.now())
        key = {"office_id": office_id, "source": source[:80], "kind": kind}
        with self.db.write() as conn:
            row = conn.execute(_FIND, key).first()
            if detail is None:
                if row is None:
                    return False
                conn.execute(sa.delete(health_reports).where(health_reports.c.id == row.id))
                return True
            if row is None:
                conn.execute(sa.insert(health_reports).values(**key, detail=detail, first_at=now, last_at=now))
                return True
            conn.execute(sa.update(health_reports).where(health_reports.c.id == row.id).values(
                detail=detail, last_at=now, count=health_reports.c.count + 1))
            return row.detail != detail

    def device_presence(self, office_id: int, device_id: int, code: str, delta: int) -> None:
        """A board or rating tablet connected (+1) or left (-1); the live view hears of it."""
        with self.db.write() as conn:
            upsert_status(conn, self.db, self.clock, device_id, delta)
        self.bus.publish([ev.device_event(ev.HEALTH_CHANGED, office_id, code, {"device": code}, ev.STAFF)])

    def reports(self, office_id: int) -> list[dict]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(health_reports).where(health_reports.c.office_id == office_id)
                                .order_by(health_reports.c.last_at.desc())).mappings().all()
        return [{"source": r["source"], "kind": r["kind"], "detail": r["detail"], "count": r["count"],
                 "first_at": from_utc_naive(r["first_at"]).isoformat(),
                 "last_at": from_utc_naive(r["last_at"]).isoformat()} for r in rows]
