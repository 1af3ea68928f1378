"""Dossiers (hồ sơ) as citizens see them: codes, statuses, lateness, masked names. Pure."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import InvalidInput

MAX_INPUT = 2000
AGENCY_MAX = 35
CODE_RE = re.compile(r"^(?P<agency>[0-9A-Z]+(?:\.[0-9A-Z]+)*)-(?P<date>\d{6})-(?P<seq>\d{4})$")
# A code somewhere at the end of a longer text (a URL path or query value).
TAIL_RE = re.compile(r"([0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*-\d{6}-\d{4})\s*$")
# A code standing alone inside a longer text (a QR block whose label a scanner could not type).
EMBEDDED_RE = re.compile(r"(?<![0-9A-Za-z.])([0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*-\d{6}-\d{4})(?![0-9])")
LABEL_RE = re.compile(r"m[aã]\s*h[oồ]\s*s[oơ]\s*[:：]\s*(?P<code>\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class DossierCode:
    """`<agency code>-<YYMMDD>-<NNNN>` (TT 01/2018 Điều 19)."""
    agency: str
    received: date
    sequence: int

    def __str__(self) -> str:
        return f"{self.agency}-{self.received:%y%m%d}-{self.sequence:04d}"


class CodeRejected(InvalidInput):
    """Why a scanned or typed text is not a dossier code; `code` is a stable reason."""


def _reject(reason: str, vi: str, en: str) -> CodeRejected:
    return CodeRejected(vi, en, code=reason)


def validate_code(text: str) -> DossierCode:
    """A bare code, already normalised to upper case without spaces."""
    match = CODE_RE.match(text)
    if not match:
        raise _reject("malformed_code", "Mã hồ sơ không đúng định dạng (ví dụ: 000.00.12.H56-250915-0007).",
                      "This is not a dossier code (for example: 000.00.12.H56-250915-0007).")
    agency = match["agency"]
    if len(agency) > AGENCY_MAX:
        raise _reject("agency_too_long", "Mã cơ quan trong mã hồ sơ dài quá 35 ký tự.",
                      "The agency part of the code is longer than 35 characters.")
    digits = match["date"]
    try:
        received = date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError:
        raise _reject("bad_date", "Ngày trong mã hồ sơ không có thật.",
                      "The date inside the code is not a real date.") from None
    sequence = int(match["seq"])
    if sequence == 0:
        raise _reject("bad_sequence", "Số thứ tự trong mã hồ sơ phải từ 0001.",
                      "The sequence inside the code starts at 0001.")
    return DossierCode(agency, received, sequence)


def _normalise(candidate: str) -> str:
    return re.sub(r"\s+", "", unquote(candidate)).upper()


def parse_code(text: object) -> DossierCode:
    """What a scanner or a keypad produced → the dossier code it carries.

    Accepts a bare code (any case, stray spaces), a URL whose path or query ends in a code,
    or a QR text block with a line "Mã hồ sơ: …"; refuses everything else with a reason.
    """
    if not isinstance(text, str) or not text.strip():
        raise _reject("empty", "Chưa có mã hồ sơ.", "No dossier code was given.")
    if len(text) > MAX_INPUT:
        raise _reject("too_long", "Nội dung quét được quá dài.", "The scanned text is too long.")
    text = unicodedata.normalize("NFC", text).strip()
    label = LABEL_RE.search(text)
    if label:
        return validate_code(_normalise(label["code"]))
    if "://" in text or text.startswith("/") or "?" in text:
        parts = urlsplit(text)
        candidates = [value for _, value in reversed(parse_qsl(parts.query, keep_blank_values=False))]
        candidates.append(parts.path.rstrip("/").rsplit("/", 1)[-1])
        for candidate in candidates:
            tail = TAIL_RE.search(unquote(candidate).strip())
            if tail:
                return validate_code(_normalise(tail.group(1)))
        raise _reject("no_code_in_url", "Đường dẫn không chứa mã hồ sơ.", "The link does not contain a dossier code.")
    try:
        return validate_code(_normalise(text))
    except CodeRejected as exc:
        # A keyboard-wedge scanner drops Vietnamese letters ("M h s: …"): one code alone in the
        # text is still the code; none, or several, is not a receipt we can read.
        found = {m.group(1).upper() for m in EMBEDDED_RE.finditer(text)}
        if len(found) == 1:
            return validate_code(found.pop())
        if "\n" in text:
            raise _reject("no_code_label", "Mã QR không có dòng «Mã hồ sơ».",
                          "The QR text has no “Mã hồ sơ” line.") from None
        raise exc from None


# Statuses: the national portal's TrangThaiHoSo codes ------------------------------------------
STATUS_NAMES = {
    1: "Mới đăng ký", 2: "Được tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ", 6: "Yêu cầu thực hiện nghĩa vụ tài chính", 7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý", 9: "Đã xử lý xong", 10: "Đã trả kết quả",
}
# What the kiosk says to the citizen (vi, en).
CITIZEN_WORDING = {
    1: ("Chờ tiếp nhận", "Waiting to be received"),
    2: ("Đang giải quyết", "Being processed"),
    3: ("Không tiếp nhận", "Not accepted"),
    4: ("Đang giải quyết", "Being processed"),
    5: ("Chờ bổ sung hồ sơ", "Waiting for your additional documents"),
    6: ("Chờ thực hiện nghĩa vụ tài chính", "Waiting for your fees or taxes to be paid"),
    7: ("Đã rút", "Withdrawn at your request"),
    8: ("Dừng xử lý", "Processing stopped"),
    9: ("Đã có kết quả — mời nhận kết quả", "The result is ready — please collect it"),
    10: ("Đã trả kết quả", "The result has been handed over"),
}
FINISHED = (9, 10)
ENDED = (9, 10, 8, 3, 7)
SUPPLEMENT = 5
CHANNELS = {1: ("Trực tiếp", "In person"), 2: ("Trực tuyến", "Online"), 3: ("Bưu chính", "By post")}


def citizen_status(status: int, lang: str, return_counter: int | None = None) -> str:
    if status == 9 and return_counter is not None:
        if lang == "en":
            return f"The result is ready — please collect it at counter {return_counter}"
        return f"Đã có kết quả — mời nhận tại quầy số {return_counter}"
    vi, en = CITIZEN_WORDING[status]
    return en if lang == "en" else vi


# Lateness ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    at: datetime
    status: int


EARLY, ON_TIME, LATE = "truoc_han", "dung_han", "qua_han"
BUCKET_NAMES = {EARLY: ("Trước hạn", "Early"), ON_TIME: ("Đúng hạn", "On time"), LATE: ("Quá hạn", "Late")}


def end_of_processing(steps: list[Step]) -> datetime | None:
    """When processing ended: the first 9, else the first 10, else the first of 8/3/7."""
    for wanted in ((9,), (10,), (8, 3, 7)):
        times = [s.at for s in steps if s.status in wanted]
        if times:
            return min(times)
    return None


def supplement_time(steps: list[Step], until: datetime) -> tuple[timedelta, int]:
    """Total time spent waiting for the citizen's supplement, and how many requests there were."""
    ordered = sorted(steps, key=lambda s: s.at)
    total, count, since = timedelta(0), 0, None
    for step in ordered:
        if step.status == SUPPLEMENT and since is None:
            since, count = step.at, count + 1
        elif step.status != SUPPLEMENT and since is not None:
            total += max(timedelta(0), step.at - since)
            since = None
    if since is not None:
        total += max(timedelta(0), until - since)
    return total, count


