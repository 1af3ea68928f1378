from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.errors import Unavailable
from queue_server.domain.schedule import (
    ALWAYS_OPEN,
    OFFICE_HOURS,
    check_open,
    is_open,
    next_opening,
    session_of_day,
    validate_windows,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hh: int, mm: int = 0) -> datetime:
    """2026-11-23 is a Monday; day=0 → Monday … 6 → Sunday."""
    return datetime(2026, 11, 23 + day, hh, mm, tzinfo=VN)


@pytest.mark.parametrize(("when", "open_"), [
    (at(0, 7, 29), False), (at(0, 7, 30), True), (at(0, 11, 29), True), (at(0, 11, 30), False),
    (at(0, 12, 0), False), (at(0, 13, 30), True), (at(0, 16, 59), True), (at(0, 17, 0), False),
    (at(4, 9, 0), True), (at(5, 9, 0), False), (at(6, 9, 0), False), (at(0, 0, 0), False),
])
def test_office_hours(when: datetime, open_: bool) -> None:
    assert is_open(OFFICE_HOURS, when) is open_


@pytest.mark.parametrize("when", [at(0, 0, 0), at(3, 12, 0), at(5, 23, 59), at(6, 3, 15)])
def test_always_open(when: datetime) -> None:
    assert is_open(ALWAYS_OPEN, when)


@pytest.mark.parametrize(("when", "expected"), [
    (at(0, 6, 0), at(0, 7, 30)),
    (at(0, 12, 0), at(0, 13, 30)),
    (at(0, 17, 30), at(1, 7, 30)),
    (at(4, 17, 30), datetime(2026, 11, 30, 7, 30, tzinfo=VN)),  # Friday evening → Monday
    (at(5, 10, 0), datetime(2026, 11, 30, 7, 30, tzinfo=VN)),   # Saturday → Monday
])
def test_next_opening(when: datetime, expected: datetime) -> None:
    assert next_opening(OFFICE_HOURS, when) == expected


def test_next_opening_none_when_never_open() -> None:
    assert next_opening({}, at(0, 9)) is None


def test_closed_message_names_when_to_return() -> None:
    with pytest.raises(Unavailable) as info:
        check_open(OFFICE_HOURS, at(0, 12, 10), "Hộ tịch", "Civil status")
    exc = info.value
    assert exc.code == "service_closed"
    assert "Hộ tịch" in exc.message_vi and "13:30 hôm nay" in exc.message_vi
    assert "13:30 today" in exc.message_en
    with pytest.raises(Unavailable) as info:
        check_open(OFFICE_HOURS, at(5, 9), "Hộ tịch", "Civil status")
    assert "Thứ Hai" in info.value.message_vi and "30/11/2026" in info.value.message_vi


def test_check_open_passes_inside_window() -> None:
    check_open(OFFICE_HOURS, at(0, 8), "Hộ tịch", "Civil status")


@pytest.mark.parametrize("windows", [
    {"mon": [("08:00", "07:00")]},
    {"mon": [("07:00", "09:00"), ("08:30", "10:00")]},
    {"mon": [("25:00", "26:00")]},
    {"mon": [("07:60", "09:00")]},
    {"funday": [("07:00", "09:00")]},
    {"mon": [("24:30", "24:45")]},
])
def test_validate_windows_rejects(windows: dict) -> None:
    with pytest.raises(ValueError):
        validate_windows(windows)


def test_validate_windows_sorts_and_fills_days() -> None:
    cleaned = validate_windows({"tue": [("13:30", "17:00"), ("07:30", "11:30")]})
    assert cleaned["tue"] == [("07:30", "11:30"), ("13:30", "17:00")]
    assert cleaned["mon"] == []


@pytest.mark.parametrize(("hh", "expected"), [(0, "sang"), (11, "sang"), (12, "chieu"), (17, "chieu"), (18, "toi")])
def test_session_of_day(hh: int, expected: str) -> None:
    assert session_of_day(at(0, hh)) == expected
