"""Declared request and response shapes; validation and the OpenAPI document both use them."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
Lang = Literal["vi", "en"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class TicketCreate(Strict):
    service: Code = Field(description="Service code, e.g. HOTICH")
    priority: Code | None = Field(None, description="Priority group code, or null")
    kiosk: Code | None = Field(None, description="Kiosk identifier that asked for the ticket")
    lang: Lang = "vi"
    office: Code | None = Field(None, description="Office code; the default office when absent")


class Ticket(BaseModel):
    id: int
    number: str = Field(description="The printed number, e.g. A025 or 1025")
    service: str
    service_name_vi: str | None = None
    service_name_en: str | None = None
    status: Literal["waiting", "called", "finished", "no_show", "transferred", "expired"]
    priority: bool
    position: int | None = Field(None, description="People waiting ahead")
    estimated_wait_s: int | None = None
    issued_at: str
    called_at: str | None = None
    finished_at: str | None = None
    business_date: str
    counter: int | None = Field(None, description="Counter number once called")
    recall_count: int = 0
    session: str
    track_url: str | None = None
    transferred_to: int | None = None
    print_job: dict | None = Field(None, description="When a kiosk with a printer asked: the print job (id, status)")


class TokenRequest(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenResponse(BaseModel):
    token: str
    expires_in: int
    user: dict


class BoardSettings(Strict):
    counters: Annotated[list[Annotated[int, Field(ge=1, le=999)]], Field(max_length=100)] = []
    services: Annotated[list[Code], Field(max_length=100)] = []


class DeviceTokenRequest(Strict):
    kind: Literal["kiosk", "display", "agent", "rating", "integrator", "printer"]
    code: Code
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    board: BoardSettings | None = Field(None, description="Display boards: the counters and services shown")
    counter: Annotated[int, Field(ge=1, le=999)] | None = Field(
        None, description="Printers: the counter number it stands at, offered first in that counter's console")


class DeviceTokenResponse(BaseModel):
    token: str
    kind: str
    code: str


class CallNumber(Strict):
    number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{0,3}[0-9]{1,7}$")]


class Transfer(Strict):
    service: Code


class Pause(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CounterInfo(BaseModel):
    id: int
    number: int
    name: str
    name_en: str
    state: Literal["active", "paused", "offline"]
    reason: str | None = None


class QueueInfo(BaseModel):
    service: str
    name_vi: str
    name_en: str
    waiting: int
    longest_wait_s: int
    next: list[dict]


class CounterState(BaseModel):
    counter: CounterInfo
    current: Ticket | None
    queues: list[QueueInfo]
    services: list[dict]
    server_time: str
    seq: int


class ServiceInfo(BaseModel):
    code: str
    name_vi: str
    name_en: str
    numbering: Literal["prefix", "block"]
    prefix: str | None
    block: int | None
    waiting: int
    active: bool
    open_now: bool
    limit_reached: bool
    daily_limit: int | None
    opening_hours: dict


class ServiceList(BaseModel):
    office: dict
    business_date: str
    services: list[ServiceInfo]
    priority_groups: list[dict]


class DisplayState(BaseModel):
    seq: int = Field(description="Office event sequence this snapshot reflects")
    office: dict
    business_date: str
    server_time: str
    counters: list[dict]
    recent_calls: list[dict]
    waiting: list[dict]


class OfficeQuery(Strict):
    model_config = ConfigDict(extra="ignore", strict=False)
    office: Code | None = None
    lang: Lang | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    message_vi: str
    message_en: str
    details: list | dict | None = None


class Error(BaseModel):
    error: ErrorBody


class PrintJob(BaseModel):
    id: int
    kiosk: str
    ticket_id: int | None
    kind: Literal["ticket", "reprint", "receipt", "apology", "test"]
    status: Literal["pending", "sent", "printed", "failed", "uncertain", "expired"]
    attempts: int
    error_code: str | None
    created_at: str


class Reprint(Strict):
    kiosk: Code | None = Field(None, description="Kiosk whose printer prints it; the original one when absent")


class KioskState(BaseModel):
    kiosk: str
    agent_online: bool
    printer: dict | None = Field(None, description="online, paper (ok, near_end, out) and detail, as last reported")


class PrinterInfo(BaseModel):
    code: str
    name: str
    kind: str = Field(description="kiosk, or printer for a printer beside a counter")
    counter: int | None = Field(None, description="The counter number a counter printer stands at")
    agent_online: bool
    printer: dict | None = None


class PrinterList(BaseModel):
    printers: list[PrinterInfo]


Text200 = Annotated[str, StringConstraints(max_length=200)]
Status = Annotated[int, Field(ge=1, le=10, description="TrangThaiHoSo code 1–10")]


class DossierStepIn(Strict):
    at: AwareDatetime
    status: Status
    unit: Text200 = ""
    action: Annotated[str, StringConstraints(max_length=300)] = ""


class DossierIn(Strict):
    code: Annotated[str, StringConstraints(min_length=1, max_length=60)] = Field(
        description="Mã hồ sơ, e.g. 000.00.12.H56-250915-0007")
    procedure_name: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    procedure_code: Annotated[str, StringConstraints(max_length=64)] | None = None
    field_name: Annotated[str, StringConstraints(max_length=300)] = Field("", description="Lĩnh vực")
    owner_name: Text200 = Field("", description="Stored; shown to citizens only masked")
    owner_id: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{6,20}$")] | None = Field(
        None, description="ID number; only a keyed hash of it is kept")
    channel: Annotated[int, Field(ge=1, le=3)] = Field(1, description="1 trực tiếp, 2 trực tuyến, 3 bưu chính")
    received_at: AwareDatetime
    appointment_at: AwareDatetime = Field(description="Ngày hẹn trả")
    status: Status
    status_at: AwareDatetime | None = None
    unit: Text200 = ""
    action: Annotated[str, StringConstraints(max_length=300)] = ""
    steps: Annotated[list[DossierStepIn], Field(max_length=200)] = []
    apology_new_date: AwareDatetime | None = Field(None, description="New return date from the apology (once)")
    apology_at: AwareDatetime | None = None
    return_counter: Annotated[int, Field(ge=1, le=999)] | None = None
    postal: bool = False


class DossierRegister(Strict):
    code: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = Field(
        None, description="The code from the one-stop system; when absent the office's next code of the day")
    procedure_name: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    procedure_code: Annotated[str, StringConstraints(max_length=64)] | None = None
    field_name: Annotated[str, StringConstraints(max_length=300)] = Field("", description="Lĩnh vực")
    owner_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    owner_id: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{6,20}$")] | None = Field(
        None, description="ID number; only a keyed hash of it is kept")
    channel: Annotated[int, Field(ge=1, le=3)] = 1
    appointment_at: AwareDatetime = Field(description="Ngày hẹn trả")
    return_counter: Annotated[int, Field(ge=1, le=999)] | None = None
    postal: bool = False


class DossierCodeRequest(Strict):
    code: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="The dossier code (or anything the lookup accepts)")


class DossierReschedule(Strict):
    code: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    new_date: AwareDatetime = Field(description="The new return date of the apology letter")
    reason: Annotated[str, StringConstraints(max_length=300)] = ""


class DossierBatch(Strict):
    items: Annotated[list[DossierIn], Field(min_length=1, max_length=1000)]


class DossierLookup(Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="What was scanned or typed: a code, a lookup URL, or a QR text block")
    kiosk: Code | None = None
    lang: Lang = "vi"


class DossierPublic(BaseModel):
    code: str
    owner: str = Field(description="Masked name, e.g. Ng*** V** A")
    procedure: str
    field: str
    status: int
    status_text: str
    received_at: str
    appointment_at: str
    overdue: bool = Field(description="Trễ hạn: past the appointment and not ready")
    bucket: str | None
    apology_new_date: str | None
    return_counter: int | None
    postal: bool
    steps: list[dict]


class DossierSlipRequest(Strict):
    code: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="The dossier code (or anything the lookup accepts)")
    kind: Literal["receipt", "apology"] = "receipt"
    printer: Code = Field(description="Device code of the printer (a kiosk or a counter printer)")
    reason: Annotated[str, StringConstraints(max_length=300)] = Field("", description="Apology: why it is late")
    documents: Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(max_length=30)] = []
    sets: Annotated[int, Field(ge=1, le=99)] | None = None
    processing_time: Annotated[str, StringConstraints(max_length=100)] | None = None


class AnnouncementQuery(Strict):
    model_config = ConfigDict(extra="ignore", strict=False)
    number: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    counter: Annotated[int, Field(ge=1, le=999)]
    office: Code | None = None
    repeat: Annotated[int, Field(ge=1, le=5)] | None = Field(
        None, description="Times the phrase is said; the office's setting when absent (a board behind may say it once)")


class AnnouncementPreview(BaseModel):
    text: str = Field(description="What the hall hears")
    audio_url: str = Field(description="One WAV: chime, then the phrase as many times as the office repeats it")
    missing_clips: list[str] = Field(description="Words without a clip; the board then uses the browser's voice")


class Notice(Strict):
    vi: Annotated[str, StringConstraints(max_length=300)] = Field("", description="Vietnamese text; empty for none")
    en: Annotated[str, StringConstraints(max_length=300)] = Field("", description="English text shown beside it")


class HealthReport(BaseModel):
    source: str = Field(description="The device code, “board <address>” for a board without a token, or “server”")
    kind: Literal["voice_fallback", "clip_missing"]
    detail: dict | None
    count: int
    first_at: str
    last_at: str


class HealthReports(BaseModel):
    reports: list[HealthReport]


# --- ratings (appended by the ratings feature) -------------------------------------------------------

class RatingCreate(Strict):
    ticket_id: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Rating devices: the visit to rate, finished at this device's counter")
    track_token: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")] | None = Field(
        None, description="The tracking page (no token): the ticket's tracking token")
    level: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="A level code of the office's scale, e.g. very_satisfied, satisfied, unsatisfied")
    reason: Annotated[str, StringConstraints(max_length=300)] | None = Field(
        None, description="Why, on a level that asks for a reason (Không hài lòng); ignored on the others")


class RatingLevel(BaseModel):
    code: str
    vi: str
    en: str
    score: int = Field(description="Higher is better")
    satisfied: bool = Field(description="Counts towards “% hài lòng”")
    asks_reason: bool
    tone: Literal["great", "good", "neutral", "bad"] = Field(description="Colour: green, blue, amber, red")


class Rating(BaseModel):
    id: int
    ticket: dict = Field(description="id and number")
    counter: int | None = Field(description="Counter number that served the visit")
    level: str
    name_vi: str
    name_en: str
    score: int
    satisfied: bool
    reason: str | None
    channel: Literal["tablet", "keypad", "web"]
    at: str


class RatingStateQuery(Strict):
    model_config = ConfigDict(extra="ignore", strict=False)
    counter: Annotated[int, Field(ge=1, le=999)] | None = Field(
        None, description="The counter the page is opened for; refused when the device belongs to another")


class RatingState(BaseModel):
    counter: dict = Field(description="id, number, name, name_en")
    officer: dict | None = Field(description="id, full_name, photo_url (or null): who serves at the counter now")
    pending: dict | None = Field(description="ticket_id, number, service, finished_at: the visit to ask about")
    levels: list[RatingLevel]
    question: dict = Field(description="vi, en")
    reasons: list[dict] = Field(description="Preset reasons (vi, en) offered on a level that asks why")
    window_s: int = Field(description="Seconds after the finish a visit can be rated here")
    server_time: str


class TrackRating(BaseModel):
    state: Literal["open", "rated", "not_finished", "not_served", "closed"]
    ticket: dict = Field(description="number, status, counter")
    rating: Rating | None
    levels: list[RatingLevel]
    question: dict
    reasons: list[dict]
    until: str | None = Field(description="While open: when rating closes")


class PhotoSaved(BaseModel):
    user_id: int
    content_type: str
    bytes: int
    version: int
    url: str


# The admin's settings pages. Types and sizes are checked here; what the values mean (ranges, overlaps,
# duplicates) is checked by domain.validation, which names the field and says it in Vietnamese and English.
Name = Annotated[str, StringConstraints(max_length=1000)]


class AdminOffice(Strict):
    name: Name
    name_en: Name = ""
    address: Name = ""
    timezone: Annotated[str, StringConstraints(max_length=64)] = "Asia/Ho_Chi_Minh"
    agency_code: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="Mã định danh cơ quan (QCVN 102:2016), e.g. 000.00.12.H56; null for none")
    kiosk_token_required: bool = False


class AdminServiceUpdate(Strict):
    name_vi: Name
    name_en: Name = ""
    numbering: Literal["prefix", "block"] = "prefix"
    prefix: Annotated[str, StringConstraints(max_length=10)] | None = Field(None, description="A025: 1–3 letters")
    block: int | None = Field(None, description="1025: block 1 issues 1001, 1002 …")
    digits: int = 3
    daily_limit: int | None = Field(None, description="Numbers a day; null for no limit")
    opening_hours: Annotated[dict[str, Annotated[list[list[str]], Field(max_length=12)]], Field(max_length=7)] = \
        Field(description='Windows per weekday: {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], "sat": []}')
    active: bool = True
    avg_service_s: int = 300


class AdminServiceCreate(AdminServiceUpdate):
    code: Annotated[str, StringConstraints(max_length=100)] = Field(description="Service code, e.g. HOTICH")


class AdminServiceOrder(Strict):
    codes: Annotated[list[Annotated[str, StringConstraints(max_length=100)]], Field(max_length=500)] = Field(
        description="Every service code of the office, in the order the kiosk shows them")


class AdminCounterUpdate(Strict):
    name: Name
    name_en: Name = ""
    led_address: int | None = Field(None, description="Modbus address of the counter's LED display, 1–247")
    services: Annotated[list[Annotated[str, StringConstraints(max_length=100)]], Field(max_length=100)] = Field(
        description="Service codes in the order the counter calls them")


class AdminCounterCreate(AdminCounterUpdate):
    number: int


class AdminUserUpdate(Strict):
    full_name: Name
    role: Literal["admin", "supervisor", "staff"]
    active: bool = True
    counters: Annotated[list[int], Field(max_length=100)] = Field([], description="Counter numbers")


class AdminUserCreate(AdminUserUpdate):
    username: Annotated[str, StringConstraints(max_length=100)]
    password: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        None, description="At least 8 characters; when absent a random one is made and returned once")


class AdminPassword(Strict):
    password: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        None, description="The new password (at least 8 characters); when absent a random one is returned once")


class AdminDeviceUpdate(Strict):
    name: Name = ""
    board: BoardSettings | None = Field(None, description="Display boards: only these counters and services")
    counter: int | None = Field(None, description="Printers and rating devices: the counter number")


class AdminDeviceCreate(AdminDeviceUpdate):
    kind: Literal["kiosk", "display", "agent", "rating", "integrator", "printer"]
    code: Annotated[str, StringConstraints(max_length=100)]


class AdminPriorityGroup(Strict):
    code: Annotated[str, StringConstraints(max_length=100)]
    name_vi: Name
    name_en: Name = ""
    active: bool = True


class AdminPriority(Strict):
    policy: Literal["strict", "interleaved"]
    interleave: int = Field(3, description="Interleaved: one priority ticket after every N regular ones")
    groups: Annotated[list[AdminPriorityGroup], Field(max_length=50)] = Field(
        description="The groups in the order the kiosk offers them; a group left out is removed")


class AdminVoice(Strict):
    template: Annotated[str, StringConstraints(max_length=1000)] = Field(
        description="The call phrase with {so} (or {number}) and {quay} (or {counter})")
    dialect: Literal["north", "south"] = "north"
    reading: Literal["whole", "digits"] = "whole"
    keep_leading_zeros: bool = Field(False, description="A025 read “a, không hai mươi lăm”")
    four_as_tu: bool = Field(True, description="24 read “hai mươi tư” rather than “hai mươi bốn”")
    repeat: int = 2
    engine: Literal["clips", "browser", "chime"] = "clips"


class AdminTicketTemplate(Strict):
    header_lines: Annotated[list[Annotated[str, StringConstraints(max_length=1000)]], Field(max_length=20)] = \
        Field([], description="Up to 4 lines of up to 60 characters under the office name")
    footer: Annotated[str, StringConstraints(max_length=2000)] = Field(description="Up to 200 characters")
    qr: bool = Field(True, description="Print the tracking QR code")
    paper_width: int = Field(576, description="576 (80 mm) or 384 (58 mm) dots")


class AdminRating(Strict):
    model_config = ConfigDict(extra="forbid", strict=False)
    levels: list | None = Field(None, description="2–5 levels, best first: {code, vi, en, satisfied}")
    question: dict | None = Field(None, description="{vi, en}: what the tablet asks")
    window_minutes: int | None = None
    web_window_hours: int | None = None


class AuditQuery(Strict):
    model_config = ConfigDict(extra="ignore", strict=False)
    entity: Annotated[str, StringConstraints(max_length=32)] | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 200


class AuditEntry(BaseModel):
    id: int
    at: str
    username: str
    entity: str
    key: str
    action: str
    before: dict | list | None
    after: dict | list | None


class AuditLog(BaseModel):
    entries: list[AuditEntry]


# Reports ------------------------------------------------------------------------------------------
ReportDay = Annotated[str, StringConstraints(max_length=40)]


class ReportQuery(Strict):
    model_config = ConfigDict(extra="ignore", strict=False, populate_by_name=True)
    from_: ReportDay | None = Field(None, alias="from", description="First business date, YYYY-MM-DD (default: today)")
    to: ReportDay | None = Field(None, description="Last business date, YYYY-MM-DD, inclusive (default: `from`); "
                                                   "at most 366 days")


class ReportTimes(BaseModel):
    count: int = Field(description="How many times were measured")
    mean_min: float | None = Field(description="Minutes, one decimal")
    median_min: float | None = Field(description="Nearest-rank 50th percentile, minutes")
    p90_min: float | None = Field(description="Nearest-rank 90th percentile: the ⌈0.9·n⌉-th smallest time, minutes")


class ReportRatings(BaseModel):
    count: int
    satisfied: int
    satisfied_pct: float | None = Field(description="% hài lòng: satisfied ratings / all ratings")


class ReportFigures(BaseModel):
    issued: int | None = Field(description="Tickets taken at the kiosk (services and totals only)")
    called: int
    served: int
    no_show: int
    transferred: int
    wait: ReportTimes = Field(description="Joining the queue (or the transfer) → call")
    service_time: ReportTimes = Field(description="Call → finish, finished tickets")
    ratings: ReportRatings


class ReportServiceRow(ReportFigures):
    id: int
    code: str
    name_vi: str
    name_en: str


class ReportCounterRow(ReportFigures):
    id: int
    number: int
    name: str
    name_en: str


class ReportOfficerRow(ReportFigures):
    id: int | None = Field(description="The user; null for tickets served without a signed-in officer")
    username: str | None
    full_name: str | None


class ReportBand(BaseModel):
    from_min: int
    to_min: int | None = Field(description="Exclusive; null for the open last band")
    count: int
    pct: float | None


class ReportLevel(BaseModel):
    level: str
    name_vi: str
    name_en: str
    score: int
    satisfied: bool
    count: int
    pct: float | None


class ReportCounterSatisfaction(BaseModel):
    id: int
    number: int
    name: str
    name_en: str
    levels: dict[str, int] = Field(description="Ratings per level code")
    count: int
    satisfied_pct: float | None


class ReportSatisfaction(ReportRatings):
    levels: list[ReportLevel] = Field(description="Best level first")
    by_counter: list[ReportCounterSatisfaction]


class ReportDossiers(BaseModel):
    basis: Literal["finished_in_range"] = Field(description="Dossiers whose processing ended within the range")
    total: int
    early: int = Field(description="Trước hạn")
    on_time: int = Field(description="Đúng hạn")
    late: int = Field(description="Quá hạn")
    early_pct: float | None
    on_time_pct: float | None
    late_pct: float | None
    in_time: int = Field(description="Trước hạn + Đúng hạn")
    in_time_pct: float | None


class ReportHour(BaseModel):
    hour: int = Field(description="Hour of the day on the office's clock, 0–23")
    issued: int


class ReportSummary(BaseModel):
    office: dict
    from_: str = Field(alias="from")
    to: str
    days: int
    generated_at: str
    totals: ReportFigures
    by_service: list[ReportServiceRow]
    by_counter: list[ReportCounterRow]
    by_officer: list[ReportOfficerRow]
    hours: list[ReportHour]
    wait_distribution: list[ReportBand]
    satisfaction: ReportSatisfaction
    dossiers: ReportDossiers
