"""Print jobs: an outbox written with the ticket, pushed to the kiosk's agent, printed once.

The job row is committed in the same transaction as its ticket, so a ticket never exists
without its job and a job never exists without its ticket. The agent journals what it has
printed; this side makes every state change conditional, so a repeated report is harmless.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ..domain import events as ev
from ..domain.clock import Clock, from_utc_naive, local_time, to_utc_naive
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.model import PRINTING_DEVICES, DeviceKind, TicketStatus
from ..domain.schedule import SESSION_NAMES
from ..persistence.database import Database
from ..persistence.tables import device_status, devices, print_jobs, tickets
from .bus import EventBus
from .offices import Office
from .presence import upsert_status

PENDING, SENT, PRINTED, FAILED, UNCERTAIN, EXPIRED = "pending", "sent", "printed", "failed", "uncertain", "expired"
OPEN_STATES = (PENDING, SENT, FAILED)
RESULT_STATES = (PRINTED, FAILED, UNCERTAIN)

# What the kiosk tells the citizen for each printer problem (vi, en).
FAULT_TEXT = {
    "paper_out": ("Máy in hết giấy. Số của quý vị vẫn được giữ — vui lòng ghi nhớ số trên màn hình và báo cán bộ.",
                  "The printer is out of paper. Your number is kept — please note it from the screen and tell "
                  "a staff member."),
    "offline": ("Máy in không phản hồi. Số của quý vị vẫn được giữ — vui lòng ghi nhớ số trên màn hình và báo cán bộ.",
                "The printer is not responding. Your number is kept — please note it from the screen and tell "
                "a staff member."),
    "agent_offline": ("Máy in chưa sẵn sàng. Số của quý vị vẫn được giữ — vui lòng ghi nhớ số trên màn hình.",
                      "The printer is not ready. Your number is kept — please note it from the screen."),
    "uncertain": ("Không chắc phiếu đã được in. Nếu không có phiếu, vui lòng báo cán bộ để in lại.",
                  "The ticket may not have printed. If you have no ticket, please ask a staff member to reprint it."),
    "error": ("Máy in gặp lỗi. Số của quý vị vẫn được giữ — vui lòng báo cán bộ.",
              "The printer reported an error. Your number is kept — please tell a staff member."),
}


_KIOSK_DEVICE = sa.select(devices.c.kind, devices.c.settings).where(
    devices.c.office_id == sa.bindparam("office_id"), devices.c.code == sa.bindparam("code"))
_INSERT_JOB = sa.insert(print_jobs).returning(*print_jobs.c)


@dataclass(frozen=True)
class KioskRef:
    office_id: int
    code: str


def job_view(row: RowMapping) -> dict:
    return {"id": row["id"], "kiosk": row["device_code"], "ticket_id": row["ticket_id"], "kind": row["kind"],
            "status": row["status"], "attempts": row["attempts"], "error_code": row["error_code"],
            "created_at": from_utc_naive(row["created_at"]).isoformat()}


# What the officer reads for a slip printed at the counter (a receipt, an apology): nobody's number is held.
STAFF_FAULT_TEXT = {
    "paper_out": ("Máy in hết giấy. Lệnh in được giữ và sẽ in khi có giấy.",
                  "The printer is out of paper. The job is kept and prints once paper is loaded."),
    "offline": ("Máy in không phản hồi. Lệnh in được giữ và sẽ in khi máy in sẵn sàng.",
                "The printer is not responding. The job is kept and prints once the printer is ready."),
    "agent_offline": ("Máy in chưa kết nối. Lệnh in sẽ được gửi khi máy in kết nối lại.",
                      "The printer is not connected. The job is sent once it reconnects."),
    "uncertain": ("Không chắc phiếu đã được in. Vui lòng kiểm tra máy in và in lại nếu cần.",
                  "The slip may not have printed. Please check the printer and print again if needed."),
    "error": ("Máy in gặp lỗi. Vui lòng kiểm tra máy in.", "The printer reported an error. Please check it."),
}


def status_message(status: str, error_code: str | None, kind: str = "ticket") -> dict | None:
    if status == PRINTED or status in (PENDING, SENT):
        return None
    key = "uncertain" if status == UNCERTAIN else (error_code if error_code in FAULT_TEXT else "error")
    vi, en = (STAFF_FAULT_TEXT if kind in ("receipt", "apology") else FAULT_TEXT)[key]
    return {"code": key, "message_vi": vi, "message_en": en}


def ticket_template(office: Office) -> dict:
    """The office's ticket template (settings["ticket"]), with the defaults for what it leaves out:
    the address under the office name, the usual closing line, the tracking QR, 80 mm paper."""
    from hardware.slip import TICKET_FOOTER

    saved = office.settings.get("ticket") or {}
    return {"header_lines": list(saved.get("header_lines", [office.address] if office.address else [])),
            "footer": saved.get("footer") or TICKET_FOOTER, "qr": bool(saved.get("qr", True)),
            "paper_width": saved.get("paper_width", 576)}


def ticket_slip(office: Office, service_name_vi: str, service_name_en: str, view: dict, track_url: str | None,
                lang: str, tz: str, priority_names: tuple[str, str] | None, template: dict | None = None) -> dict:
    """The ticket as the agent will print it (hardware.slip format), in Vietnamese first.

    `template` (header lines, footer, QR on or off) is the office's saved one unless given: the
    admin's preview passes the one being edited.
    """
    from hardware.slip import slip_id_for
    from hardware.slip import ticket_slip as layout

    template = template or ticket_template(office)
    issued = local_time(datetime.fromisoformat(view["issued_at"]), tz)
    session_vi = SESSION_NAMES[view["session"]][0]
    english = None
    qr_url = track_url if template["qr"] else None
    if lang == "en":
        english = [f"Queue ticket — {service_name_en}", f"People ahead: {view['position']}",
                   "Please keep this ticket and wait for your number. Thank you!"]
        if priority_names:
            english.insert(1, f"Priority: {priority_names[1]}")
        if qr_url:
            english.append("Scan the QR code to follow your turn.")
            qr_url += "?lang=en"             # the phone opens the page in the ticket's language
    slip = layout(
        office_name=office.name, office_lines=template["header_lines"],
        number=view["number"], service_name=service_name_vi, people_ahead=view["position"],
        issued_text=f"{issued:%H:%M} — {issued:%d/%m/%Y}", session_text=f"Buổi: {session_vi}",
        qr_url=qr_url, footer=template["footer"],
        priority_text=f"Ưu tiên: {priority_names[0]}" if priority_names else None, english_lines=english,
        slip_id=slip_id_for(view["business_date"], f"{view['number']}-{view['id']}"),   # "Đ001" → "D001"
    )
    return slip.to_dict()


class PrintService:
    STALE_AFTER = timedelta(minutes=10)   # a citizen has long left the kiosk by then

    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    # inside the ticket's transaction ---------------------------------------------
    def kiosk_prints(self, conn: Connection, office_id: int, code: str | None) -> bool:
        if not code:
            return False
        row = conn.execute(_KIOSK_DEVICE, {"office_id": office_id, "code": code}).first()
        return row is not None and row.kind in PRINTING_DEVICES and (row.settings or {}).get("printing", True)

    def enqueue(self, conn: Connection, office_id: int, device_code: str, ticket_id: int | None, kind: str,
                slip: dict) -> tuple[dict, ev.Event]:
        row = conn.execute(_INSERT_JOB, {
            "office_id": office_id, "device_code": device_code, "ticket_id": ticket_id, "kind": kind, "slip": slip,
            "status": PENDING, "created_at": to_utc_naive(self.clock.now()), "attempts": 0,
        }).mappings().one()
        event = ev.device_event(ev.PRINT_JOB_CREATED, office_id, device_code, {"job": self._wire(row)}, ev.AGENT)
        return job_view(row), event

    @staticmethod
    def _wire(row: RowMapping) -> dict:
        """What the agent receives: the job and the slip to print."""
        return {"id": row["id"], "kind": row["kind"], "ticket_id": row["ticket_id"], "slip": row["slip"]}

    # the agent side ------------------------------------------------------------------
    def _device_id(self, conn: Connection, kiosk: KioskRef) -> int:
        device_id = conn.execute(sa.select(devices.c.id).where(
            devices.c.office_id == kiosk.office_id, devices.c.code == kiosk.code,
            devices.c.kind.in_(PRINTING_DEVICES))).scalar()
        if device_id is None:
            raise NotFound(f"Không có ki-ốt «{kiosk.code}».", f"There is no kiosk “{kiosk.code}”.",
                           code="kiosk_not_found")
        return device_id

    def check_agent(self, office_id: int, device_kind: DeviceKind, device_code: str, kiosk_code: str) -> KioskRef:
        """An agent token, or the kiosk's own token, may serve that kiosk's printer."""
        kiosk = KioskRef(office_id, kiosk_code)
        if device_kind not in (DeviceKind.AGENT, DeviceKind.KIOSK) or (
                device_kind is DeviceKind.KIOSK and device_code != kiosk_code):
            raise Forbidden("Thiết bị này không được phục vụ máy in của ki-ốt đó.",
                            "This device may not serve that kiosk's printer.", code="device_scope")
        with self.db.read() as conn:
            self._device_id(conn, kiosk)
        return kiosk

    def agent_connected(self, kiosk: KioskRef) -> list[dict]:
        """Marks the agent present and returns the jobs it should print now, oldest first."""
        now = to_utc_naive(self.clock.now())
        with self.db.write() as conn:
            device_id = self._device_id(conn, kiosk)
            self._upsert_status(conn, device_id, connections_delta=1)
            jobs = self._due_jobs(conn, kiosk, now, OPEN_STATES)
        self.bus.publish([self._kiosk_state_event(kiosk)])
        return jobs

    def agent_disconnected(self, kiosk: KioskRef) -> None:
        with self.db.write() as conn:
            device_id = self._device_id(conn, kiosk)
            self._upsert_status(conn, device_id, connections_delta=-1)
        self.bus.publish([self._kiosk_state_event(kiosk)])

    def _due_jobs(self, conn: Connection, kiosk: KioskRef, now: datetime, states: tuple[str, ...]) -> list[dict]:
        """Open jobs still worth printing; stale ones expire instead of surprising the next citizen."""
        rows = conn.execute(
            sa.select(print_jobs, tickets.c.status.label("ticket_status")).outerjoin(
                tickets, tickets.c.id == print_jobs.c.ticket_id)
            .where(print_jobs.c.office_id == kiosk.office_id, print_jobs.c.device_code == kiosk.code,
                   print_jobs.c.status.in_(states))
            .order_by(print_jobs.c.id)).mappings().all()
        due, stale = [], []
        for row in rows:
            too_old = now - row["created_at"] > self.STALE_AFTER
            ticket_gone = row["ticket_status"] is not None and row["ticket_status"] != TicketStatus.WAITING.value
            (stale if too_old or (ticket_gone and row["kind"] == "ticket") else due).append(row)
        if stale:
            conn.execute(sa.update(print_jobs).where(print_jobs.c.id.in_([r["id"] for r in stale]),
                                                     print_jobs.c.status.in_(OPEN_STATES))
                         .values(status=EXPIRED, done_at=now, error_code="stale"))
        if due:
            conn.execute(sa.update(print_jobs).where(print_jobs.c.id.in_([r["id"] for r in due]),
                                                     print_jobs.c.status.in_(OPEN_STATES))
                         .values(status=SENT, sent_at=now))
        return [self._wire(r) for r in due]

    def record_result(self, kiosk: KioskRef, job_id: int, status: str, error_code: str | None,
                      error: str | None) -> dict:
        if status not in RESULT_STATES:
            raise ValueError(f"unknown print result {status!r}")
        now = to_utc_naive(self.clock.now())
        with self.db.write() as conn:
            row = conn.execute(sa.select(print_jobs).where(
                print_jobs.c.id == job_id, print_jobs.c.office_id == kiosk.office_id,
                print_jobs.c.device_code == kiosk.code)).mappings().first()
            if row is None:
                raise NotFound("Không có lệnh in này.", "No such print job.", code="print_job_not_found")
            if row["status"] in (PRINTED, UNCERTAIN, EXPIRED):
                return job_view(row)          # already settled: a repeated report changes nothing
            values: dict = {"status": status, "attempts": row["attempts"] + 1,
                            "error_code": error_code if status != PRINTED else None,
                            "error": (error or "")[:300] or None}
            if status in (PRINTED, UNCERTAIN):
                values["done_at"] = now
            conn.execute(sa.update(print_jobs).where(print_jobs.c.id == job_id,
                                                     print_jobs.c.status == row["status"]).values(**values))
            updated = conn.execute(sa.select(print_jobs).where(print_jobs.c.id == job_id)).mappings().one()
        view = job_view(updated)
        self.bus.publish([ev.device_event(ev.PRINT_STATUS_CHANGED, kiosk.office_id, kiosk.code,
                                          {"job": view, "fault": status_message(view["status"], view["error_code"])},
                                          ev.KIOSK)])
        return view

    def record_printer_status(self, kiosk: KioskRef, online: bool | None, paper: str | None,
                              detail: str | None) -> list[dict]:
        """Stores the printer's state; when it has just become usable, returns failed jobs to retry."""
        now = to_utc_naive(self.clock.now())
        with self.db.write() as conn:
            device_id = self._device_id(conn, kiosk)
            before = conn.execute(sa.select(device_status).where(device_status.c.device_id == device_id)
                                  ).mappings().first()
            self._upsert_status(conn, device_id, printer_online=online, paper=paper,
                                detail=(detail or "")[:300] or None)
            usable = online is not False and paper != "out"
            was_usable = before is not None and before["printer_online"] is not False and before["paper"] != "out"
            # Jobs that failed on this printer go again once it has just become usable.
            retry = self._due_jobs(conn, kiosk, now, (FAILED,)) if usable and not was_usable else []
            changed = before is None or (before["printer_online"], before["paper"]) != (online, paper)
        if changed:
            self.bus.publish([self._kiosk_state_event(kiosk)])
        return retry

    def _upsert_status(self, conn: Connection, device_id: int, connections_delta: int = 0,
                       **printer: object) -> None:
        upsert_status(conn, self.db, self.clock, device_id, connections_delta, **printer)

    def job(self, job_id: int, office_id: int) -> dict:
        with self.db.read() as conn:
            row = conn.execute(sa.select(print_jobs).where(print_jobs.c.id == job_id,
                                                           print_jobs.c.office_id == office_id)).mappings().first()
        if row is None:
            raise NotFound("Không có lệnh in này.", "There is no such print job.", code="print_job_not_found")
        view = job_view(row)
        return {**view, "fault": status_message(row["status"], row["error_code"], row["kind"])}

    def printers(self, office_id: int) -> list[dict]:
        """The office's printing devices with their last reported state; a printer may belong to a counter."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(devices.c.code, devices.c.name, devices.c.kind, devices.c.settings, device_status)
                .select_from(devices.outerjoin(device_status, device_status.c.device_id == devices.c.id))
                .where(devices.c.office_id == office_id, devices.c.kind.in_(PRINTING_DEVICES))
                .order_by(devices.c.code)).mappings().all()
        return [{"code": r["code"], "name": r["name"], "kind": r["kind"],
                 "counter": (r["settings"] or {}).get("counter"), "agent_online": bool(r["online"]),
                 "printer": None if r["online"] is None else
                 {"online": r["printer_online"], "paper": r["paper"], "detail": r["detail"]}}
                for r in rows if (r["settings"] or {}).get("printing", True)]

    def kiosk_state(self, kiosk: KioskRef) -> dict:
        with self.db.read() as conn:
            device_id = self._device_id(conn, kiosk)
            row = conn.execute(sa.select(device_status).where(device_status.c.device_id == device_id)
                               ).mappings().first()
        if row is None:
            return {"kiosk": kiosk.code, "agent_online": False, "printer": None}
        return {"kiosk": kiosk.code, "agent_online": bool(row["online"]),
                "printer": {"online": row["printer_online"], "paper": row["paper"], "detail": row["detail"]}}

    def _kiosk_state_event(self, kiosk: KioskRef) -> ev.Event:
        return ev.device_event(ev.PRINTER_STATUS_CHANGED, kiosk.office_id, kiosk.code, self.kiosk_state(kiosk),
                               ev.KIOSK)

    def recent_results(self, kiosk: KioskRef, within: timedelta = timedelta(minutes=5)) -> list[dict]:
        """Print results of the last few minutes, as print_status_changed payloads, oldest first."""
        since = to_utc_naive(self.clock.now() - within)
        with self.db.read() as conn:
            rows = conn.execute(sa.select(print_jobs).where(
                print_jobs.c.office_id == kiosk.office_id, print_jobs.c.device_code == kiosk.code,
                print_jobs.c.created_at >= since, print_jobs.c.status.in_(RESULT_STATES))
                .order_by(print_jobs.c.id)).mappings().all()
        return [{"office": kiosk.office_id, "device": kiosk.code, "job": job_view(r),
                 "fault": status_message(r["status"], r["error_code"])} for r in rows]

    def latest_job(self, conn: Connection, ticket_id: int) -> dict | None:
        row = conn.execute(sa.select(print_jobs).where(print_jobs.c.ticket_id == ticket_id)
                           .order_by(print_jobs.c.id.desc()).limit(1)).mappings().first()
        return job_view(row) if row else None

    def reset_presence(self) -> None:
        """At server start nobody is connected yet."""
        with self.db.write() as conn:
            conn.execute(sa.update(device_status).values(online=False, connections=0))

    # staff ---------------------------------------------------------------------------
    def jobs_for_ticket(self, ticket_id: int) -> list[dict]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(print_jobs).where(print_jobs.c.ticket_id == ticket_id)
                                .order_by(print_jobs.c.id)).mappings().all()
        return [job_view(r) for r in rows]

    def reprint(self, ticket_id: int, office_id: int, device_code: str | None) -> dict:
        with self.db.write() as conn:
            job = conn.execute(sa.select(print_jobs).where(
                print_jobs.c.ticket_id == ticket_id, print_jobs.c.office_id == office_id)
                .order_by(print_jobs.c.id.desc()).limit(1)).mappings().first()
            if job is None:
                raise Conflict("Phiếu này chưa từng được in nên không có bản để in lại.",
                               "This ticket was never printed, so there is nothing to reprint.",
                               code="nothing_to_reprint")
            target = device_code or job["device_code"]
            if not self.kiosk_prints(conn, office_id, target):
                raise NotFound(f"Không có ki-ốt «{target}» có máy in.", f"There is no kiosk “{target}” with a printer.",
                               code="kiosk_not_found")
            view, event = self.enqueue(conn, office_id, target, ticket_id, "reprint", job["slip"])
        self.bus.publish([event])
        return view