def deadline_bucket(appointment: datetime, steps: list[Step], now: datetime) -> str | None:
    """Trước hạn / Đúng hạn / Quá hạn, or None while still in time and not finished.

    The deadline moves by the time spent waiting for the citizen's supplement; more than one
    supplement request counts as late (DOMAIN.md).
    """
    end = end_of_processing(steps)
    waited, requests = supplement_time(steps, end or now)
    deadline = appointment + waited
    if requests > 1:
        return LATE
    if end is None:
        return LATE if now > deadline else None
    if end > deadline:
        return LATE
    return EARLY if end.date() < deadline.date() else ON_TIME


def is_overdue(appointment: datetime, status: int, steps: list[Step], now: datetime) -> bool:
    """The kiosk's "Trễ hạn": past the appointment and the result not ready or handed over."""
    if status in FINISHED:
        return False
    return deadline_bucket(appointment, steps, now) == LATE


# Names -----------------------------------------------------------------------------------------
def mask_name(full_name: str) -> str:
    """"Nguyễn Văn An" → "Ng*** V** A": enough to recognise one's own dossier, not to learn a name.

    The number of stars is fixed, so the mask does not reveal the length of the name.
    """
    words = [w for w in unicodedata.normalize("NFC", full_name).split() if w]
    if not words:
        return ""
    if len(words) == 1:
        return words[0][0] + "***"
    first = words[0][:2] + "***" if len(words[0]) > 2 else words[0][0] + "***"
    middle = [w[0] + "**" for w in words[1:-1]]
    return " ".join([first, *middle, words[-1][0]])
