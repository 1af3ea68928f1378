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
