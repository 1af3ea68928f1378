"""Names of the events the queue publishes; the only place they are spelled."""
from __future__ import annotations

from dataclasses import dataclass, field

TICKET_ISSUED = "ticket_issued"
TICKET_CALLED = "ticket_called"
TICKET_UPDATED = "ticket_updated"
QUEUE_CHANGED = "queue_changed"
COUNTER_CHANGED = "counter_changed"
PRINT_JOB_CREATED = "print_job_created"
PRINT_STATUS_CHANGED = "print_status_changed"
PRINTER_STATUS_CHANGED = "printer_status_changed"
DOSSIER_SCANNED = "dossier_scanned"
NOTICE_CHANGED = "notice_changed"
TICKET_RATED = "ticket_rated"          # a visit was rated (the level is not said: the hall need not know)
SETTINGS_CHANGED = "settings_changed"  # services, counters, priority groups or voice changed: read them again
HEALTH_CHANGED = "health_changed"
SOUND_STATUS = "sound_status"          # sent by a board: which voice engine spoke, and why not the wanted one
# What one action published for a room, as one message: [[name, payload], …] in sequence order (a call
# is ticket_called, queue_changed, counter_changed and ticket_updated). A lone event goes out by its name.
EVENTS_PUBLISHED = "events_published"

# Who receives an event. Public events change the hall's shared state and carry the office's
# sequence number; device events concern one kiosk or agent and carry none (seq 0), so they
# never open a gap in what boards and consoles see.
PUBLIC = "public"
KIOSK = "kiosk"   # the kiosk page of event.device, and staff
AGENT = "agent"   # the hardware agent serving event.device
STAFF = "staff"   # signed-in staff only (the admin's live view)


@dataclass(frozen=True)
class Event:
    name: str
    office_id: int
    seq: int
    data: dict = field(default_factory=dict)
    audience: str = PUBLIC
    device: str | None = None

    def payload(self) -> dict:
        if self.audience != PUBLIC:
            return {"office": self.office_id, "device": self.device, **self.data}
        return {"seq": self.seq, "office": self.office_id, **self.data}


def device_event(name: str, office_id: int, device: str, data: dict, audience: str) -> Event:
    return Event(name=name, office_id=office_id, seq=0, data=data, audience=audience, device=device)
