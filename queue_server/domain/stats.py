"""Report arithmetic: measured times, nearest-rank percentiles, histograms, percentages. Pure.

Every waiting or service time is measured in tenths of a minute (6 s), rounded half up: the
precision the report shows. A set of times is kept as a histogram, `counts[k]` = how many times
measured k tenths, so a report over a million tickets needs only histograms, never the tickets;
mean, median and p90 are exact over the measured times.

Percentiles are nearest-rank: of n times in ascending order, the p-th percentile is the one at rank
⌈p·n/100⌉ (1-based). The median is the 50th percentile by that rule (for an even n, the lower of
the two middle times); p90 is the time that 90 % of the times do not exceed.

Rounding happens here and only here: minutes to one decimal, half up, in exact integer arithmetic;
percentages to one decimal the way `ratings.satisfaction_rate` rounds "% hài lòng".
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import zip_longest
from zoneinfo import ZoneInfo

from .errors import InvalidInput

TENTH_MS = 6000                  # one tenth of a minute: times are measured in these, half up
MAX_RANGE_DAYS = 366
# Waiting-time bands of the distribution chart, in minutes: [from, to), the last one open.
WAIT_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 5), (5, 10), (10, 15), (15, 20), (20, 30), (30, 45), (45, 60), (60, None))


def rank(p: int, n: int) -> int:
    """Nearest rank (1-based) of the p-th percentile among n values: ⌈p·n/100⌉, at least 1."""
    if n < 1 or not 0 < p <= 100:
        raise ValueError("rank needs n ≥ 1 and 0 < p ≤ 100")
    return max(1, -(-p * n // 100))


def histogram(values: Iterable[int]) -> list[int]:
    """Values (non-negative integers) → counts indexed by value."""
    counts: list[int] = []
    for value in values:
        if value >= len(counts):
            counts.extend([0] * (value + 1 - len(counts)))
        counts[value] += 1
    return counts


def add(histograms: Iterable[Sequence[int]]) -> list[int]:
    """The histogram of all the values of several histograms."""
    return [sum(column) for column in zip_longest(*histograms, fillvalue=0)]


def from_pairs(pairs: Iterable[tuple[int, int]]) -> list[int]:
    """(value, count) pairs, as a GROUP BY returns them → a histogram."""
    counts: list[int] = []
    for value, count in pairs:
        if value >= len(counts):
            counts.extend([0] * (value + 1 - len(counts)))
        counts[value] += count
    return counts


def histogram_percentile(counts: Sequence[int], p: int) -> int | None:
    """The p-th percentile (nearest rank) of the values a histogram holds; None when it is empty."""
    n = sum(counts)
    if n == 0:
        return None
    wanted = rank(p, n)
    seen = 0
    for value, count in enumerate(counts):
        seen += count
        if seen >= wanted:
            return value
    raise AssertionError("unreachable: the ranks add up to n")


def minutes(tenths_of_minute: int | None) -> float | None:
    """Tenths of a minute → minutes, as shown and exported."""
    return None if tenths_of_minute is None else tenths_of_minute / 10


def mean_minutes(total_tenths: int, n: int) -> float | None:
    """The mean of n times that add up to `total_tenths`, in minutes to one decimal, half up."""
    if n == 0:
        return None
    return (2 * total_tenths + n) // (2 * n) / 10


def percent(part: int, whole: int) -> float | None:
    """part/whole in percent, one decimal; None when whole is 0. The rule of `ratings.satisfaction_rate`
    ("% hài lòng"), so every percentage of a report rounds alike."""
    if whole == 0:
        return None
    return round(100 * part / whole, 1)


def time_stats(counts: Sequence[int]) -> dict:
    """Count, mean, median and p90 (minutes, one decimal) of the times a histogram holds."""
    n = sum(counts)
    total = sum(value * count for value, count in enumerate(counts) if count)
    return {"count": n, "mean_min": mean_minutes(total, n),
            "median_min": minutes(histogram_percentile(counts, 50)),
            "p90_min": minutes(histogram_percentile(counts, 90))}


def bands(counts: Sequence[int], edges: Sequence[tuple[int, int | None]] = WAIT_BANDS) -> list[dict]:
    """How many times fall in each band [from, to) minutes (on the measured times), and their share."""
    n = sum(counts)
    out = []
    for low, high in edges:
        stop = len(counts) if high is None else min(len(counts), high * 10)
        inside = sum(counts[low * 10:stop]) if low * 10 < stop else 0
        out.append({"from_min": low, "to_min": high, "count": inside, "pct": percent(inside, n)})
    return out


def local_hours(counts: Iterable[tuple[datetime, int]], tz_name: str) -> list[int]:
    """(instant, count) pairs → counts per hour of the day (0–23) on the office's clock."""
    zone = ZoneInfo(tz_name)
    hours = [0] * 24
    for instant, count in counts:
        if instant.tzinfo is None:
            raise ValueError("local_hours needs timezone-aware instants")
        hours[instant.astimezone(zone).hour] += count
    return hours


def day_bounds(first: date, last: date, tz_name: str) -> tuple[datetime, datetime]:
    """The instants (aware, UTC offset of the office) where business day `first` begins and `last` ends."""
    zone = ZoneInfo(tz_name)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    return start, end


def _parse_day(text: str, which: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        label_vi = "Từ ngày" if which == "from" else "Đến ngày"
        label_en = "From" if which == "from" else "To"
        raise InvalidInput(f"{label_vi} phải là một ngày có thật, dạng NNNN-TT-NN (ví dụ 2026-11-01).",
                           f"{label_en} must be a real date written YYYY-MM-DD (e.g. 2026-11-01).",
                           code="bad_date", details={"field": which}) from None


def report_range(start_text: str | None, end_text: str | None, today: date,
                 max_days: int = MAX_RANGE_DAYS) -> tuple[date, date]:
    """The business dates a report covers, both inclusive. A missing end takes the other's date;
    both missing: today. Refuses reversed ranges and ranges longer than `max_days`."""
    start = _parse_day(start_text, "from") if start_text else None
    end = _parse_day(end_text, "to") if end_text else None
    start = start or end or today
    end = end or start
    if start > end:
        raise InvalidInput("«Từ ngày» phải trước hoặc bằng «Đến ngày».", "“From” must not be after “To”.",
                           code="range_reversed")
    if (end - start).days + 1 > max_days:
        raise InvalidInput(f"Mỗi báo cáo tối đa {max_days} ngày.", f"A report covers at most {max_days} days.",
                           code="range_too_long", details={"max_days": max_days})
    return start, end


def merge_counts(target: dict, source: Mapping) -> dict:
    """Adds a mapping of counts into another, key by key."""
    for key, value in source.items():
        target[key] = target.get(key, 0) + value
    return target
