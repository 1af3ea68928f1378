"""Per-office event sequence numbers, allocated inside the transaction that made the change.

The office row is updated last in every write transaction, so the lock it takes is short,
and the numbers follow commit order: a client that sees a gap knows it missed something.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.events import Event
from ..persistence.tables import offices

_BUMP = (sa.update(offices).where(offices.c.id == sa.bindparam("office_id"))
         .values(event_seq=offices.c.event_seq + sa.bindparam("n", type_=sa.BigInteger))
         .returning(offices.c.event_seq))
_CURRENT = sa.select(offices.c.event_seq).where(offices.c.id == sa.bindparam("office_id"))


def allocate(conn: Connection, office_id: int, pending: list[tuple[str, dict]]) -> list[Event]:
    """Turns (name, data) pairs into numbered public events."""
    if not pending:
        return []
    last = conn.execute(_BUMP, {"office_id": office_id, "n": len(pending)}).scalar_one()
    first = last - len(pending) + 1
    return [Event(name=name, office_id=office_id, seq=first + i, data=data)
            for i, (name, data) in enumerate(pending)]


def current(conn: Connection, office_id: int) -> int:
    return conn.execute(_CURRENT, {"office_id": office_id}).scalar_one()
