"""Building offices straight into the database for tests that need their own shape."""
from __future__ import annotations

import sqlalchemy as sa

from queue_server.domain.model import Role
from queue_server.domain.schedule import ALWAYS_OPEN
from queue_server.persistence.database import Database
from queue_server.persistence.tables import counter_services, counters, offices, priority_groups, services
from queue_server.services.auth import AuthService, Principal


def make_office(db: Database, code: str = "t", *, services_spec: list[dict] | None = None,
                counters_spec: list[tuple[int, list[str]]] | None = None, policy: str = "strict",
                interleave: int = 3, tz: str = "Asia/Ho_Chi_Minh", kiosk_token_required: bool = False) -> int:
    """services_spec: dicts with code and optional prefix/block/numbering/daily_limit/opening_hours/active.
    counters_spec: (number, [service codes in rank order])."""
    services_spec = services_spec or [{"code": "S1", "prefix": "A"}, {"code": "S2", "prefix": "B"}]
    counters_spec = counters_spec or [(1, [s["code"] for s in services_spec])]
    with db.write() as conn:
        office_id = conn.execute(sa.insert(offices).values(
            code=code, name=f"Văn phòng {code}", name_en=f"Office {code}", timezone=tz, priority_policy=policy,
            priority_interleave=interleave, kiosk_token_required=kiosk_token_required,
        ).returning(offices.c.id)).scalar_one()
        ids = {}
        for i, spec in enumerate(services_spec):
            ids[spec["code"]] = conn.execute(sa.insert(services).values(
                office_id=office_id, code=spec["code"], name_vi=spec.get("name_vi", f"Dịch vụ {spec['code']}"),
                name_en=spec.get("name_en", f"Service {spec['code']}"),
                numbering=spec.get("numbering", "prefix" if "prefix" in spec else "block"),
                prefix=spec.get("prefix"), block=spec.get("block"), digits=spec.get("digits", 3),
                daily_limit=spec.get("daily_limit"), opening_hours=spec.get("opening_hours", ALWAYS_OPEN),
                active=spec.get("active", True), position=i,
            ).returning(services.c.id)).scalar_one()
        for number, served in counters_spec:
            cid = conn.execute(sa.insert(counters).values(office_id=office_id, number=number, name=f"Quầy {number}")
                               .returning(counters.c.id)).scalar_one()
            for rank, scode in enumerate(served):
                conn.execute(sa.insert(counter_services).values(counter_id=cid, service_id=ids[scode], rank=rank))
        conn.execute(sa.insert(priority_groups).values(office_id=office_id, code="NCT", name_vi="Người cao tuổi",
                                                       name_en="Elderly people"))
    return office_id


def counter_id(db: Database, office_id: int, number: int) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(counters.c.id).where(counters.c.office_id == office_id,
                                                           counters.c.number == number)).scalar_one()


def office_admin(db: Database, office_id: int) -> Principal:
    """An admin principal of the office, as the services see a signed-in admin."""
    return Principal(kind="user", office_id=office_id, user_id=None, username="admin-t", role=Role.ADMIN)


def staff_user(db: Database, clock, office_id: int, username: str, counters_: list[int]) -> Principal:  # noqa: ANN001
    auth = AuthService(db, clock)
    uid = auth.create_user(username, "password-123", Role.STAFF, office_id, counter_numbers=counters_)
    return auth.user_principal(uid)
