"""The audit log: every change an admin makes, with who, when, and the value before and after."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.clock import Clock, from_utc_naive, to_utc_naive
from ..persistence.tables import audit_log
from .auth import Principal


def record(conn: Connection, clock: Clock, actor: Principal, office_id: int | None, entity: str, key: object,
           action: str, before: dict | None, after: dict | None) -> None:
    """Written in the transaction of the change itself, so a change never goes unrecorded."""
    if before == after:
        return
    conn.execute(sa.insert(audit_log).values(
        office_id=office_id, user_id=actor.user_id, username=actor.username or actor.device_code or "?",
        at=to_utc_naive(clock.now()), entity=entity, entity_key=str(key)[:80], action=action,
        before=before, after=after))


def entries(conn: Connection, office_id: int | None, limit: int = 200, entity: str | None = None) -> list[dict]:
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if office_id is not None:
        query = query.where(audit_log.c.office_id == office_id)
    if entity:
        query = query.where(audit_log.c.entity == entity)
    return [{"id": r["id"], "at": from_utc_naive(r["at"]).isoformat(), "username": r["username"],
             "entity": r["entity"], "key": r["entity_key"], "action": r["action"], "before": r["before"],
             "after": r["after"]} for r in conn.execute(query).mappings()]
