"""Dossiers: getting them in (API, import, pull) and the public lookup citizens do at the kiosk."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ..domain.clock import Clock, from_utc_naive, local_time, to_utc_naive
from ..domain.dossiers import (
    BUCKET_NAMES,
    CHANNELS,
    CodeRejected,
    DossierCode,
    Step,
    citizen_status,
    deadline_bucket,
    is_overdue,
    mask_name,
    parse_code,
    validate_code,
)
from ..domain.errors import Conflict, InvalidInput, NotFound, RateLimited
from ..persistence.database import Database
from ..persistence.tables import dossier_lookups, dossier_steps, dossiers, offices
from .offices import get_office
from .printing import PrintService
from .ratelimit import SlidingWindowLimiter

DECOY_CODE = "000.00.00.X00-000101-0001"   # looked up for malformed input, so it costs the same
_INSERT_DOSSIER = sa.insert(dossiers).returning(dossiers.c.id, dossiers.c.code)


@dataclass(frozen=True)
class StepInput:
    at: datetime
    status: int
    unit: str = ""
    action: str = ""


@dataclass(frozen=True)
class DossierInput:
    """One dossier as an integrator sends it; times are timezone-aware."""
    code: str
    procedure_name: str
    received_at: datetime
    appointment_at: datetime
    status: int
    field_name: str = ""
    procedure_code: str | None = None
    owner_name: str = ""
    owner_id: str | None = None
    channel: int = 1
    status_at: datetime | None = None
    unit: str = ""
    action: str = ""
    steps: tuple[StepInput, ...] = field(default_factory=tuple)
    apology_new_date: datetime | None = None
    apology_at: datetime | None = None
    return_counter: int | None = None
    postal: bool = False
    office_id: int | None = None


def long_time(instant: datetime, tz: str) -> str:
    """"08 giờ 10 phút, ngày 15 tháng 09 năm 2025", as form 01 writes times."""
    local = local_time(instant, tz)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d} tháng {local:%m} năm {local:%Y}"


def lookup_url(base: str | None, code: str) -> str | None:
    """The public page a receipt's QR opens; it ends in the code, so the kiosk reads it too."""
    return f"{base.rstrip('/')}/tra-cuu/{code}" if base else None


