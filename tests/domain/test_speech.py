import pytest

from queue_server.domain.errors import InvalidInput
from queue_server.domain.speech import (
    DIGIT_BY_DIGIT,
    SOUTH,
    Reading,
    announcement,
    number_words,
    ticket_words,
)

NORTH_R = Reading()
SOUTH_R = Reading(dialect=SOUTH)


@pytest.mark.parametrize(("n", "north", "south"), [
    (0, "không", "không"),
    (1, "một", "một"),
    (4, "bốn", "bốn"),
    (5, "năm", "năm"),
    (10, "mười", "mười"),
    (11, "mười một", "mười một"),
    (14, "mười bốn", "mười bốn"),
    (15, "mười lăm", "mười lăm"),
    (20, "hai mươi", "hai mươi"),
    (21, "hai mươi mốt", "hai mươi mốt"),
    (24, "hai mươi tư", "hai mươi tư"),
    (25, "hai mươi lăm", "hai mươi lăm"),
    (100, "một trăm", "một trăm"),
    (101, "một trăm linh một", "một trăm lẻ một"),
    (105, "một trăm linh năm", "một trăm lẻ năm"),
    (110, "một trăm mười", "một trăm mười"),
    (115, "một trăm mười lăm", "một trăm mười lăm"),
    (1000, "một nghìn", "một ngàn"),
    (1005, "một nghìn không trăm linh năm", "một ngàn không trăm lẻ năm"),
    (1010, "một nghìn không trăm mười", "một ngàn không trăm mười"),
    (1015, "một nghìn không trăm mười lăm", "một ngàn không trăm mười lăm"),
    (1100, "một nghìn một trăm", "một ngàn một trăm"),
    (2024, "hai nghìn không trăm hai mươi tư", "hai ngàn không trăm hai mươi tư"),
    (9999, "chín nghìn chín trăm chín mươi chín", "chín ngàn chín trăm chín mươi chín"),
    (31, "ba mươi mốt", "ba mươi mốt"),
    (55, "năm mươi lăm", "năm mươi lăm"),
    (700, "bảy trăm", "bảy trăm"),
    (2001, "hai nghìn không trăm linh một", "hai ngàn không trăm lẻ một"),
])
def test_number_words(n: int, north: str, south: str) -> None:
    assert number_words(n, NORTH_R) == north
    assert number_words(n, SOUTH_R) == south


def test_four_as_bon_setting() -> None:
    assert number_words(24, Reading(four_as_tu=False)) == "hai mươi bốn"
    assert number_words(14, Reading(four_as_tu=True)) == "mười bốn"


@pytest.mark.parametrize("n", [-1, 10000, 3.5, True, "12"])
def test_numbers_out_of_range(n: object) -> None:
    with pytest.raises(ValueError):
        number_words(n)  # type: ignore[arg-type]


@pytest.mark.parametrize(("number", "reading", "spoken"), [
    ("A025", NORTH_R, "a, hai mươi lăm"),
    ("A025", Reading(keep_leading_zeros=True), "a, không hai mươi lăm"),
    ("A005", Reading(mode=DIGIT_BY_DIGIT), "a, không, không, năm"),
    ("1005", Reading(mode=DIGIT_BY_DIGIT), "một, không, không, năm"),
    ("1025", NORTH_R, "một nghìn không trăm hai mươi lăm"),
    ("1025", SOUTH_R, "một ngàn không trăm hai mươi lăm"),
    ("B101", SOUTH_R, "bê, một trăm lẻ một"),
    ("HT007", NORTH_R, "hát, tê, bảy"),
    ("a021", NORTH_R, "a, hai mươi mốt"),
])
def test_ticket_words(number: str, reading: Reading, spoken: str) -> None:
    assert ticket_words(number, reading) == spoken


@pytest.mark.parametrize("number", ["ABC", "A12345", "", "A-12", "ABCD1", "12 3", None])
def test_unreadable_numbers(number: object) -> None:
    with pytest.raises(InvalidInput) as info:
        ticket_words(number)  # type: ignore[arg-type]
    assert info.value.code == "unreadable_number"


def test_announcement() -> None:
    assert announcement("A025", 3) == "Xin mời công dân có số thứ tự a, hai mươi lăm đến quầy số ba"
    assert announcement("1015", 12, SOUTH_R, "Xin mời khách hàng số {so} đến quầy {quay}") == \
        "Xin mời khách hàng số một ngàn không trăm mười lăm đến quầy mười hai"
    with pytest.raises(InvalidInput):
        announcement("A025", 3, template="Xin mời {so}")


def test_reading_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        Reading(dialect="central")
    with pytest.raises(ValueError):
        Reading(mode="letters")
