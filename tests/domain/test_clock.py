from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.clock import ManualClock, business_date, from_utc_naive, to_utc_naive


@pytest.mark.parametrize(("utc", "tz", "expected"), [
    (datetime(2026, 11, 22, 16, 59, tzinfo=timezone.utc), "Asia/Ho_Chi_Minh", date(2026, 11, 22)),
    (datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc), "Asia/Ho_Chi_Minh", date(2026, 11, 23)),  # local midnight
    (datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc), "UTC", date(2026, 11, 22)),
    (datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), "Asia/Bangkok", date(2027, 1, 1)),
])
def test_business_date_follows_office_time_zone(utc: datetime, tz: str, expected: date) -> None:
    assert business_date(utc, tz) == expected


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    first = clock.now()
    assert clock.now() == first
    clock.advance(hours=15)
    assert business_date(clock.now(), "Asia/Ho_Chi_Minh") == date(2026, 11, 24)


def test_manual_clock_needs_aware_start() -> None:
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))


def test_storage_round_trip() -> None:
    now = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    assert from_utc_naive(to_utc_naive(now)) == now
