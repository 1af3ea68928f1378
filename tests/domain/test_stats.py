from datetime import date, datetime, timedelta, timezone

import pytest

from queue_server.domain import stats
from queue_server.domain.errors import InvalidInput


@pytest.mark.parametrize(("p", "n", "rank"), [
    (50, 1, 1), (50, 2, 1), (50, 3, 2), (50, 4, 2), (50, 5, 3),   # median: the lower middle for an even n
    (90, 1, 1), (90, 9, 9), (90, 10, 9), (90, 11, 10), (90, 20, 18), (90, 21, 19),
    (100, 7, 7), (1, 1000, 10),
])
def test_nearest_rank(p: int, n: int, rank: int) -> None:
    assert stats.rank(p, n) == rank


@pytest.mark.parametrize(("values", "p", "expected"), [
    ([], 50, None),
    ([7], 50, 7), ([7], 90, 7),
    ([3, 1, 2], 50, 2),
    ([4, 1, 3, 2], 50, 2),
    ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, 90),
    ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], 90, 100),
])
def test_percentile_of_values(values: list[int], p: int, expected: int | None) -> None:
    assert stats.histogram_percentile(stats.histogram(values), p) == expected


@pytest.mark.parametrize("values", [[0], [5, 5, 5], [1, 9, 3, 3, 7, 0, 12, 12, 4], list(range(37)) * 3])
@pytest.mark.parametrize("p", [1, 10, 50, 90, 99, 100])
def test_histogram_percentile_agrees_with_the_sorted_list(values: list[int], p: int) -> None:
    assert stats.histogram_percentile(stats.histogram(values), p) == sorted(values)[stats.rank(p, len(values)) - 1]


def test_histograms_add_and_come_from_pairs() -> None:
    assert stats.histogram([2, 0, 2, 5]) == [1, 0, 2, 0, 0, 1]
    assert stats.from_pairs([(2, 3), (0, 1), (2, 1)]) == [1, 0, 4]
    assert stats.add([[1, 2], [0, 0, 3], []]) == [1, 2, 3]
    assert stats.add([]) == []
    assert stats.histogram_percentile([0, 0, 0], 50) is None


@pytest.mark.parametrize(("total", "n", "mean"), [
    (0, 0, None), (50, 1, 5.0), (101, 2, 5.1),    # 5.05 min → 5.1 (half up)
    (100, 3, 3.3), (200, 3, 6.7), (3, 2, 0.2),
])
def test_mean_minutes_rounds_half_up(total: int, n: int, mean: float | None) -> None:
    assert stats.mean_minutes(total, n) == mean


@pytest.mark.parametrize(("part", "whole", "pct"), [
    (0, 0, None), (0, 4, 0.0), (1, 3, 33.3), (2, 3, 66.7), (1, 8, 12.5), (3, 4, 75.0), (4, 4, 100.0),
])
def test_percent(part: int, whole: int, pct: float | None) -> None:
    assert stats.percent(part, whole) == pct


def test_time_stats_of_a_histogram() -> None:
    waits = stats.histogram([40, 50, 60, 70, 300])           # tenths: 4, 5, 6, 7 and 30 minutes
    assert stats.time_stats(waits) == {"count": 5, "mean_min": 10.4, "median_min": 6.0, "p90_min": 30.0}
    assert stats.time_stats([]) == {"count": 0, "mean_min": None, "median_min": None, "p90_min": None}


def test_wait_bands_are_half_open_and_the_last_is_open() -> None:
    minutes = [0, 4.9, 5.0, 9.9, 10, 14.9, 15, 19.9, 20, 29.9, 30, 44.9, 45, 59.9, 60, 240]
    bands = stats.bands(stats.histogram(round(m * 10) for m in minutes))
    assert [(b["from_min"], b["to_min"], b["count"]) for b in bands] == [
        (0, 5, 2), (5, 10, 2), (10, 15, 2), (15, 20, 2), (20, 30, 2), (30, 45, 2), (45, 60, 2), (60, None, 2)]
    assert {b["pct"] for b in bands} == {12.5}
    assert [b["count"] for b in stats.bands([0, 1])] == [1, 0, 0, 0, 0, 0, 0, 0]
    assert [b["pct"] for b in stats.bands([])] == [None] * 8


def test_local_hours_use_the_office_clock() -> None:
    utc = timezone.utc
    hours = stats.local_hours([(datetime(2026, 11, 23, 0, 59, tzinfo=utc), 2),      # 07:59 in Hà Nội
                               (datetime(2026, 11, 23, 1, 0, tzinfo=utc), 3),       # 08:00
                               (datetime(2026, 11, 22, 17, 30, tzinfo=utc), 1)],    # 00:30 the next day
                              "Asia/Ho_Chi_Minh")
    assert (hours[7], hours[8], hours[0], sum(hours)) == (2, 3, 1, 6)
    with pytest.raises(ValueError):
        stats.local_hours([(datetime(2026, 11, 23, 1, 0), 1)], "Asia/Ho_Chi_Minh")


def test_day_bounds_are_local_midnights() -> None:
    start, end = stats.day_bounds(date(2026, 11, 1), date(2026, 11, 30), "Asia/Ho_Chi_Minh")
    assert start.astimezone(timezone.utc) == datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc)
    assert end - start == timedelta(days=30)


TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, (TODAY, TODAY)),
    ("2026-11-01", "2026-11-30", (date(2026, 11, 1), date(2026, 11, 30))),
    ("2026-11-05", None, (date(2026, 11, 5), date(2026, 11, 5))),
    (None, "2026-11-05", (date(2026, 11, 5), date(2026, 11, 5))),
    ("2025-11-24", "2026-11-24", (date(2025, 11, 24), date(2026, 11, 24))),   # 366 days, the most
])
def test_report_range(start: str | None, end: str | None, expected: tuple[date, date]) -> None:
    assert stats.report_range(start, end, TODAY) == expected


@pytest.mark.parametrize(("start", "end", "code"), [
    ("2026-11-30", "2026-11-01", "range_reversed"),
    ("2025-11-23", "2026-11-24", "range_too_long"),
    ("2026-02-30", None, "bad_date"),
    ("30/11/2026", None, "bad_date"),
    (None, "2026-1-5", "bad_date"),
    ("20261101", None, "bad_date"),
    ("2026-11-01T00:00", None, "bad_date"),
    ("yesterday", None, "bad_date"),
])
def test_report_range_refusals(start: str | None, end: str | None, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        stats.report_range(start, end, TODAY)
    assert caught.value.code == code
    assert caught.value.message_vi and caught.value.message_en


def test_merge_counts() -> None:
    assert stats.merge_counts({"a": 1}, {"a": 2, "b": 3}) == {"a": 3, "b": 3}
