"""Reading an office's configuration (offices, services, counters) as domain objects."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ..domain.errors import NotFound
from ..domain.model import NumberingRule, NumberingStyle, PriorityPolicy, Service
from ..domain.ordering import PriorityRule
from ..persistence.tables import counter_services, counters, offices, priority_groups, services


@dataclass(frozen=True)
class Office:
    id: int
    code: str
    name: str
    name_en: str
    address: str
    timezone: str
    priority: PriorityRule
    kiosk_token_required: bool
    agency_code: str | None = None
    settings: dict = field(default_factory=dict, compare=False)

    def display_name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name


# Built once: these run on every ticket and call, and building a statement costs more than running it.
_OFFICE_BY_ID = sa.select(offices).where(offices.c.id == sa.bindparam("office_id"))
_OFFICE_BY_CODE = sa.select(offices).where(offices.c.code == sa.bindparam("code"))
_DEFAULT_OFFICE = sa.select(offices).order_by(offices.c.id).limit(1)
_SERVICE_BY_CODE = sa.select(services).where(services.c.office_id == sa.bindparam("office_id"),
                                             services.c.code == sa.bindparam("code"))
# An office and one of its services in one round trip (issuing a ticket needs both). The outer join
# keeps the office row when the code matches no service, so each gets its own "not found".
_SERVICE_PREFIX = "service__"
_WITH_SERVICE = sa.select(offices, *(c.label(_SERVICE_PREFIX + c.name) for c in services.c)).select_from(
    offices.outerjoin(services, sa.and_(services.c.office_id == offices.c.id, services.c.code == sa.bindparam("code"))))
_OFFICE_WITH_SERVICE = _WITH_SERVICE.where(offices.c.id == sa.bindparam("office_id"))
_DEFAULT_OFFICE_WITH_SERVICE = _WITH_SERVICE.order_by(offices.c.id).limit(1)
_PRIORITY_GROUP = sa.select(priority_groups.c.id).where(
    priority_groups.c.office_id == sa.bindparam("office_id"), priority_groups.c.code == sa.bindparam("code"),
    priority_groups.c.active.is_(True))


def _office(row: RowMapping) -> Office:
    return Office(
        id=row["id"], code=row["code"], name=row["name"], name_en=row["name_en"],
        address=row["address"], timezone=row["timezone"],
        priority=PriorityRule(PriorityPolicy(row["priority_policy"]), row["priority_interleave"]),
        kiosk_token_required=bool(row["kiosk_token_required"]),
        agency_code=row["agency_code"], settings=row["settings"] or {},
    )


def get_office(conn: Connection, office_id: int) -> Office:
    row = conn.execute(_OFFICE_BY_ID, {"office_id": office_id}).mappings().first()
    if row is None:
        raise _no_office()
    return _office(row)


def office_by_code(conn: Connection, code: str) -> Office:
    row = conn.execute(_OFFICE_BY_CODE, {"code": code}).mappings().first()
    if row is None:
        raise _no_office()
    return _office(row)


def default_office(conn: Connection) -> Office:
    row = conn.execute(_DEFAULT_OFFICE).mappings().first()
    if row is None:
        raise _no_office_configured()
    return _office(row)


def _no_office() -> NotFound:
    return NotFound("Không tìm thấy cơ quan.", "Office not found.", code="office_not_found")


def _no_office_configured() -> NotFound:
    return NotFound("Chưa cấu hình cơ quan nào. Hãy chạy `motcua demo` hoặc tạo cơ quan.",
                    "No office is configured yet. Run `motcua demo` or create an office.",
                    code="office_not_found")


def office_with_service(conn: Connection, office_id: int | None, code: str) -> tuple[Office, Service | None]:
    """The office (the first one when `office_id` is None) and its service `code` (None if it has no such
    service: the caller decides which refusal comes first), read together."""
    if office_id is None:
        row = conn.execute(_DEFAULT_OFFICE_WITH_SERVICE, {"code": code}).mappings().first()
        if row is None:
            raise _no_office_configured()
    else:
        row = conn.execute(_OFFICE_WITH_SERVICE, {"office_id": office_id, "code": code}).mappings().first()
        if row is None:
            raise _no_office()
    if row[_SERVICE_PREFIX + "id"] is None:
        return _office(row), None
    service = {name[len(_SERVICE_PREFIX):]: value for name, value in row.items() if name.startswith(_SERVICE_PREFIX)}
    return _office(row), service_from_row(service)


def service_from_row(row: RowMapping) -> Service:
    return Service(
        id=row["id"], office_id=row["office_id"], code=row["code"],
        name_vi=row["name_vi"], name_en=row["name_en"],
        numbering=NumberingRule(NumberingStyle(row["numbering"]), row["prefix"], row["block"], row["digits"]),
        daily_limit=row["daily_limit"],
        opening_hours={k: [tuple(w) for w in v] for k, v in (row["opening_hours"] or {}).items()},
        active=bool(row["active"]), position=row["position"], avg_service_s=row["avg_service_s"],
    )


def service_by_code(conn: Connection, office_id: int, code: str) -> Service:
    row = conn.execute(_SERVICE_BY_CODE, {"office_id": office_id, "code": code}).mappings().first()
    if row is None:
        raise no_service(code)
    return service_from_row(row)


def no_service(code: str) -> NotFound:
    return NotFound(f"Không có dịch vụ với mã «{code}».", f"There is no service with code “{code}”.",
                    code="service_not_found")


def list_services(conn: Connection, office_id: int) -> list[Service]:
    rows = conn.execute(
        sa.select(services).where(services.c.office_id == office_id)
        .order_by(services.c.position, services.c.id)
    ).mappings()
    return [service_from_row(r) for r in rows]


def counter_row(conn: Connection, counter_id: int) -> RowMapping:
    row = conn.execute(sa.select(counters).where(counters.c.id == counter_id)).mappings().first()
    if row is None:
        raise NotFound("Không tìm thấy quầy.", "Counter not found.", code="counter_not_found")
    return row


def counter_service_codes(conn: Connection, counter_id: int) -> list[str]:
    return list(conn.execute(
        sa.select(services.c.code).join(counter_services, counter_services.c.service_id == services.c.id)
        .where(counter_services.c.counter_id == counter_id).order_by(counter_services.c.rank)
    ).scalars())


def priority_group_id(conn: Connection, office_id: int, code: str) -> int:
    gid = conn.execute(_PRIORITY_GROUP, {"office_id": office_id, "code": code}).scalar()
    if gid is None:
        raise NotFound(f"Không có nhóm ưu tiên «{code}».", f"There is no priority group “{code}”.",
                       code="priority_group_not_found")
    return gid


def list_priority_groups(conn: Connection, office_id: int) -> list[dict]:
    rows = conn.execute(
        sa.select(priority_groups).where(priority_groups.c.office_id == office_id,
                                         priority_groups.c.active.is_(True))
        .order_by(priority_groups.c.position, priority_groups.c.id)
    ).mappings()
    return [{"code": r["code"], "name_vi": r["name_vi"], "name_en": r["name_en"]} for r in rows]


def priority_group_names(conn: Connection, group_id: int) -> tuple[str, str]:
    """(Vietnamese, English); a group with no English name gives its Vietnamese one twice."""
    vi, en = conn.execute(sa.select(priority_groups.c.name_vi, priority_groups.c.name_en)
                          .where(priority_groups.c.id == group_id)).one()
    return vi, en or vi
