"""What the admin's live view raises as an alert, from the hall's state: pure rules, no I/O.

A printer out of paper, an agent or kiosk offline for longer than a grace period, a service whose
longest wait is over the office's threshold, and what boards and the server reported about the voice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Alert:
    code: str          # paper_out, paper_near_end, printer_offline, device_offline, long_wait, voice_fallback, …
    severity: str      # "bad" or "warn"
    subject: str       # the device code or service code it concerns
    message_vi: str
    message_en: str

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "subject": self.subject,
                "message_vi": self.message_vi, "message_en": self.message_en}


@dataclass(frozen=True)
class DeviceState:
    code: str
    name: str
    kind: str
    online: bool
    since: datetime | None          # when its presence last changed (None: never seen)
    printer_online: bool | None = None
    paper: str | None = None


@dataclass(frozen=True)
class ServiceWait:
    code: str
    name: str
    waiting: int
    longest_wait: timedelta | None


WATCHED_KINDS = ("kiosk", "printer", "agent", "display", "rating")


def device_alerts(device: DeviceState, now: datetime, grace: timedelta) -> list[Alert]:
    alerts = []
    name = device.name or device.code
    if not device.online and device.kind in WATCHED_KINDS and device.since is not None and now - device.since > grace:
        minutes = int((now - device.since).total_seconds() // 60)
        alerts.append(Alert("device_offline", "bad", device.code,
                            f"«{name}» mất kết nối {minutes} phút.", f"“{name}” has been offline for {minutes} min."))
    if device.online and device.paper == "out":
        alerts.append(Alert("paper_out", "bad", device.code, f"Máy in «{name}» hết giấy.",
                            f"The printer of “{name}” is out of paper."))
    elif device.online and device.paper == "near_end":
        alerts.append(Alert("paper_near_end", "warn", device.code, f"Máy in «{name}» sắp hết giấy.",
                            f"The printer of “{name}” is nearly out of paper."))
    if device.online and device.printer_online is False and device.paper != "out":   # out of paper also goes offline
        alerts.append(Alert("printer_offline", "bad", device.code, f"Máy in «{name}» không phản hồi.",
                            f"The printer of “{name}” is not responding."))
    return alerts


def wait_alerts(service: ServiceWait, threshold: timedelta) -> list[Alert]:
    if service.longest_wait is None or service.longest_wait <= threshold:
        return []
    minutes = int(service.longest_wait.total_seconds() // 60)
    return [Alert("long_wait", "warn", service.code,
                  f"«{service.name}»: có người đã chờ {minutes} phút ({service.waiting} người đang chờ).",
                  f"“{service.name}”: someone has waited {minutes} min ({service.waiting} waiting).")]


def report_alerts(report: dict) -> list[Alert]:
    """Health reports (services/health.py) as alerts."""
    detail = report.get("detail") or {}
    if report["kind"] == "clip_missing":
        words = ", ".join(detail.get("words") or [])
        return [Alert("clip_missing", "warn", report["source"], f"Thiếu tệp ghi âm giọng đọc: {words}.",
                      f"Voice clips are missing: {words}.")]
    if report["kind"] == "voice_fallback":
        return [Alert("voice_fallback", "warn", report["source"],
                      f"Bảng «{report['source']}» không phát được giọng «{detail.get('wanted')}», "
                      f"đang dùng «{detail.get('engine')}» ({detail.get('reason') or '?'}).",
                      f"Board “{report['source']}” cannot use the “{detail.get('wanted')}” voice; "
                      f"it uses “{detail.get('engine')}” ({detail.get('reason') or '?'}).")]
    return []


def all_alerts(devices: list[DeviceState], services: list[ServiceWait], reports: list[dict], now: datetime,
               grace: timedelta, threshold: timedelta) -> list[Alert]:
    """Bad ones first, then warnings; in each, in the order of the inputs."""
    alerts = [a for d in devices for a in device_alerts(d, now, grace)]
    alerts += [a for s in services for a in wait_alerts(s, threshold)]
    alerts += [a for r in reports for a in report_alerts(r)]
    return sorted(alerts, key=lambda a: a.severity != "bad")
