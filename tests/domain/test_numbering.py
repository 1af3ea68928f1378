import pytest

from queue_server.domain.errors import Unavailable
from queue_server.domain.model import NumberingRule, NumberingStyle
from queue_server.domain.numbering import check_within_limit, effective_limit, format_number, validate_rule

PREFIX_A = NumberingRule(NumberingStyle.PREFIX, prefix="A", digits=3)
BLOCK_1 = NumberingRule(NumberingStyle.BLOCK, block=1, digits=3)


@pytest.mark.parametrize(("rule", "seq", "expected"), [
    (PREFIX_A, 1, "A001"),
    (PREFIX_A, 25, "A025"),
    (PREFIX_A, 999, "A999"),
    (NumberingRule(NumberingStyle.PREFIX, prefix="HT", digits=4), 7, "HT0007"),
    (NumberingRule(NumberingStyle.PREFIX, prefix="B", digits=2), 9, "B09"),
    (BLOCK_1, 1, "1001"),
    (BLOCK_1, 25, "1025"),
    (BLOCK_1, 999, "1999"),
    (NumberingRule(NumberingStyle.BLOCK, block=7, digits=3), 42, "7042"),
    (NumberingRule(NumberingStyle.BLOCK, block=12, digits=3), 5, "12005"),
    (NumberingRule(NumberingStyle.BLOCK, block=2, digits=4), 10, "20010"),
])
def test_format_number(rule: NumberingRule, seq: int, expected: str) -> None:
    assert format_number(rule, seq) == expected


@pytest.mark.parametrize("seq", [0, -1, 1000])
def test_format_number_rejects_out_of_range(seq: int) -> None:
    with pytest.raises(ValueError):
        format_number(PREFIX_A, seq)


@pytest.mark.parametrize(("daily_limit", "expected"), [(None, 999), (50, 50), (5000, 999), (0, 0)])
def test_effective_limit(daily_limit: int | None, expected: int) -> None:
    assert effective_limit(PREFIX_A, daily_limit) == expected


@pytest.mark.parametrize(("daily_limit", "seq", "refused"), [
    (None, 999, False), (None, 1000, True), (3, 3, False), (3, 4, True), (0, 1, True),
])
def test_check_within_limit(daily_limit: int | None, seq: int, refused: bool) -> None:
    if refused:
        with pytest.raises(Unavailable) as info:
            check_within_limit(PREFIX_A, daily_limit, seq)
        assert info.value.code == "daily_limit_reached"
        assert "Đã hết lượt cấp số trong ngày" in info.value.message_vi
        assert "All numbers" in info.value.message_en
    else:
        check_within_limit(PREFIX_A, daily_limit, seq)


@pytest.mark.parametrize("rule", [
    NumberingRule(NumberingStyle.PREFIX, prefix=None),
    NumberingRule(NumberingStyle.PREFIX, prefix="a"),
    NumberingRule(NumberingStyle.PREFIX, prefix="A1"),
    NumberingRule(NumberingStyle.PREFIX, prefix="ABCD"),
    NumberingRule(NumberingStyle.PREFIX, prefix="A", digits=0),
    NumberingRule(NumberingStyle.PREFIX, prefix="A", digits=7),
    NumberingRule(NumberingStyle.BLOCK, block=None),
    NumberingRule(NumberingStyle.BLOCK, block=0),
    NumberingRule(NumberingStyle.BLOCK, block=100),
])
def test_validate_rule_rejects(rule: NumberingRule) -> None:
    with pytest.raises(ValueError):
        validate_rule(rule)


def test_validate_rule_accepts_good_rules() -> None:
    validate_rule(PREFIX_A)
    validate_rule(BLOCK_1)
