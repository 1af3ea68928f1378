"""Names of the events the queue publishes; the only place they are spelled."""
from __future__ import annotations

from dataclasses import dataclass, field

TICKET_ISSUED = "ticket_issued"
TICKET_CALLED = "ticket_called"
TICKET_UPDATED = "ticket_updated"
QUEUE_CHANGED = "queue_changed"
COUNTER_CHANGED = "counter_changed"

ALL = (TICKET_ISSUED, TICKET_CALLED, TICKET_UPDATED, QUEUE_CHANGED, COUNTER_CHANGED)


@dataclass(frozen=True)
class Event:
    name: str
    office_id: int
    seq: int
    data: dict = field(default_factory=dict)
    staff_only: bool = False

    def payload(self) -> dict:
        return {"seq": self.seq, "office": self.office_id, **self.data}
