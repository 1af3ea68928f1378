"""Ticket numbers: how a day's sequence becomes the printed string."""
from __future__ import annotations

from .errors import Unavailable
from .model import NumberingRule, NumberingStyle


def format_number(rule: NumberingRule, seq: int) -> str:
    """`A` + 25 with 3 digits → `A025`; block 1 + 25 with 3 digits → `1025`."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    if seq > rule.capacity:
        raise ValueError(f"sequence {seq} does not fit in {rule.digits} digits")
    if rule.style is NumberingStyle.PREFIX:
        return f"{rule.prefix or ''}{seq:0{rule.digits}d}"
    return str((rule.block or 0) * 10 ** rule.digits + seq)


def effective_limit(rule: NumberingRule, daily_limit: int | None) -> int:
    """The day's cap: the service's own limit, never more than the format can print."""
    if daily_limit is None:
        return rule.capacity
    return min(daily_limit, rule.capacity)


def check_within_limit(rule: NumberingRule, daily_limit: int | None, seq: int) -> None:
    if seq > effective_limit(rule, daily_limit):
        raise Unavailable(
            "Đã hết lượt cấp số trong ngày cho dịch vụ này. Vui lòng quay lại vào ngày làm việc tiếp theo.",
            "All numbers for this service have been issued today. Please come back on the next working day.",
            code="daily_limit_reached",
        )


def validate_rule(rule: NumberingRule) -> None:
    if not 1 <= rule.digits <= 6:
        raise ValueError("digits must be between 1 and 6")
    if rule.style is NumberingStyle.PREFIX:
        if not rule.prefix or not rule.prefix.isalpha() or not rule.prefix.isupper() or len(rule.prefix) > 3:
            raise ValueError("a prefix is one to three capital letters")
    elif rule.block is None or not 1 <= rule.block <= 99:
        raise ValueError("a block is a number from 1 to 99")
