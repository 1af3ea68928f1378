"""The demo office from DOMAIN.md: a commune/ward centre open around the clock for trying out."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..domain.clock import Clock, business_date
from ..domain.model import DeviceKind, Role
from ..domain.schedule import ALWAYS_OPEN
from ..persistence.database import Database
from ..persistence.tables import counter_services, counters, dossiers, offices, priority_groups, services
from .auth import AuthService
from .dossiers import DossierInput, DossierService, StepInput

DEMO_OFFICE_CODE = "demo"
DEMO_PASSWORD = "motcua-demo"  # demo only; README says so
DEMO_KIOSK = "kiosk-1"

SERVICES = [
    # code, prefix, Vietnamese, English
    ("HOTICH", "A", "Hộ tịch", "Civil status registration"),
    ("CHUNGTHUC", "B", "Chứng thực", "Certification"),
    ("TUPHAP", "C", "Tư pháp", "Justice"),
    ("DATDAI", "D", "Đất đai", "Land"),
    ("HOKINHDOANH", "E", "Thành lập và hoạt động của hộ kinh doanh", "Household business registration"),
    ("XAYDUNG", "F", "Hoạt động xây dựng", "Construction permits"),
    ("BAOTRO", "G", "Bảo trợ xã hội", "Social protection"),
    ("TRAKETQUA", "H", "Trả kết quả", "Collecting results"),
]

COUNTERS = [
    # number, Vietnamese name, English name, services in the order the counter serves them
    (1, "Tư pháp", "Justice", ["HOTICH", "CHUNGTHUC", "TUPHAP"]),
    (2, "Kinh tế - Hạ tầng - Đô thị", "Economy, Infrastructure and Urban Affairs", ["HOKINHDOANH", "XAYDUNG"]),
    (3, "Đất đai", "Land", ["DATDAI"]),
    (4, "Văn hóa - Xã hội", "Culture and Society", ["BAOTRO"]),
    (5, "Trả kết quả", "Results", ["TRAKETQUA", "CHUNGTHUC"]),
]

PRIORITY_GROUPS = [
    ("NCT", "Người cao tuổi", "Elderly people"),
    ("NKT", "Người khuyết tật", "People with disabilities"),
    ("PNMT", "Phụ nữ mang thai", "Pregnant women"),
    ("NCC", "Người có công với cách mạng", "People with meritorious services to the revolution"),
    ("TRENHO", "Người đi cùng trẻ nhỏ", "People with young children"),
]

STAFF = [(f"staff{n}", f"Cán bộ quầy {n}", n) for n in range(1, 6)]


def load_demo(db: Database, auth: AuthService) -> bool:
    """Creates the demo office; does nothing if it exists. Returns whether it created it."""
    with db.write() as conn:
        if conn.execute(sa.select(offices.c.id).where(offices.c.code == DEMO_OFFICE_CODE)).scalar() is not None:
            return False
        office_id = conn.execute(sa.insert(offices).values(
            code=DEMO_OFFICE_CODE,
            name="Trung tâm Phục vụ hành chính công phường Hòa Bình (bản trình diễn)",
            name_en="Hoa Binh Ward Public Administrative Service Centre (demo)",
            address="Số 1 đường Trung tâm, phường Hòa Bình",
            timezone="Asia/Ho_Chi_Minh", agency_code="000.00.12.H56",
            priority_policy="strict", priority_interleave=3,
        ).returning(offices.c.id)).scalar_one()
        service_ids = {}
        for position, (code, prefix, vi, en) in enumerate(SERVICES):
            service_ids[code] = conn.execute(sa.insert(services).values(
                office_id=office_id, code=code, name_vi=vi, name_en=en, numbering="prefix", prefix=prefix,
                digits=3, daily_limit=None, opening_hours=ALWAYS_OPEN, active=True, position=position,
                avg_service_s=300,
            ).returning(services.c.id)).scalar_one()
        for number, vi, en, served in COUNTERS:
            counter_id = conn.execute(sa.insert(counters).values(
                office_id=office_id, number=number, name=vi, name_en=en, state="active", led_address=number,
            ).returning(counters.c.id)).scalar_one()
            for rank, code in enumerate(served):
                conn.execute(sa.insert(counter_services).values(counter_id=counter_id, service_id=service_ids[code],
                                                                rank=rank))
        for position, (code, vi, en) in enumerate(PRIORITY_GROUPS):
            conn.execute(sa.insert(priority_groups).values(office_id=office_id, code=code, name_vi=vi, name_en=en,
                                                           position=position))
    auth.create_user("admin", DEMO_PASSWORD, Role.ADMIN, office_id, full_name="Quản trị viên")
    for username, full_name, counter_number in STAFF:
        auth.create_user(username, DEMO_PASSWORD, Role.STAFF, office_id, full_name=full_name,
                         counter_numbers=[counter_number])
    auth.issue_device_token(office_id, DeviceKind.KIOSK, DEMO_KIOSK, "Ki-ốt cấp số 1")
    return True


# Dossiers to look up at the kiosk: (what it shows, days ago received, days from then to the appointment,
# procedure, field, owner, the statuses it went through with the day of each, a new date from an apology,
# the counter handing out results).
DOSSIERS = [
    ("being processed", 3, 5, "Đăng ký khai sinh", "Hộ tịch", "Nguyễn Văn An",
     [(0, 2), (1, 4)], None, None),
    ("result ready at counter 5", 9, 7, "Chứng thực bản sao từ bản chính", "Chứng thực", "Trần Thị Bình",
     [(0, 2), (1, 4), (6, 9)], None, 5),
    ("late, with an apology and a new date", 12, 10, "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Hoạt động xây dựng",
     "Lê Văn Cường", [(0, 2), (1, 4)], 14, None),
    ("waiting for a supplement", 6, 8, "Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh",
     "Phạm Thị Dung", [(0, 2), (1, 4), (2, 5)], None, None),
    ("result handed over", 20, 7, "Đăng ký kết hôn", "Hộ tịch", "Hoàng Văn Em",
     [(0, 2), (1, 4), (5, 9), (6, 10)], None, None),
]


def load_demo_dossiers(db: Database, dossier_service: DossierService, clock: Clock) -> list[tuple[str, str]]:
    """Five dossiers of the demo office, one at each stage of DOSSIERS, dated from today, once.
    Returns (code, what it shows) for each."""
    with db.read() as conn:
        office_id, agency, tz = conn.execute(sa.select(offices.c.id, offices.c.agency_code, offices.c.timezone)
                                             .where(offices.c.code == DEMO_OFFICE_CODE)).one()
        codes = list(conn.execute(sa.select(dossiers.c.code).where(dossiers.c.office_id == office_id,
                                                                    dossiers.c.source == "demo")
                                  .order_by(dossiers.c.id)).scalars())
    if codes:
        return list(zip(codes, [entry[0] for entry in DOSSIERS], strict=False))
    zone = ZoneInfo(tz)
    today = business_date(clock.now(), tz)
    items = []
    for _, ago, days, procedure, field_name, owner, history, apology_days, counter in DOSSIERS:
        received = datetime.combine(today - timedelta(days=ago), time(8, 10), zone)
        steps = tuple(StepInput(received + timedelta(days=day, hours=1 if day else 0), status)
                      for day, status in history)
        items.append(DossierInput(
            code=f"{agency}-{received:%y%m%d}-0001", procedure_name=procedure, field_name=field_name,
            received_at=received, appointment_at=datetime.combine(received.date() + timedelta(days=days),
                                                                   time(17, 0), zone),
            status=history[-1][1], owner_name=owner, steps=steps, office_id=office_id, return_counter=counter,
            apology_new_date=(datetime.combine(received.date() + timedelta(days=apology_days), time(17, 0), zone)
                              if apology_days else None),
            apology_at=received + timedelta(days=days - 2) if apology_days else None))
    stored = dossier_service.upsert_many(items, source="demo")
    return [(outcome["code"], entry[0]) for outcome, entry in zip(stored, DOSSIERS, strict=True)]
