"""The admin's live view: counters, queues, devices and the alerts they raise, read in one go."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ..domain.alerts import DeviceState, ServiceWait, all_alerts
from ..domain.clock import Clock, business_date, from_utc_naive
from ..domain.model import TicketStatus
from ..persistence.database import Database
from ..persistence.tables import device_status, devices, services, tickets
from . import offices as directory
from .display import DisplayService
from .health import HealthService

DEFAULT_WAIT_MINUTES = 30
DEFAULT_OFFLINE_GRACE_S = 60


def alert_settings(settings: dict) -> tuple[timedelta, timedelta]:
    """(longest wait before a service raises an alert, how long a device may be gone before it does)."""
    alerts = settings.get("alerts") or {}
    return (timedelta(minutes=int(alerts.get("wait_minutes", DEFAULT_WAIT_MINUTES))),
            timedelta(seconds=int(alerts.get("offline_grace_s", DEFAULT_OFFLINE_GRACE_S))))


class LiveService:
    def __init__(self, db: Database, clock: Clock, display: DisplayService, health: HealthService) -> None:
        self.db = db
        self.clock = clock
        self.display = display
        self.health = health

    def state(self, office_id: int) -> dict:
        now = self.clock.now()
        hall = self.display.state(office_id)
        with self.db.read() as conn:
            office = directory.get_office(conn, office_id)
            today = business_date(now, office.timezone)
            oldest = dict(conn.execute(
                sa.select(services.c.code, sa.func.min(tickets.c.queued_at))
                .join(tickets, tickets.c.service_id == services.c.id)
                .where(tickets.c.office_id == office_id, tickets.c.business_date == today,
                       tickets.c.status == TicketStatus.WAITING.value)
                .group_by(services.c.code)).all())
            rows = conn.execute(
                sa.select(devices.c.code, devices.c.name, devices.c.kind, devices.c.last_seen_at,
                          device_status.c.online, device_status.c.printer_online, device_status.c.paper,
                          device_status.c.detail, device_status.c.updated_at)
                .select_from(devices.outerjoin(device_status, device_status.c.device_id == devices.c.id))
                .where(devices.c.office_id == office_id, devices.c.kind != "integrator")
                .order_by(devices.c.kind, devices.c.code)).mappings().all()
        threshold, grace = alert_settings(office.settings)
        waits = [ServiceWait(w["service"], w["name_vi"], w["waiting"],
                             now - from_utc_naive(oldest[w["service"]]) if w["service"] in oldest else None)
                 for w in hall["waiting"]]
        states = [DeviceState(r["code"], r["name"], r["kind"], bool(r["online"]),
                              from_utc_naive(r["updated_at"]) if r["updated_at"] else None,
                              r["printer_online"], r["paper"]) for r in rows]
        reports = self.health.reports(office_id)
        return {
            "server_time": now.isoformat(),
            "time_zone": office.timezone,      # the page shows times on the office's clock, not the browser's
            "seq": hall["seq"],
            "counters": hall["counters"],
            "services": [{"code": w.code, "name_vi": w.name, "name_en": hall_w["name_en"], "waiting": w.waiting,
                          "longest_wait_s": int(w.longest_wait.total_seconds()) if w.longest_wait else None}
                         for w, hall_w in zip(waits, hall["waiting"], strict=True)],
            "devices": [{"code": r["code"], "name": r["name"], "kind": r["kind"], "online": bool(r["online"]),
                         "last_seen": from_utc_naive(r["last_seen_at"]).isoformat() if r["last_seen_at"] else None,
                         "printer": None if r["printer_online"] is None and r["paper"] is None else
                         {"online": r["printer_online"], "paper": r["paper"], "detail": r["detail"]}}
                        for r in rows],
            "reports": reports,
            "alerts": [a.to_dict() for a in all_alerts(states, waits, reports, now, grace, threshold)],
            "thresholds": {"wait_minutes": int(threshold.total_seconds() // 60),
                           "offline_grace_s": int(grace.total_seconds())},
        }
