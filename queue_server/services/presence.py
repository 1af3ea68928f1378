"""Which devices are connected: one status row per device, counted per open connection.

A device may hold several connections at once (a kiosk page and its agent, a board reloading), so
presence is a count; online means at least one. Printers add their paper state to the same row.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.clock import Clock, to_utc_naive
from ..persistence.database import Database
from ..persistence.tables import device_status, devices


def upsert_status(conn: Connection, db: Database, clock: Clock, device_id: int, connections_delta: int = 0,
                  **printer: object) -> None:
    now = to_utc_naive(clock.now())
    exists = conn.execute(sa.select(device_status.c.connections).where(device_status.c.device_id == device_id)).first()
    if exists is None:
        conn.execute(sa.insert(device_status).values(device_id=device_id, online=False, connections=0, updated_at=now))
    values: dict = {"updated_at": now, **printer}
    if connections_delta:
        bounded = sa.func.max if db.is_sqlite else sa.func.greatest
        values["connections"] = bounded(device_status.c.connections + connections_delta, 0)
    conn.execute(sa.update(device_status).where(device_status.c.device_id == device_id).values(**values))
    conn.execute(sa.update(device_status).where(device_status.c.device_id == device_id)
                 .values(online=device_status.c.connections > 0))
    conn.execute(sa.update(devices).where(devices.c.id == device_id).values(last_seen_at=now))
