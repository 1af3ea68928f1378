"""The admin's edits: the office, its services, counters, staff, devices, priority, voice, ticket and rating.

Each change is checked as a whole (every problem at once, each naming its field), then written
with its audit entry in one transaction; a refused change writes nothing. Nothing in the server
keeps an office's configuration in memory: the queue reads it on every request, so every change
takes effect at once, without a restart.
"""
from __future__ import annotations

import io
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from werkzeug.security import generate_password_hash

from ..domain import events as ev
from ..domain import ratings
from ..domain import validation as v
from ..domain.clock import Clock, business_date, from_utc_naive, local_time, to_utc_naive
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.model import DeviceKind, NumberingRule, NumberingStyle, PriorityPolicy, Role
from ..domain.numbering import format_number
from ..domain.schedule import session_of_day
from ..persistence.database import Database
from ..persistence.tables import (
    api_tokens,
    counter_services,
    counters,
    daily_sequences,
    device_status,
    devices,
    offices,
    priority_groups,
    services,
    tickets,
    user_counters,
    user_photos,
    users,
)
from ..persistence.tables import (
    ratings as ratings_table,
)
from . import audit, sequence
from .auth import AuthService, Principal
from .bus import EventBus
from .office_settings import OfficeSettings, notice_of
from .offices import get_office
from .printing import ticket_slip, ticket_template
from .voice import announcement_text, office_voice

PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/l/I
SAMPLE_SEQ = 25
# Where each kind of device is opened, with its token (None: the token goes in a config file).
DEVICE_URLS = {"kiosk": "/kiosk?kiosk={code}&token={token}", "display": "/display?token={token}",
               "rating": "/rate/{counter}?token={token}"}


def new_password(length: int = 12) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def _iso(stored: datetime | None) -> str | None:
    return from_utc_naive(stored).isoformat() if stored else None


def _hours(value: dict | None) -> dict:
    return {day: [list(w) for w in spans] for day, spans in (value or {}).items()}


def _rule(row: RowMapping) -> NumberingRule:
    return NumberingRule(NumberingStyle(row["numbering"]), row["prefix"], row["block"], row["digits"])


def _numbering_name(rule: NumberingRule) -> tuple[str, str]:
    if rule.style is NumberingStyle.PREFIX:
        return f"tiền tố «{rule.prefix}»", f"the prefix “{rule.prefix}”"
    low, high = v.number_range(rule)
    return f"khối {rule.block} ({low}–{high})", f"block {rule.block} ({low}–{high})"


# What kiosks and boards show: a change to these tells them to read again.
HALL_ENTITIES = frozenset({"office", "service", "counter", "priority"})


