"""The schema. Alembic migrations under `migrations/` create it; nothing calls create_all."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

offices = sa.Table(
    "offices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False, server_default=""),
    sa.Column("address", sa.String(300), nullable=False, server_default=""),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="Asia/Ho_Chi_Minh"),
    sa.Column("agency_code", sa.String(35), nullable=True),
    sa.Column("priority_policy", sa.String(16), nullable=False, server_default="strict"),
    sa.Column("priority_interleave", sa.Integer, nullable=False, server_default="3"),
    sa.Column("kiosk_token_required", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("event_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("settings", sa.JSON, nullable=True),   # voice, board notice: office-level preferences
)

services = sa.Table(
    "services", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name_vi", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("numbering", sa.String(8), nullable=False, server_default="prefix"),
    sa.Column("prefix", sa.String(3), nullable=True),
    sa.Column("block", sa.Integer, nullable=True),
    sa.Column("digits", sa.Integer, nullable=False, server_default="3"),
    sa.Column("daily_limit", sa.Integer, nullable=True),
    sa.Column("opening_hours", sa.JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("avg_service_s", sa.Integer, nullable=False, server_default="300"),
    sa.UniqueConstraint("office_id", "code"),
)

counters = sa.Table(
    "counters", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False, server_default=""),
    sa.Column("state", sa.String(16), nullable=False, server_default="active"),
    sa.Column("state_reason", sa.String(200), nullable=True),
    sa.Column("current_ticket_id", sa.Integer, nullable=True),
    sa.Column("regular_streak", sa.Integer, nullable=False, server_default="0"),
    sa.Column("led_address", sa.Integer, nullable=True),
    sa.UniqueConstraint("office_id", "number"),
)

counter_services = sa.Table(
    "counter_services", metadata,
    sa.Column("counter_id", sa.Integer, sa.ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("rank", sa.Integer, nullable=False, server_default="0"),
)

priority_groups = sa.Table(
    "priority_groups", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name_vi", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.UniqueConstraint("office_id", "code"),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("full_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

user_counters = sa.Table(
    "user_counters", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("counter_id", sa.Integer, sa.ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
)

devices = sa.Table(
    "devices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("settings", sa.JSON, nullable=True),
    sa.Column("last_seen_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("office_id", "code"),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=True),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index(None, "username", "at"),
    sa.Index(None, "address", "at"),
)

daily_sequences = sa.Table(
    "daily_sequences", metadata,
    sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), primary_key=True),
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("last_seq", sa.Integer, nullable=False),
)

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("business_date", sa.Date, nullable=False),
    # seq is set on issued tickets; the waiting copy made by a transfer has none.
    sa.Column("seq", sa.Integer, nullable=True),
    sa.Column("number", sa.String(16), nullable=False),
    sa.Column("priority_group_id", sa.Integer, sa.ForeignKey("priority_groups.id"), nullable=True),
    sa.Column("is_priority", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("counter_id", sa.Integer, sa.ForeignKey("counters.id"), nullable=True),
    sa.Column("served_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("kiosk", sa.String(64), nullable=True),
    sa.Column("lang", sa.String(2), nullable=False, server_default="vi"),
    sa.Column("session", sa.String(8), nullable=False),
    sa.Column("track_token", sa.String(32), nullable=True, unique=True),
    sa.Column("idempotency_key", sa.String(80), nullable=True),
    sa.Column("origin_ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=True),
    sa.Column("transferred_to_id", sa.Integer, nullable=True),
    sa.Column("issued_at", sa.DateTime, nullable=False),
    sa.Column("queued_at", sa.DateTime, nullable=False),
    sa.Column("called_at", sa.DateTime, nullable=True),
    sa.Column("recall_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("service_id", "business_date", "seq"),
    sa.UniqueConstraint("office_id", "idempotency_key"),
    sa.Index(None, "office_id", "business_date", "status", "service_id"),
    sa.Index(None, "office_id", "business_date", "number"),
)

ticket_actions = sa.Table(
    "ticket_actions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("counter_id", sa.Integer, nullable=True),
    sa.Column("user_id", sa.Integer, nullable=True),
    sa.Column("detail", sa.String(200), nullable=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index(None, "ticket_id"),
)

print_jobs = sa.Table(
    "print_jobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("device_code", sa.String(64), nullable=False),   # the kiosk (or counter) whose printer prints it
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("slip", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_code", sa.String(32), nullable=True),
    sa.Column("error", sa.String(300), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.Column("done_at", sa.DateTime, nullable=True),
    sa.Index(None, "office_id", "device_code", "status"),
    sa.Index(None, "ticket_id"),
)

device_status = sa.Table(
    "device_status", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("online", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("printer_online", sa.Boolean, nullable=True),
    sa.Column("paper", sa.String(16), nullable=True),
    sa.Column("detail", sa.String(300), nullable=True),
    sa.Column("connections", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

dossiers = sa.Table(
    "dossiers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(60), nullable=False, unique=True),
    sa.Column("agency_code", sa.String(35), nullable=False),
    sa.Column("received_date", sa.Date, nullable=False),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=True),
    sa.Column("procedure_code", sa.String(64), nullable=True),
    sa.Column("procedure_name", sa.String(500), nullable=False, server_default=""),
    sa.Column("field_name", sa.String(300), nullable=False, server_default=""),
    sa.Column("owner_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("owner_id_hash", sa.String(64), nullable=True),   # HMAC of the ID number; the number is never kept
    sa.Column("channel", sa.Integer, nullable=False, server_default="1"),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("appointment_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("apology_new_date", sa.DateTime, nullable=True),
    sa.Column("apology_at", sa.DateTime, nullable=True),
    sa.Column("apology_reason", sa.String(300), nullable=True),   # why it is late, as the apology letter says
    sa.Column("return_counter", sa.Integer, nullable=True),
    sa.Column("postal", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.String(32), nullable=False, server_default="api"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

dossier_steps = sa.Table(
    "dossier_steps", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dossier_id", sa.Integer, sa.ForeignKey("dossiers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("unit", sa.String(200), nullable=False, server_default=""),
    sa.Column("action", sa.String(300), nullable=False, server_default=""),
    sa.Index(None, "dossier_id", "at"),
)

dossier_lookups = sa.Table(
    "dossier_lookups", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),     # kiosk, web, api, scan
    sa.Column("kiosk", sa.String(64), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),    # found, unknown, malformed, limited
    sa.Column("code", sa.String(60), nullable=True),        # only a well-formed code; never a name or an ID
    sa.Index(None, "at"),
)

# What a part of the hall reported wrong (a board's voice fell back, a clip is missing); the latest per
# source and kind, cleared when the source reports it is fine again. Read by the admin's live view.
health_reports = sa.Table(
    "health_reports", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id", ondelete="CASCADE"), nullable=False),
    sa.Column("source", sa.String(80), nullable=False),     # a device code, "board 10.0.0.7", or "server"
    sa.Column("kind", sa.String(32), nullable=False),       # voice_fallback, clip_missing
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Column("first_at", sa.DateTime, nullable=False),
    sa.Column("last_at", sa.DateTime, nullable=False),
    sa.Column("count", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("office_id", "source", "kind"),
)

# Every change an admin makes: who, when, what it was before and after.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id", ondelete="CASCADE"), nullable=True),
    sa.Column("user_id", sa.Integer, nullable=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("entity", sa.String(32), nullable=False),     # office, service, counter, user, device, settings …
    sa.Column("entity_key", sa.String(80), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),     # create, update, delete
    sa.Column("before", sa.JSON, nullable=True),
    sa.Column("after", sa.JSON, nullable=True),
    sa.Index(None, "office_id", "at"),
)

# One rating per visit (ticket), bound to the counter, officer and service that served it.
ratings = sa.Table(
    "ratings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False, unique=True),
    sa.Column("counter_id", sa.Integer, sa.ForeignKey("counters.id"), nullable=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("level", sa.String(32), nullable=False),      # a level code of the office's scale
    sa.Column("score", sa.Integer, nullable=False),         # its place on the scale: higher is better
    sa.Column("satisfied", sa.Boolean, nullable=False),     # counts towards "% hài lòng"
    sa.Column("reason", sa.String(300), nullable=True),
    sa.Column("channel", sa.String(16), nullable=False),    # tablet, keypad, web
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index(None, "office_id", "at"),
)

user_photos = sa.Table(
    "user_photos", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# A closed business day's report tally (ReportService's Tally as JSON), stored once the day is counted and
# trusted while the day's fingerprint (its tickets per status with their id sums, its ratings) is unchanged.
report_days = sa.Table(
    "report_days", metadata,
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("computed_at", sa.DateTime, nullable=False),
)
