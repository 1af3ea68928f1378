"""Opening windows per weekday, in the office's local time."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from .errors import Unavailable

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Windows = dict[str, list[tuple[str, str]]]

ALWAYS_OPEN: Windows = {day: [("00:00", "24:00")] for day in WEEKDAYS}
OFFICE_HOURS: Windows = {
    **{day: [("07:30", "11:30"), ("13:30", "17:00")] for day in WEEKDAYS[:5]},
    "sat": [], "sun": [],
}


def _minutes(text: str) -> int:
    hh, mm = text.split(":")
    hours, minutes = int(hh), int(mm)
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"not a time of day: {text!r}")
    return hours * 60 + minutes


def validate_windows(windows: Windows) -> Windows:
    """Checks shape, order and overlap; returns the windows sorted per day."""
    unknown = set(windows) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekday keys: {sorted(unknown)}")
    cleaned: Windows = {}
    for day in WEEKDAYS:
        spans = sorted((tuple(w) for w in windows.get(day, [])), key=lambda w: _minutes(w[0]))
        previous_end = -1
        for start, end in spans:
            a, b = _minutes(start), _minutes(end)
            if a >= b:
                raise ValueError(f"{day}: window {start}–{end} ends before it starts")
            if a < previous_end:
                raise ValueError(f"{day}: windows overlap at {start}")
            previous_end = b
        cleaned[day] = [(s, e) for s, e in spans]
    return cleaned


def is_open(windows: Windows, local: datetime) -> bool:
    minute = local.hour * 60 + local.minute
    return any(_minutes(s) <= minute < _minutes(e) for s, e in windows.get(WEEKDAYS[local.weekday()], []))


def next_opening(windows: Windows, local: datetime) -> datetime | None:
    """The next local instant a window opens, within a week; None when never open."""
    minute = local.hour * 60 + local.minute
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for start, _ in windows.get(WEEKDAYS[day.weekday()], []):
            m = _minutes(start)
            if offset == 0 and m <= minute:
                continue
            return datetime.combine(day, time(m // 60, m % 60), tzinfo=local.tzinfo)
    return None


def check_open(windows: Windows, local: datetime, service_name_vi: str, service_name_en: str) -> None:
    if is_open(windows, local):
        return
    opening = next_opening(windows, local)
    if opening is None:
        raise Unavailable(
            f"Dịch vụ «{service_name_vi}» hiện không cấp số.",
            f"The service “{service_name_en}” is not issuing numbers.",
            code="service_closed",
        )
    when = opening.strftime("%H:%M")
    if opening.date() == local.date():
        vi, en = f"lúc {when} hôm nay", f"at {when} today"
    else:
        wd = opening.weekday()
        vi = f"lúc {when} {WEEKDAY_VI[wd]}, ngày {opening:%d/%m/%Y}"
        en = f"at {when} on {WEEKDAY_EN[wd]}, {opening:%d/%m/%Y}"
    raise Unavailable(
        f"Đã hết giờ cấp số cho dịch vụ «{service_name_vi}». Mời quay lại {vi}.",
        f"Numbers for “{service_name_en}” are not being issued now. Please come back {en}.",
        code="service_closed",
        details={"opens_at": opening.isoformat()},
    )


def session_of_day(local: datetime) -> str:
    """Buổi recorded on the ticket."""
    if local.hour < 12:
        return "sang"
    if local.hour < 18:
        return "chieu"
    return "toi"


SESSION_NAMES = {"sang": ("Sáng", "Morning"), "chieu": ("Chiều", "Afternoon"), "toi": ("Tối", "Evening")}