class DossierService:
    def __init__(self, db: Database, clock: Clock, id_hash_key: bytes, lookup_limits: dict | None = None,
                 printing: PrintService | None = None) -> None:
        self.db = db
        self.clock = clock
        self.printing = printing
        self._key = id_hash_key
        limits = lookup_limits or {}
        self.by_address = SlidingWindowLimiter(limits.get("address", 30), 60)
        self.by_kiosk = SlidingWindowLimiter(limits.get("kiosk", 120), 60)

    def hash_owner_id(self, owner_id: str) -> str:
        return hmac.new(self._key, b"owner-id:" + owner_id.strip().upper().encode(), hashlib.sha256).hexdigest()

    # getting dossiers in -------------------------------------------------------------------
    def upsert(self, item: DossierInput, source: str = "api") -> dict:
        with self.db.write() as conn:
            outcome = self._upsert(conn, item, source)
        return outcome

    def upsert_many(self, items: list[DossierInput], source: str = "api") -> list[dict]:
        """One transaction for a batch: all of it lands, or none (a bad item names itself).

        New dossiers, the usual case of a feed, go in with one multi-row insert for the dossiers
        and one for their steps; known ones and repeats within the batch take the careful path.
        """
        now = to_utc_naive(self.clock.now())
        with self.db.write() as conn:
            rows = [(str(validate_code(item.code.strip().upper())), item) for item in items]
            known: set[str] = set()
            for start in range(0, len(rows), 500):
                chunk = [code for code, _ in rows[start:start + 500]]
                known.update(conn.execute(sa.select(dossiers.c.code).where(dossiers.c.code.in_(chunk))).scalars())
            fresh, careful, seen = [], set(), set()
            for index, (code, item) in enumerate(rows):
                if code in known or code in seen:
                    careful.add(index)
                else:
                    fresh.append((code, item))
                seen.add(code)
            results = {}
            if fresh:
                inserted = conn.execute(
                    _INSERT_DOSSIER, [{"code": code, **self._values(item, code, source, now)} for code, item in fresh]
                ).all()
                ids = {code: dossier_id for dossier_id, code in inserted}
                steps = []
                for code, item in fresh:
                    new_steps = self._new_steps(item, None, set(), now)
                    steps += [{"dossier_id": ids[code], **step} for step in new_steps]
                    results[code] = {"code": code, "created": True, "steps_added": len(new_steps)}
                if steps:
                    conn.execute(sa.insert(dossier_steps), steps)
            return [self._upsert(conn, item, source) if index in careful else results[code]
                    for index, (code, item) in enumerate(rows)]

    def _values(self, item: DossierInput, code: str, source: str, now: datetime) -> dict:
        parsed = validate_code(code)
        values = {
            "agency_code": parsed.agency, "received_date": parsed.received, "office_id": item.office_id,
            "procedure_code": item.procedure_code, "procedure_name": item.procedure_name,
            "field_name": item.field_name, "owner_name": item.owner_name, "channel": item.channel,
            "received_at": to_utc_naive(item.received_at), "appointment_at": to_utc_naive(item.appointment_at),
            "status": item.status, "return_counter": item.return_counter, "postal": item.postal,
            "source": source, "updated_at": now, "owner_id_hash": None, "apology_new_date": None, "apology_at": None,
        }
        if item.owner_id:
            values["owner_id_hash"] = self.hash_owner_id(item.owner_id)
        if item.apology_new_date is not None:
            values["apology_new_date"] = to_utc_naive(item.apology_new_date)
            values["apology_at"] = to_utc_naive(item.apology_at) if item.apology_at else None
        return values

    def _upsert(self, conn: Connection, item: DossierInput, source: str) -> dict:
        code = str(validate_code(item.code.strip().upper()))
        now = to_utc_naive(self.clock.now())
        values = self._values(item, code, source, now)
        existing = conn.execute(sa.select(dossiers).where(dossiers.c.code == code)).mappings().first()
        if existing is None:
            dossier_id = conn.execute(_INSERT_DOSSIER, {"code": code, **values}).first()[0]
            created, previous_status = True, None
        else:
            dossier_id, created, previous_status = existing["id"], False, existing["status"]
            if not item.owner_id:
                del values["owner_id_hash"]              # keep the hash we have
            for key in ("apology_new_date", "apology_at"):
                del values[key]
            values.update(self._apology(existing, item))
            conn.execute(sa.update(dossiers).where(dossiers.c.id == dossier_id).values(**values))
        appended = self._append_steps(conn, dossier_id, item, previous_status, now)
        return {"code": code, "created": created, "steps_added": appended}

    @staticmethod
    def _apology(existing: RowMapping | None, item: DossierInput) -> dict:
        """The return date may be moved once; repeating the same apology is fine."""
        if item.apology_new_date is None:
            return {}
        new_date = to_utc_naive(item.apology_new_date)
        if existing is not None and existing["apology_new_date"] is not None:
            if existing["apology_new_date"] != new_date:
                raise Conflict(f"Hồ sơ {existing['code']} đã được hẹn lại một lần; không thể đổi ngày hẹn lần nữa.",
                               f"Dossier {existing['code']} was already given a new date once; it cannot move again.",
                               code="apology_already_given")
            return {}
        return {"apology_new_date": new_date,
                "apology_at": to_utc_naive(item.apology_at) if item.apology_at else None}

    def _append_steps(self, conn: Connection, dossier_id: int, item: DossierInput, previous_status: int | None,
                      now: datetime) -> int:
        """History only grows: steps already recorded are not written again, none is ever changed."""
        known = {(r.at, r.status, r.action) for r in conn.execute(
            sa.select(dossier_steps.c.at, dossier_steps.c.status, dossier_steps.c.action)
            .where(dossier_steps.c.dossier_id == dossier_id))}
        fresh = self._new_steps(item, previous_status, known, now)
        if fresh:
            conn.execute(sa.insert(dossier_steps), [{"dossier_id": dossier_id, **step} for step in fresh])
        return len(fresh)

    @staticmethod
    def _new_steps(item: DossierInput, previous_status: int | None, known: set, now: datetime) -> list[dict]:
        wanted = [StepInput(to_utc_naive(s.at), s.status, s.unit, s.action) for s in item.steps]
        if item.status != previous_status and not any(s.status == item.status for s in item.steps):
            at = to_utc_naive(item.status_at) if item.status_at else now
            wanted.append(StepInput(at, item.status, item.unit, item.action))
        fresh = []
        for step in sorted(wanted, key=lambda s: s.at):
            key = (step.at, step.status, step.action)
            if key not in known:
                known.add(key)
                fresh.append({"at": step.at, "status": step.status, "unit": step.unit, "action": step.action})
        return fresh

    # at the counter ------------------------------------------------------------------------
    def register(self, office_id: int, item: dict, code: str | None = None, lang: str = "vi") -> dict:
        """A dossier received at the counter: the code is the next of the office's day unless given.

        The office row is locked first, so two counters registering at once get consecutive codes.
        """
        now = self.clock.now()
        with self.db.write() as conn:
            office = get_office(conn, office_id)
            conn.execute(self.db.for_update(sa.select(offices.c.id).where(offices.c.id == office_id)))
            if code is None:
                code = self._next_code(conn, office.agency_code, local_time(now, office.timezone).date())
            else:
                code = str(validate_code(code.strip().upper()))
                if conn.execute(sa.select(dossiers.c.id).where(dossiers.c.code == code)).first() is not None:
                    raise Conflict(f"Hồ sơ {code} đã có trong hệ thống.", f"Dossier {code} already exists.",
                                   code="dossier_exists")
            if item["appointment_at"] <= now:
                raise InvalidInput("Ngày hẹn trả phải sau thời điểm tiếp nhận.",
                                   "The return date must be after the time of receipt.", code="appointment_in_past",
                                   details={"field": "appointment_at"})
            received = DossierInput(code=code, received_at=now, status=2, status_at=now, office_id=office_id,
                                    unit="Bộ phận Tiếp nhận và Trả kết quả", action="Tiếp nhận hồ sơ", **item)
            self._upsert(conn, received, "counter")
            row = conn.execute(sa.select(dossiers).where(dossiers.c.code == code)).mappings().one()
            steps = self._steps(conn, row["id"])
            tz = self._tz(conn, row)
        return self._staff(row, steps, lang, tz)

    @staticmethod
    def _next_code(conn: Connection, agency: str | None, day: date) -> str:
        if not agency:
            raise InvalidInput("Cơ quan chưa có mã định danh (QCVN 102) nên chưa thể tự cấp mã hồ sơ; "
                               "vui lòng nhập mã hồ sơ.",
                               "The office has no agency code yet, so codes cannot be issued here; "
                               "please type the dossier code.", code="no_agency_code")
        codes = conn.execute(sa.select(dossiers.c.code).where(
            dossiers.c.agency_code == agency, dossiers.c.received_date == day)).scalars()
        last = max((int(c[-4:]) for c in codes), default=0)
        if last >= 9999:
            raise Conflict("Đã hết mã hồ sơ trong ngày (9999).", "The day's 9,999 dossier codes are used up.",
                           code="codes_exhausted")
        return str(DossierCode(agency, day, last + 1))

    def staff_view(self, code_text: object, office_id: int, lang: str = "vi") -> dict:
        """What the officer sees: the citizen's view plus the owner's full name; no rate limit, no decoy."""
        code = str(parse_code(code_text))
        with self.db.read() as conn:
            row = conn.execute(sa.select(dossiers).where(dossiers.c.code == code)).mappings().first()
            if row is None or row["office_id"] not in (None, office_id):
                raise NotFound(f"Không tìm thấy hồ sơ {code}.", f"No dossier {code}.", code="dossier_not_found")
            steps = self._steps(conn, row["id"])
            tz = self._tz(conn, row)
        return self._staff(row, steps, lang, tz)

    def reschedule(self, code_text: object, new_date: datetime, reason: str, office_id: int,
                   lang: str = "vi") -> dict:
        """The apology's new return date, once; recorded as a step of the dossier's history."""
        code = str(parse_code(code_text))
        now = self.clock.now()
        with self.db.write() as conn:
            row = conn.execute(sa.select(dossiers).where(dossiers.c.code == code)).mappings().first()
            if row is None or row["office_id"] not in (None, office_id):
                raise NotFound(f"Không tìm thấy hồ sơ {code}.", f"No dossier {code}.", code="dossier_not_found")
            if row["status"] in (3, 7, 8, 9, 10):
                raise Conflict("Hồ sơ đã có kết quả hoặc đã dừng xử lý nên không hẹn lại.",
                               "The dossier is finished or stopped, so it cannot be rescheduled.",
                               code="dossier_closed")
            if new_date <= max(now, from_utc_naive(row["appointment_at"])):
                raise InvalidInput("Ngày hẹn mới phải sau ngày hẹn cũ và sau hôm nay.",
                                   "The new date must be after the old one and after today.",
                                   code="new_date_too_early", details={"field": "new_date"})
            if row["apology_new_date"] is not None:
                raise Conflict(f"Hồ sơ {code} đã được hẹn lại một lần; không thể đổi ngày hẹn lần nữa.",
                               f"Dossier {code} was already given a new date once; it cannot move again.",
                               code="apology_already_given")
            conn.execute(sa.update(dossiers).where(dossiers.c.id == row["id"]).values(
                apology_new_date=to_utc_naive(new_date), apology_at=to_utc_naive(now), updated_at=to_utc_naive(now),
                apology_reason=reason.strip() or None))
            conn.execute(sa.insert(dossier_steps).values(
                dossier_id=row["id"], at=to_utc_naive(now), status=row["status"],
                unit="Bộ phận Tiếp nhận và Trả kết quả", action=f"Xin lỗi và hẹn lại ngày trả. {reason}".strip()))
            row = conn.execute(sa.select(dossiers).where(dossiers.c.id == row["id"])).mappings().one()
            steps = self._steps(conn, row["id"])
            tz = self._tz(conn, row)
        return self._staff(row, steps, lang, tz)

    def _staff(self, row: RowMapping, steps: list[RowMapping], lang: str, tz: str) -> dict:
        """The officer's view: the citizen's, plus the owner's full name and the apology's reason."""
        return {**self.public_view(row, steps, lang, tz), "owner_name": row["owner_name"],
                "apology_reason": row["apology_reason"]}

    @staticmethod
    def _steps(conn: Connection, dossier_id: int) -> list[RowMapping]:
        return conn.execute(sa.select(dossier_steps).where(dossier_steps.c.dossier_id == dossier_id)
                            .order_by(dossier_steps.c.at, dossier_steps.c.id)).mappings().all()

    # the public lookup -------------------------------------------------------------------
    def lookup(self, text: object, lang: str, source: str, address: str | None, kiosk: str | None) -> dict:
        """The citizen's view of a dossier: masked name and status, nothing else personal."""
        for limiter, key in ((self.by_kiosk, kiosk), (self.by_address, address)):
            if key:
                allowed, retry_after = limiter.allow(key)
                if not allowed:
                    self._log(source, kiosk, "limited", None)
                    raise RateLimited("Tra cứu quá nhiều lần. Vui lòng chờ một chút rồi thử lại.",
                                      "Too many lookups. Please wait a moment and try again.",
                                      code="too_many_lookups", details={"retry_after_s": int(retry_after) + 1})
        try:
            code = str(parse_code(text))
            rejected = None
        except CodeRejected as exc:
            code, rejected = DECOY_CODE, exc
        with self.db.read() as conn:
            row = conn.execute(sa.select(dossiers).where(dossiers.c.code == code)).mappings().first()
            steps = [] if row is None else self._steps(conn, row["id"])
            tz = None if row is None else self._tz(conn, row)
        if rejected is not None:
            self._log(source, kiosk, "malformed", None)
            raise rejected
        if row is None:
            self._log(source, kiosk, "unknown", code)
            raise NotFound(f"Không tìm thấy hồ sơ {code}. Vui lòng kiểm tra lại mã trên giấy hẹn.",
                           f"No dossier {code} was found. Please check the code on your receipt.",
                           code="dossier_not_found")
        self._log(source, kiosk, "found", code)
        return self.public_view(row, steps, lang, tz)

    @staticmethod
    def _tz(conn: Connection, row: RowMapping) -> str:
        """The time zone of the dossier's office (the first office when it names none)."""
        query = sa.select(offices.c.timezone)
        query = query.where(offices.c.id == row["office_id"]) if row["office_id"] else query.order_by(offices.c.id)
        return conn.execute(query.limit(1)).scalar() or "Asia/Ho_Chi_Minh"

    def public_view(self, row: RowMapping, steps: list[RowMapping], lang: str, tz: str) -> dict:
        """The citizen's view; "early" and "on time" are judged on the office's calendar days."""
        now = local_time(self.clock.now(), tz)
        appointment = local_time(from_utc_naive(row["appointment_at"]), tz)
        history = [Step(local_time(from_utc_naive(s["at"]), tz), s["status"]) for s in steps]
        bucket = deadline_bucket(appointment, history, now)
        status = row["status"]
        return {
            "code": row["code"],
            "owner": mask_name(row["owner_name"]),
            "procedure": row["procedure_name"],
            "field": row["field_name"],
            "channel": row["channel"],
            "channel_text": CHANNELS.get(row["channel"], ("", ""))[1 if lang == "en" else 0],
            "status": status,
            "status_text": citizen_status(status, lang, row["return_counter"]),
            "status_text_vi": citizen_status(status, "vi", row["return_counter"]),
            "status_text_en": citizen_status(status, "en", row["return_counter"]),
            "received_at": from_utc_naive(row["received_at"]).isoformat(),
            "appointment_at": appointment.isoformat(),
            "overdue": is_overdue(appointment, status, history, now),
            "bucket": bucket,
            "bucket_text": BUCKET_NAMES[bucket][1 if lang == "en" else 0] if bucket else None,
            "apology_new_date": (from_utc_naive(row["apology_new_date"]).isoformat()
                                 if row["apology_new_date"] else None),
            "return_counter": row["return_counter"],
            "postal": bool(row["postal"]),
            "steps": [{"at": from_utc_naive(s["at"]).isoformat(), "status": s["status"],
                       "status_text": citizen_status(s["status"], lang), "unit": s["unit"], "action": s["action"]}
                      for s in steps[-5:]][::-1],
        }

    def _log(self, source: str, kiosk: str | None, outcome: str, code: str | None) -> None:
        with self.db.write() as conn:
            conn.execute(sa.insert(dossier_lookups).values(at=to_utc_naive(self.clock.now()), source=source,
                                                           kiosk=kiosk, outcome=outcome, code=code))

    def print_slip(self, code_text: str, kind: str, printer: str, office_id: int, base_url: str | None,
                   reason: str = "", documents: tuple[str, ...] = (), sets: int | None = None,
                   processing_time: str | None = None) -> dict:
        """A receipt, or for a late dossier the apology slip, on a printer served by an agent."""
        from hardware.slip import apology_slip, receipt_slip

        assert self.printing is not None
        code = str(parse_code(code_text))
        with self.db.write() as conn:
            row = conn.execute(sa.select(dossiers).where(dossiers.c.code == code)).mappings().first()
            if row is None:
                raise NotFound(f"Không tìm thấy hồ sơ {code}.", f"No dossier {code}.", code="dossier_not_found")
            office = get_office(conn, office_id)
            if not self.printing.kiosk_prints(conn, office_id, printer):
                raise NotFound(f"Không có máy in «{printer}».", f"There is no printer “{printer}”.",
                               code="printer_not_found")
            received = long_time(from_utc_naive(row["received_at"]), office.timezone)
            appointment = long_time(from_utc_naive(row["appointment_at"]), office.timezone)
            if kind == "apology":
                if row["apology_new_date"] is None:
                    raise Conflict("Hồ sơ chưa có ngày hẹn mới nên chưa thể in phiếu xin lỗi.",
                                   "The dossier has no new date yet, so there is no apology to print.",
                                   code="no_apology")
                slip = apology_slip(office.name, code, row["owner_name"], row["procedure_name"], appointment,
                                    long_time(from_utc_naive(row["apology_new_date"]), office.timezone),
                                    reason or row["apology_reason"] or "",
                                    lookup_url(base_url, code))
            else:
                collect = (f"Quầy số {row['return_counter']}, {office.name}" if row["return_counter"]
                           else f"Bộ phận Trả kết quả, {office.name}")
                if row["postal"]:
                    collect = "Gửi qua dịch vụ bưu chính công ích"
                slip = receipt_slip(office.name, "Bộ phận Tiếp nhận và Trả kết quả", code, row["owner_name"],
                                    row["procedure_name"], received, appointment, collect,
                                    lookup_url(base_url, code), documents, sets, processing_time)
            view, event = self.printing.enqueue(conn, office_id, printer, None, kind, slip.to_dict())
        self.printing.bus.publish([event])
        return view