class AdminService:
    def __init__(self, db: Database, clock: Clock, bus: EventBus, auth: AuthService) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.auth = auth
        self.settings = OfficeSettings(db, clock, bus)

    def _record(self, conn: Connection, actor: Principal, office_id: int, entity: str, key: object, action: str,
                before: dict | None, after: dict | None) -> None:
        audit.record(conn, self.clock, actor, office_id, entity, key, action, before, after)
        board_changed = entity == "device" and (after or {}).get("kind") == DeviceKind.DISPLAY.value and \
            (before or {}).get("settings") != (after or {}).get("settings")
        if (entity in HALL_ENTITIES and before != after) or board_changed:
            # Kiosks reload their services and boards resync once the change is committed.
            events = sequence.allocate(conn, office_id, [(ev.SETTINGS_CHANGED, {"what": entity})])
            self.db.after_commit(conn, lambda: self.bus.publish(events))

    # the office ----------------------------------------------------------------------------------
    @staticmethod
    def _office_fields(row: RowMapping) -> dict:
        return {"code": row["code"], "name": row["name"], "name_en": row["name_en"], "address": row["address"],
                "timezone": row["timezone"], "agency_code": row["agency_code"],
                "kiosk_token_required": bool(row["kiosk_token_required"])}

    def _office_row(self, conn: Connection, office_id: int, lock: bool = False) -> RowMapping:
        query = sa.select(offices).where(offices.c.id == office_id)
        row = conn.execute(self.db.for_update(query) if lock else query).mappings().first()
        if row is None:
            raise NotFound("Không tìm thấy cơ quan.", "Office not found.", code="office_not_found")
        return row

    def office(self, office_id: int) -> dict:
        with self.db.read() as conn:
            row = self._office_row(conn, office_id)
        return {**self._office_fields(row), "notice": notice_of(row["settings"] or {})}

    @staticmethod
    def _office_values(p: v.Problems, data: dict) -> dict:
        return {
            "name": v.clean_name(p, "name", data.get("name"), required=True),
            "name_en": v.clean_name(p, "name_en", data.get("name_en")),
            "address": v.clean_text(p, "address", data.get("address"), max_len=300),
            "timezone": v.check_timezone(p, "timezone", data.get("timezone") or ""),
            "agency_code": v.check_agency_code(p, "agency_code", data.get("agency_code")),
            "kiosk_token_required": bool(data.get("kiosk_token_required", False)),
        }

    def create_office(self, data: dict) -> dict:
        """A new, empty office of the installation (a province's next centre); its admin sets up services,
        counters and staff in /admin/settings. Done by whoever runs the server (`motcua office create`)."""
        p = v.Problems()
        code = v.check_code(p, "code", data.get("code") or "", "cơ quan", "office")
        values = self._office_values(p, data)
        p.check()
        with self.db.write() as conn:
            if conn.execute(sa.select(offices.c.id).where(offices.c.code == code)).scalar() is not None:
                raise Conflict(f"Mã cơ quan «{code}» đã có.", f"The office code “{code}” is taken.",
                               code="office_exists")
            office_id = conn.execute(sa.insert(offices).values(code=code, **values)
                                     .returning(offices.c.id)).scalar_one()
        return {"id": office_id, **self.office(office_id)}

    def update_office(self, actor: Principal, office_id: int, data: dict) -> dict:
        p = v.Problems()
        values = self._office_values(p, data)
        p.check()
        with self.db.write() as conn:
            row = self._office_row(conn, office_id, lock=True)
            before = self._office_fields(row)
            conn.execute(sa.update(offices).where(offices.c.id == office_id).values(**values))
            self._record(conn, actor, office_id, "office", row["code"], "update", before, {**before, **values})
        return self.office(office_id)

    # services ------------------------------------------------------------------------------------
    @staticmethod
    def _service_fields(row: RowMapping) -> dict:
        return {"code": row["code"], "name_vi": row["name_vi"], "name_en": row["name_en"],
                "numbering": row["numbering"], "prefix": row["prefix"], "block": row["block"],
                "digits": row["digits"], "daily_limit": row["daily_limit"],
                "opening_hours": _hours(row["opening_hours"]), "active": bool(row["active"]),
                "position": row["position"], "avg_service_s": row["avg_service_s"]}

    def _service_row(self, conn: Connection, office_id: int, code: str) -> RowMapping:
        row = conn.execute(sa.select(services).where(services.c.office_id == office_id, services.c.code == code)
                           ).mappings().first()
        if row is None:
            raise NotFound(f"Không có dịch vụ với mã «{code}».", f"There is no service with code “{code}”.",
                           code="service_not_found")
        return row

    def _service_list(self, conn: Connection, office_id: int) -> list[dict]:
        served: dict[int, list[int]] = {}
        for service_id, number in conn.execute(
                sa.select(counter_services.c.service_id, counters.c.number)
                .join(counters, counters.c.id == counter_services.c.counter_id)
                .where(counters.c.office_id == office_id).order_by(counters.c.number)):
            served.setdefault(service_id, []).append(number)
        rows = conn.execute(sa.select(services).where(services.c.office_id == office_id)
                            .order_by(services.c.position, services.c.id)).mappings().all()
        return [{**self._service_fields(r), "counters": served.get(r["id"], [])} for r in rows]

    def services(self, office_id: int) -> list[dict]:
        with self.db.read() as conn:
            self._office_row(conn, office_id)
            return self._service_list(conn, office_id)

    def _service_view(self, office_id: int, code: str) -> dict:
        return next(s for s in self.services(office_id) if s["code"] == code)

    def _check_service(self, conn: Connection, p: v.Problems, office_id: int, data: dict,
                       current_id: int | None) -> dict:
        values: dict = {"name_vi": v.clean_name(p, "name_vi", data.get("name_vi"), required=True),
                        "name_en": v.clean_name(p, "name_en", data.get("name_en"))}
        values["name_en"] = values["name_en"] or values["name_vi"]
        rule = v.check_numbering(p, data.get("numbering") or "", data.get("prefix"), data.get("block"),
                                 data.get("digits", 3))
        values["daily_limit"] = v.check_daily_limit(p, data.get("daily_limit"), rule)
        values["opening_hours"] = _hours(v.check_windows(p, data.get("opening_hours")))
        values["avg_service_s"] = v.check_int(p, "avg_service_s", data.get("avg_service_s", 300), *v.AVG_SERVICE_S)
        values["active"] = bool(data.get("active", True))
        if rule is not None:
            values.update(numbering=rule.style.value, prefix=rule.prefix, block=rule.block, digits=rule.digits)
            self._check_numbers_free(conn, p, office_id, rule, current_id)
        p.check()
        return values

    def _check_numbers_free(self, conn: Connection, p: v.Problems, office_id: int, rule: NumberingRule,
                            current_id: int | None) -> None:
        """No two services may print the same number: not by their rules, and not today by a change."""
        field = "prefix" if rule.style is NumberingStyle.PREFIX else "block"
        mine_vi, mine_en = _numbering_name(rule)
        others = conn.execute(sa.select(services).where(services.c.office_id == office_id,
                                                        services.c.id != (current_id or 0))).mappings()
        for other in others:
            if v.clashes(rule, _rule(other)):
                p.add(field, f"Dịch vụ «{other['name_vi']}» đã dùng {mine_vi}: hai dịch vụ sẽ cấp trùng số.",
                      f"The service “{other['name_en']}” already uses {mine_en}: both would issue the same numbers.")
                return
        office = self._office_row(conn, office_id)
        today = business_date(self.clock.now(), office["timezone"])
        issued = conn.execute(sa.select(tickets.c.number).distinct().where(
            tickets.c.office_id == office_id, tickets.c.business_date == today,
            tickets.c.service_id != (current_id or 0))).scalars()
        taken = next((number for number in issued if v.produces(rule, number)), None)
        if taken is not None:
            p.add(field, f"Hôm nay dịch vụ khác đã cấp số {taken}; với {mine_vi} số này sẽ bị cấp lại. "
                         "Hãy đổi từ ngày mai hoặc chọn cách đánh số khác.",
                  f"Another service issued {taken} today; with {mine_en} that number would be issued again. "
                  "Change it from tomorrow, or choose other numbering.")

    def create_service(self, actor: Principal, office_id: int, data: dict) -> dict:
        p = v.Problems()
        code = v.check_code(p, "code", data.get("code") or "", "dịch vụ", "service")
        with self.db.write() as conn:
            self._office_row(conn, office_id)
            if not p.has("code") and conn.execute(sa.select(services.c.id).where(
                    services.c.office_id == office_id, services.c.code == code)).first():
                p.add("code", f"Đã có dịch vụ mã «{code}».", f"There is already a service “{code}”.")
            values = self._check_service(conn, p, office_id, data, None)
            position = conn.execute(sa.select(sa.func.coalesce(sa.func.max(services.c.position), -1) + 1)
                                    .where(services.c.office_id == office_id)).scalar_one()
            row = conn.execute(sa.insert(services).values(office_id=office_id, code=code, position=position, **values)
                               .returning(*services.c)).mappings().one()
            self._record(conn, actor, office_id, "service", code, "create", None, self._service_fields(row))
        return self._service_view(office_id, code)

    def update_service(self, actor: Principal, office_id: int, code: str, data: dict) -> dict:
        with self.db.write() as conn:
            row = self._service_row(conn, office_id, code)
            values = self._check_service(conn, v.Problems(), office_id, data, row["id"])
            conn.execute(sa.update(services).where(services.c.id == row["id"]).values(**values))
            before = self._service_fields(row)
            self._record(conn, actor, office_id, "service", code, "update", before, {**before, **values})
        return self._service_view(office_id, code)

    def delete_service(self, actor: Principal, office_id: int, code: str) -> dict:
        """Deletes a service never used; one with tickets is only deactivated, to keep its history."""
        with self.db.write() as conn:
            row = self._service_row(conn, office_id, code)
            before = self._service_fields(row)
            if conn.execute(sa.select(tickets.c.id).where(tickets.c.service_id == row["id"]).limit(1)).first():
                conn.execute(sa.update(services).where(services.c.id == row["id"]).values(active=False))
                self._record(conn, actor, office_id, "service", code, "deactivate", before, {**before, "active": False})
                return {"code": code, "deleted": False, "active": False}
            served = sa.select(counter_services.c.counter_id).where(counter_services.c.service_id == row["id"])
            alone = list(conn.execute(
                sa.select(counters.c.number).join(counter_services, counter_services.c.counter_id == counters.c.id)
                .where(counters.c.id.in_(served)).group_by(counters.c.number)
                .having(sa.func.count(counter_services.c.service_id) == 1).order_by(counters.c.number)).scalars())
            if alone:
                numbers = ", ".join(map(str, alone))
                raise Conflict(f"Quầy số {numbers} chỉ phục vụ dịch vụ này: hãy gán dịch vụ khác cho quầy "
                               "trước khi xóa.",
                               f"Counter {numbers} serves only this service: give it another service before "
                               "deleting.",
                               code="counter_needs_service", details={"field": "counters", "counters": alone})
            conn.execute(sa.delete(counter_services).where(counter_services.c.service_id == row["id"]))
            conn.execute(sa.delete(daily_sequences).where(daily_sequences.c.service_id == row["id"]))
            conn.execute(sa.delete(services).where(services.c.id == row["id"]))
            self._record(conn, actor, office_id, "service", code, "delete", before, None)
        return {"code": code, "deleted": True, "active": False}

    def order_services(self, actor: Principal, office_id: int, codes: list[str]) -> list[dict]:
        """The order the kiosk shows services in: every service of the office, once."""
        with self.db.write() as conn:
            rows = conn.execute(sa.select(services.c.id, services.c.code).where(services.c.office_id == office_id)
                                .order_by(services.c.position, services.c.id)).all()
            before = [r.code for r in rows]
            p = v.Problems()
            v.check_refs(p, "codes", codes, set(before), required=True, what_vi="dịch vụ", what_en="service")
            if not p and set(codes) != set(before):
                p.add("codes", "Thứ tự cần có đủ mọi dịch vụ của cơ quan.", "The order must list every service.")
            p.check()
            ids = {r.code: r.id for r in rows}
            for position, code in enumerate(codes):
                conn.execute(sa.update(services).where(services.c.id == ids[code]).values(position=position))
            self._record(conn, actor, office_id, "service", "order", "update", {"order": before}, {"order": codes})
            return self._service_list(conn, office_id)

    # counters ------------------------------------------------------------------------------------
    def _counter_list(self, conn: Connection, office_id: int) -> list[dict]:
        served: dict[int, list[str]] = {}
        for counter_id, code in conn.execute(
                sa.select(counter_services.c.counter_id, services.c.code)
                .join(services, services.c.id == counter_services.c.service_id)
                .where(services.c.office_id == office_id).order_by(counter_services.c.rank)):
            served.setdefault(counter_id, []).append(code)
        rows = conn.execute(sa.select(counters).where(counters.c.office_id == office_id)
                            .order_by(counters.c.number)).mappings().all()
        return [{"number": r["number"], "name": r["name"], "name_en": r["name_en"], "led_address": r["led_address"],
                 "services": served.get(r["id"], []), "state": r["state"]} for r in rows]

    def counters(self, office_id: int) -> list[dict]:
        with self.db.read() as conn:
            self._office_row(conn, office_id)
            return self._counter_list(conn, office_id)

    def _counter_view(self, conn: Connection, office_id: int, number: int) -> dict:
        return next(c for c in self._counter_list(conn, office_id) if c["number"] == number)

    def _counter_row(self, conn: Connection, office_id: int, number: int) -> RowMapping:
        row = conn.execute(sa.select(counters).where(counters.c.office_id == office_id, counters.c.number == number)
                           ).mappings().first()
        if row is None:
            raise NotFound(f"Không có quầy số {number}.", f"There is no counter {number}.", code="counter_not_found")
        return row

    def _check_counter(self, conn: Connection, p: v.Problems, office_id: int, data: dict,
                       current_id: int | None) -> tuple[dict, list[int]]:
        values = {"name": v.clean_name(p, "name", data.get("name"), required=True),
                  "name_en": v.clean_name(p, "name_en", data.get("name_en")),
                  "led_address": data.get("led_address")}
        values["name_en"] = values["name_en"] or values["name"]
        led = values["led_address"]
        if led is not None and v.check_int(p, "led_address", led, *v.LED_ADDRESSES) is not None:
            other = conn.execute(sa.select(counters.c.number).where(
                counters.c.office_id == office_id, counters.c.led_address == led,
                counters.c.id != (current_id or 0))).scalar()
            if other is not None:
                p.add("led_address", f"Địa chỉ {led} đã dùng cho bảng LED của quầy số {other}.",
                      f"Address {led} is already used by the LED display of counter {other}.")
        known = dict(conn.execute(sa.select(services.c.code, services.c.id)
                                  .where(services.c.office_id == office_id)).all())
        codes = v.check_refs(p, "services", list(data.get("services") or []), set(known), required=True,
                             what_vi="dịch vụ", what_en="service")
        p.check()
        return values, [known[c] for c in codes]

    @staticmethod
    def _set_counter_services(conn: Connection, counter_id: int, service_ids: list[int]) -> None:
        conn.execute(sa.delete(counter_services).where(counter_services.c.counter_id == counter_id))
        for rank, service_id in enumerate(service_ids):
            conn.execute(sa.insert(counter_services).values(counter_id=counter_id, service_id=service_id, rank=rank))

    def create_counter(self, actor: Principal, office_id: int, data: dict) -> dict:
        p = v.Problems()
        number = v.check_int(p, "number", data.get("number"), 1, v.MAX_COUNTER)
        with self.db.write() as conn:
            self._office_row(conn, office_id)
            if number is not None and conn.execute(sa.select(counters.c.id).where(
                    counters.c.office_id == office_id, counters.c.number == number)).first():
                p.add("number", f"Đã có quầy số {number}.", f"Counter {number} already exists.")
            values, service_ids = self._check_counter(conn, p, office_id, data, None)
            counter_id = conn.execute(sa.insert(counters).values(office_id=office_id, number=number, state="active",
                                                                 **values).returning(counters.c.id)).scalar_one()
            self._set_counter_services(conn, counter_id, service_ids)
            view = self._counter_view(conn, office_id, number)
            self._record(conn, actor, office_id, "counter", number, "create", None, view)
        return view

    def update_counter(self, actor: Principal, office_id: int, number: int, data: dict) -> dict:
        with self.db.write() as conn:
            row = self._counter_row(conn, office_id, number)
            before = self._counter_view(conn, office_id, number)
            values, service_ids = self._check_counter(conn, v.Problems(), office_id, data, row["id"])
            conn.execute(sa.update(counters).where(counters.c.id == row["id"]).values(**values))
            self._set_counter_services(conn, row["id"], service_ids)
            after = self._counter_view(conn, office_id, number)
            self._record(conn, actor, office_id, "counter", number, "update", before, after)
        return after

    def delete_counter(self, actor: Principal, office_id: int, number: int) -> dict:
        with self.db.write() as conn:
            row = self._counter_row(conn, office_id, number)
            used = conn.execute(sa.select(tickets.c.id).where(tickets.c.counter_id == row["id"]).limit(1)).first() \
                or conn.execute(sa.select(ratings_table.c.id).where(ratings_table.c.counter_id == row["id"])
                                .limit(1)).first()
            if used:
                raise Conflict(f"Quầy số {number} đã có lịch sử phục vụ nên không xóa được (báo cáo cần đến nó).",
                               f"Counter {number} has served tickets, so it cannot be deleted (reports need it).",
                               code="counter_has_history")
            before = self._counter_view(conn, office_id, number)
            conn.execute(sa.delete(user_counters).where(user_counters.c.counter_id == row["id"]))
            conn.execute(sa.delete(counter_services).where(counter_services.c.counter_id == row["id"]))
            conn.execute(sa.delete(counters).where(counters.c.id == row["id"]))
            self._record(conn, actor, office_id, "counter", number, "delete", before, None)
        return {"number": number, "deleted": True}

    # staff ---------------------------------------------------------------------------------------
    def _user_row(self, conn: Connection, office_id: int, username: str) -> RowMapping:
        row = conn.execute(sa.select(users).where(users.c.office_id == office_id, users.c.username == username)
                           ).mappings().first()
        if row is None:
            raise NotFound("Không tìm thấy người dùng.", "User not found.", code="user_not_found")
        return row

    def _user_list(self, conn: Connection, office_id: int, username: str | None = None) -> list[dict]:
        query = sa.select(users).where(users.c.office_id == office_id).order_by(users.c.username)
        if username is not None:
            query = query.where(users.c.username == username)
        rows = conn.execute(query).mappings().all()
        ids = [r["id"] for r in rows]
        assigned: dict[int, list[int]] = {}
        for user_id, number in conn.execute(
                sa.select(user_counters.c.user_id, counters.c.number)
                .join(counters, counters.c.id == user_counters.c.counter_id)
                .where(user_counters.c.user_id.in_(ids)).order_by(counters.c.number)):
            assigned.setdefault(user_id, []).append(number)
        photos = dict(conn.execute(sa.select(user_photos.c.user_id, user_photos.c.updated_at)
                                   .where(user_photos.c.user_id.in_(ids))).all())
        # The photo itself is the ratings' business (PUT/GET /api/v1/users/<id>/photo); its version names it.
        return [{"id": r["id"], "username": r["username"], "full_name": r["full_name"], "role": r["role"],
                 "active": bool(r["active"]), "counters": assigned.get(r["id"], []),
                 "photo_version": int(from_utc_naive(photos[r["id"]]).timestamp()) if r["id"] in photos else None}
                for r in rows]

    def users(self, office_id: int) -> list[dict]:
        with self.db.read() as conn:
            self._office_row(conn, office_id)
            return self._user_list(conn, office_id)

    def _user_view(self, conn: Connection, office_id: int, username: str) -> dict:
        return self._user_list(conn, office_id, username)[0]

    def _check_user(self, conn: Connection, p: v.Problems, office_id: int, data: dict) -> tuple[dict, list[int]]:
        values = {"full_name": v.clean_text(p, "full_name", data.get("full_name"), required=True),
                  "role": data.get("role"), "active": bool(data.get("active", True))}
        v.check_role(p, "role", values["role"])
        known = dict(conn.execute(sa.select(counters.c.number, counters.c.id)
                                  .where(counters.c.office_id == office_id)).all())
        numbers = v.check_refs(p, "counters", list(data.get("counters") or []), set(known), required=False,
                               what_vi="quầy", what_en="counter")
        p.check()
        return values, [known[n] for n in numbers]

    def _revoke_user_tokens(self, conn: Connection, user_id: int) -> None:
        """A reset password or a locked account ends the sign-ins made before it."""
        conn.execute(sa.update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
                     .values(revoked_at=to_utc_naive(self.clock.now())))

    def create_user(self, actor: Principal, office_id: int, data: dict) -> dict:
        p = v.Problems()
        username = v.check_username(p, "username", data.get("username") or "")
        password = data.get("password") or None
        generated = password is None
        password = new_password() if generated else v.check_password(p, "password", password)
        password_hash = generate_password_hash(password)   # slow on purpose: before the write lock
        with self.db.write() as conn:
            self._office_row(conn, office_id)
            taken = conn.execute(sa.select(users.c.id).where(users.c.username == username)).first()
            if taken and not p.has("username"):
                p.add("username", f"Tên đăng nhập «{username}» đã có người dùng.",
                      f"The username “{username}” is taken.")
            values, counter_ids = self._check_user(conn, p, office_id, data)
            user_id = conn.execute(sa.insert(users).values(
                username=username, office_id=office_id, password_hash=password_hash,
                created_at=to_utc_naive(self.clock.now()), **values).returning(users.c.id)).scalar_one()
            for counter_id in counter_ids:
                conn.execute(sa.insert(user_counters).values(user_id=user_id, counter_id=counter_id))
            view = self._user_view(conn, office_id, username)
            self._record(conn, actor, office_id, "user", username, "create", None, view)
        return {**view, "password": password if generated else None}

    def update_user(self, actor: Principal, office_id: int, username: str, data: dict) -> dict:
        with self.db.write() as conn:
            row = self._user_row(conn, office_id, username)
            p = v.Problems()
            if row["id"] == actor.user_id:
                if data.get("role") != Role.ADMIN.value:
                    p.add("role", "Bạn không thể tự bỏ quyền quản trị của chính mình.",
                          "You cannot take away your own admin role.")
                if not data.get("active", True):
                    p.add("active", "Bạn không thể tự khóa tài khoản của chính mình.",
                          "You cannot lock your own account.")
            values, counter_ids = self._check_user(conn, p, office_id, data)
            before = self._user_view(conn, office_id, username)
            conn.execute(sa.update(users).where(users.c.id == row["id"]).values(**values))
            conn.execute(sa.delete(user_counters).where(user_counters.c.user_id == row["id"]))
            for counter_id in counter_ids:
                conn.execute(sa.insert(user_counters).values(user_id=row["id"], counter_id=counter_id))
            if not values["active"] or values["role"] != row["role"]:
                self._revoke_user_tokens(conn, row["id"])
            after = self._user_view(conn, office_id, username)
            self._record(conn, actor, office_id, "user", username, "update", before, after)
        return after

    def reset_password(self, actor: Principal, office_id: int, username: str, password: str | None) -> dict:
        """Sets the given password, or a new random one returned this once; earlier sign-ins end."""
        generated = password is None
        if generated:
            password = new_password()
        else:
            p = v.Problems()
            v.check_password(p, "password", password)
            p.check()
        password_hash = generate_password_hash(password)
        with self.db.write() as conn:
            row = self._user_row(conn, office_id, username)
            conn.execute(sa.update(users).where(users.c.id == row["id"]).values(password_hash=password_hash))
            self._revoke_user_tokens(conn, row["id"])
            self._record(conn, actor, office_id, "user", username, "password", None,
                         {"password": "generated" if generated else "set"})
        return {"username": username, "password": password if generated else None}

    # devices -------------------------------------------------------------------------------------
    def _device_list(self, conn: Connection, office_id: int, code: str | None = None) -> list[dict]:
        now = to_utc_naive(self.clock.now())
        live = (sa.select(api_tokens.c.device_id, sa.func.count().label("tokens"))
                .where(api_tokens.c.revoked_at.is_(None),
                       sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now))
                .group_by(api_tokens.c.device_id).subquery())
        query = (sa.select(devices, live.c.tokens, device_status.c.online)
                 .select_from(devices.outerjoin(live, live.c.device_id == devices.c.id)
                              .outerjoin(device_status, device_status.c.device_id == devices.c.id))
                 .where(devices.c.office_id == office_id).order_by(devices.c.kind, devices.c.code))
        if code is not None:
            query = query.where(devices.c.code == code)
        return [{"kind": r["kind"], "code": r["code"], "name": r["name"], "settings": r["settings"] or {},
                 "last_seen": _iso(r["last_seen_at"]), "tokens": r["tokens"] or 0,
                 "online": None if r["online"] is None else bool(r["online"])}
                for r in conn.execute(query).mappings()]

    def devices(self, office_id: int) -> list[dict]:
        with self.db.read() as conn:
            self._office_row(conn, office_id)
            return self._device_list(conn, office_id)

    def _device_view(self, conn: Connection, office_id: int, code: str) -> dict:
        found = self._device_list(conn, office_id, code)
        if not found:
            raise NotFound(f"Không có thiết bị «{code}».", f"There is no device “{code}”.", code="device_not_found")
        return found[0]

    def _device_settings(self, conn: Connection, p: v.Problems, office_id: int, kind: str, data: dict,
                         settings: dict) -> dict:
        """The device's settings with the board and counter `data` gives (null: none; absent: unchanged)."""
        settings = dict(settings)
        numbers = set(conn.execute(sa.select(counters.c.number).where(counters.c.office_id == office_id)).scalars())
        board = data.get("board")
        if "board" in data:
            settings.pop("board", None)
        if board is not None:
            if kind != DeviceKind.DISPLAY.value:
                p.add("board", "Chỉ bảng hiển thị mới chọn quầy và dịch vụ để hiện.",
                      "Only display boards choose the counters and services they show.")
            codes = set(conn.execute(sa.select(services.c.code).where(services.c.office_id == office_id)).scalars())
            v.check_refs(p, "board.counters", board.get("counters") or [], numbers, required=False,
                         what_vi="quầy", what_en="counter")
            v.check_refs(p, "board.services", board.get("services") or [], codes, required=False,
                         what_vi="dịch vụ", what_en="service")
            if not board.get("counters") and not board.get("services"):
                p.add("board", "Chọn ít nhất một quầy hoặc dịch vụ, hoặc bỏ giới hạn để bảng hiện cả sảnh.",
                      "Choose at least one counter or service, or no limit for a board showing the whole hall.")
            settings["board"] = {"counters": list(board.get("counters") or []),
                                 "services": list(board.get("services") or [])}
        counter = data.get("counter")
        if "counter" in data:
            settings.pop("counter", None)
        if counter is not None:
            if kind not in (DeviceKind.PRINTER.value, DeviceKind.KIOSK.value, DeviceKind.RATING.value):
                p.add("counter", "Chỉ máy in và thiết bị đánh giá mới gắn với quầy.",
                      "Only printers and rating devices belong to a counter.")
            elif counter not in numbers:
                p.add("counter", f"Không có quầy số {counter}.", f"There is no counter {counter}.")
            settings["counter"] = counter
        return settings

    def issue_device(self, actor: Principal, office_id: int, data: dict) -> dict:
        """A new token for a device (registered on first use); the token is shown only in this answer."""
        p = v.Problems()
        kind = data.get("kind") or ""
        code = v.check_code(p, "code", data.get("code") or "", "thiết bị", "device")
        name = v.clean_text(p, "name", data.get("name"))
        with self.db.read() as conn:
            self._office_row(conn, office_id)
            existing = conn.execute(sa.select(devices).where(devices.c.office_id == office_id,
                                                             devices.c.code == code)).mappings().first()
            if existing is not None and existing["kind"] != kind:
                p.add("kind", f"Thiết bị «{code}» đã được đăng ký là «{existing['kind']}».",
                      f"The device “{code}” is registered as “{existing['kind']}”.")
            settings = self._device_settings(conn, p, office_id, kind, data,
                                             (existing["settings"] or {}) if existing is not None else {})
            before = self._device_view(conn, office_id, code) if existing is not None else None
        p.check()
        with self.db.write() as conn:                 # the token and its audit line, or neither
            token = self.auth.issue_device_token(office_id, DeviceKind(kind), code, name or code, conn=conn)
            conn.execute(sa.update(devices).where(devices.c.office_id == office_id, devices.c.code == code)
                         .values(name=name or (before or {}).get("name") or code, settings=settings or None))
            after = self._device_view(conn, office_id, code)
            self._record(conn, actor, office_id, "device", code, "create" if before is None else "token", before,
                         {k: after[k] for k in ("kind", "code", "name", "settings", "tokens")})
        url = DEVICE_URLS.get(kind)
        if kind == DeviceKind.RATING.value and settings.get("counter") is None:
            url = None
        return {**after, "token": token,
                "open_url": url.format(code=code, token=token, counter=settings.get("counter")) if url else None}

    def update_device(self, actor: Principal, office_id: int, code: str, data: dict) -> dict:
        """Changes what `data` gives: its name, board or counter (null removes a board or counter)."""
        p = v.Problems()
        name = v.clean_text(p, "name", data.get("name"))
        with self.db.write() as conn:
            before = self._device_view(conn, office_id, code)
            settings = self._device_settings(conn, p, office_id, before["kind"], data, before["settings"])
            p.check()
            conn.execute(sa.update(devices).where(devices.c.office_id == office_id, devices.c.code == code)
                         .values(name=(name or code) if "name" in data else before["name"], settings=settings or None))
            after = self._device_view(conn, office_id, code)
            self._record(conn, actor, office_id, "device", code, "update", before, after)
        return after

    def revoke_device(self, actor: Principal, office_id: int, code: str) -> dict:
        """Every token of the device stops working (a kiosk box went missing)."""
        with self.db.write() as conn:
            before = self._device_view(conn, office_id, code)
            device_id = conn.execute(sa.select(devices.c.id).where(devices.c.office_id == office_id,
                                                                   devices.c.code == code)).scalar_one()
            conn.execute(sa.update(api_tokens).where(api_tokens.c.device_id == device_id,
                                                     api_tokens.c.revoked_at.is_(None))
                         .values(revoked_at=to_utc_naive(self.clock.now())))
            after = self._device_view(conn, office_id, code)
            self._record(conn, actor, office_id, "device", code, "revoke", {"tokens": before["tokens"]},
                         {"tokens": after["tokens"]})
        return after

    # priority ------------------------------------------------------------------------------------
    def _priority(self, conn: Connection, office_id: int) -> dict:
        office = self._office_row(conn, office_id)
        groups = conn.execute(sa.select(priority_groups).where(priority_groups.c.office_id == office_id)
                              .order_by(priority_groups.c.position, priority_groups.c.id)).mappings()
        return {"policy": office["priority_policy"], "interleave": office["priority_interleave"],
                "groups": [{"code": g["code"], "name_vi": g["name_vi"], "name_en": g["name_en"],
                            "active": bool(g["active"])} for g in groups]}

    def priority(self, office_id: int) -> dict:
        with self.db.read() as conn:
            return self._priority(conn, office_id)

    def put_priority(self, actor: Principal, office_id: int, data: dict) -> dict:
        """The policy and the groups, in the order the kiosk offers them; a group left out is deleted,
        or only switched off when tickets refer to it."""
        p = v.Problems()
        policy = data.get("policy")
        if policy not in {x.value for x in PriorityPolicy}:
            p.add("policy", "Chính sách ưu tiên là «strict» hoặc «interleaved».",
                  "The policy is “strict” or “interleaved”.")
        interleave = v.check_int(p, "interleave", data.get("interleave"), *v.INTERLEAVE)
        groups: list[dict] = []
        for i, group in enumerate(data.get("groups") or []):
            code = v.check_code(p, f"groups[{i}].code", group.get("code") or "", "nhóm", "group")
            if code in {g["code"] for g in groups}:
                p.add(f"groups[{i}].code", f"Mã nhóm «{code}» bị trùng.", f"The group code “{code}” is used twice.")
            name_vi = v.clean_name(p, f"groups[{i}].name_vi", group.get("name_vi"), required=True)
            name_en = v.clean_name(p, f"groups[{i}].name_en", group.get("name_en")) or name_vi
            groups.append({"code": code, "name_vi": name_vi, "name_en": name_en,
                           "active": bool(group.get("active", True))})
        p.check()
        with self.db.write() as conn:
            before = self._priority(conn, office_id)
            conn.execute(sa.update(offices).where(offices.c.id == office_id)
                         .values(priority_policy=policy, priority_interleave=interleave))
            existing = dict(conn.execute(sa.select(priority_groups.c.code, priority_groups.c.id)
                                         .where(priority_groups.c.office_id == office_id)).all())
            for position, group in enumerate(groups):
                if group["code"] in existing:
                    conn.execute(sa.update(priority_groups).where(priority_groups.c.id == existing[group["code"]])
                                 .values(position=position, **group))
                else:
                    conn.execute(sa.insert(priority_groups).values(office_id=office_id, position=position, **group))
            for code, group_id in existing.items():
                if code in {g["code"] for g in groups}:
                    continue
                if conn.execute(sa.select(tickets.c.id).where(tickets.c.priority_group_id == group_id).limit(1)
                                ).first():
                    conn.execute(sa.update(priority_groups).where(priority_groups.c.id == group_id)
                                 .values(active=False, position=len(groups)))
                else:
                    conn.execute(sa.delete(priority_groups).where(priority_groups.c.id == group_id))
            after = self._priority(conn, office_id)
            self._record(conn, actor, office_id, "priority", "priority", "update", before, after)
        return after

    # settings kept as JSON: voice, ticket template, rating scale -----------------------------------
    def _sample_number(self, conn: Connection, office_id: int) -> tuple[str, str, str]:
        """A number as the office prints it, with its service's names, for previews."""
        row = conn.execute(sa.select(services).where(services.c.office_id == office_id)
                           .order_by(services.c.active.desc(), services.c.position, services.c.id).limit(1)
                           ).mappings().first()
        if row is None:
            return "A025", "Hộ tịch", "Civil status registration"
        return format_number(_rule(row), SAMPLE_SEQ), row["name_vi"], row["name_en"]

    def voice(self, office_id: int) -> dict:
        with self.db.read() as conn:
            settings = get_office(conn, office_id).settings
            number = self._sample_number(conn, office_id)[0]
        reading, template, repeat = office_voice(settings)
        return {"template": template, "dialect": reading.dialect, "reading": reading.mode,
                "keep_leading_zeros": reading.keep_leading_zeros, "four_as_tu": reading.four_as_tu,
                "repeat": repeat, "engine": (settings.get("voice") or {}).get("engine", "clips"),
                "sample_number": number, "sample_text": announcement_text(settings, number, 3)}

    def put_voice(self, actor: Principal, office_id: int, data: dict) -> dict:
        p = v.Problems()
        stored = v.check_voice(p, data)
        p.check()
        self.settings.put(actor, office_id, "voice", stored, ev.SETTINGS_CHANGED, {"what": "voice"})
        return self.voice(office_id)

    def ticket_template(self, office_id: int) -> dict:
        with self.db.read() as conn:
            office = get_office(conn, office_id)
        return {**ticket_template(office), "custom": "ticket" in office.settings}

    def put_ticket_template(self, actor: Principal, office_id: int, data: dict) -> dict:
        p = v.Problems()
        stored = v.check_ticket_template(p, data)
        p.check()
        self.settings.put(actor, office_id, "ticket", stored)
        return self.ticket_template(office_id)

    def preview_ticket(self, office_id: int, data: dict, track_url_base: str) -> bytes:
        """A sample ticket with this (unsaved) template, as PNG: laid out by the same code as a real
        ticket, checked as the agent checks it, and drawn by the agent's own renderer."""
        from hardware.render import render_slip
        from hardware.slip import Slip

        p = v.Problems()
        template = v.check_ticket_template(p, data)
        p.check()
        now = self.clock.now()
        with self.db.read() as conn:
            office = get_office(conn, office_id)
            number, name_vi, name_en = self._sample_number(conn, office_id)
        local = local_time(now, office.timezone)
        view = {"id": 0, "number": number, "position": 3, "issued_at": now.isoformat(),
                "session": session_of_day(local), "business_date": local.date().isoformat()}
        url = f"{track_url_base.rstrip('/')}/t/{'x' * 22}"     # as long as a real tracking address
        slip = ticket_slip(office, name_vi, name_en, view, url, "vi", office.timezone, None, template=template)
        image = render_slip(Slip.from_dict(slip), template["paper_width"])
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()

    def rating(self, office_id: int) -> dict:
        with self.db.read() as conn:
            settings = get_office(conn, office_id).settings
        return {"levels": ratings.scale_of(settings), "question": ratings.question_of(settings),
                "window_minutes": int(ratings.window_of(settings, ratings.TABLET).total_seconds() // 60),
                "web_window_hours": int(ratings.window_of(settings, ratings.WEB).total_seconds() // 3600),
                "custom": "rating" in settings}

    def put_rating(self, actor: Principal, office_id: int, data: dict) -> dict:
        """The rating scale and question (settings["rating"]), checked by the ratings' own rules."""
        p = v.Problems()
        checks = {"levels": ratings.validate_scale, "question": ratings.validate_question}
        for key, value in data.items():
            try:
                checks[key](value) if key in checks else ratings.validate_settings({key: value})
            except InvalidInput as exc:
                p.add(key, exc.message_vi, exc.message_en)
        p.check()
        stored = ratings.validate_settings(data)
        self.settings.put(actor, office_id, "rating", stored)
        return self.rating(office_id)

    # the change log ------------------------------------------------------------------------------
    def audit(self, office_id: int, entity: str | None = None, limit: int = 200) -> list[dict]:
        with self.db.read() as conn:
            return audit.entries(conn, office_id, limit, entity)
