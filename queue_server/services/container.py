"""Every application service, built once by the composition root and shared."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from ..domain.clock import Clock
from ..persistence.database import Database
from ..persistence.tables import offices
from .admin import AdminService
from .auth import AuthService
from .bus import EventBus
from .counters import CounterService
from .display import DisplayService
from .dossiers import DossierService
from .health import HealthService
from .live import LiveService
from .office_settings import OfficeSettings
from .offices import office_by_code
from .printing import PrintService
from .ratings import RatingService
from .reports import ReportService
from .tickets import TicketService
from .voice import ClipVoice


class QueueServices:
    def __init__(self, db: Database, clock: Clock, config: dict) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.bus = EventBus()
        self.auth = AuthService(db, clock, timedelta(seconds=config.get("USER_TOKEN_TTL_S", 43200)))
        self.printing = PrintService(db, clock, self.bus)
        self.tickets = TicketService(db, clock, self.bus, self.printing)
        self.counters = CounterService(db, clock, self.bus)
        self.display = DisplayService(db, clock)
        self.health = HealthService(db, clock, self.bus)
        self.settings = OfficeSettings(db, clock, self.bus)
        self.live = LiveService(db, clock, self.display, self.health)
        self.admin = AdminService(db, clock, self.bus, self.auth)
        self.ratings = RatingService(db, clock, self.bus)
        self.reports = ReportService(db, clock)
        self.voice = ClipVoice(Path(config.get("VOICE_DIR", "var/voice")))
        self.dossiers = DossierService(
            db, clock, str(config.get("ID_HASH_KEY", "motcua-id-hash")).encode(),
            {"address": config.get("LOOKUPS_PER_MINUTE_ADDRESS", 30),
             "kiosk": config.get("LOOKUPS_PER_MINUTE_KIOSK", 120)}, self.printing)

    def office_id_by_code(self, code: str) -> int:
        with self.db.read() as conn:
            return office_by_code(conn, code).id

    def default_office_id(self) -> int | None:
        with self.db.read() as conn:
            return conn.execute(sa.select(offices.c.id).order_by(offices.c.id).limit(1)).scalar()
