from datetime import date, datetime, timedelta

import pytest

from queue_server.domain.dossiers import (
    EARLY,
    LATE,
    ON_TIME,
    CodeRejected,
    Step,
    citizen_status,
    deadline_bucket,
    is_overdue,
    mask_name,
    parse_code,
)

CODE = "000.00.12.H56-250915-0007"


@pytest.mark.parametrize("text", [
    CODE,
    "000.00.12.h56-250915-0007",
    "  000.00.12.H56-250915-0007 \r\n",
    "000.00.12.H56 - 250915 - 0007",
    f"https://dichvucong.example.gov.vn/tra-cuu/{CODE}",
    f"https://dichvucong.example.gov.vn/tra-cuu/{CODE}/",
    f"https://dichvucong.example.gov.vn/tra-cuu?ma={CODE}",
    f"https://dichvucong.example.gov.vn/tra-cuu?lang=vi&maHoSo={CODE}",
    f"https://dichvucong.example.gov.vn/tra-cuu?maHoSo={CODE}&lang=vi",
    "https://example.vn/t?ma=000.00.12.H56%2D250915%2D0007",
    f"/api/v1/dossiers/{CODE}",
    f"Mã hồ sơ: {CODE}",
    f"UBND phường Hòa Bình\nMã hồ sơ: {CODE}\nHọ tên: Nguyễn Văn An",
    f"UBND PHƯỜNG\nMÃ HỒ SƠ: {CODE.lower()}\nNgày hẹn trả: 20/09/2025",
    f"Ma ho so: {CODE}",
    f"M h s: {CODE}\nH tn: Nguyn Vn An",          # a keyboard-wedge scanner drops Vietnamese letters
    f"UBND\n{CODE}\n20/09/2025",
])
def test_accepted_forms(text: str) -> None:
    assert str(parse_code(text)) == CODE


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    (None, "empty"),
    (12345, "empty"),
    ("x" * 2001, "too_long"),
    ("hello", "malformed_code"),
    ("000.00.12.H56-250915", "malformed_code"),
    ("000.00.12.H56-250915-007", "malformed_code"),
    ("000.00.12.H56-2509150-0007", "malformed_code"),
    ("000..12.H56-250915-0007", "malformed_code"),
    (".000.12.H56-250915-0007", "malformed_code"),
    ("000.00.12.H56_250915_0007", "malformed_code"),
    ("000.00.12.H56-250230-0007", "bad_date"),     # 30 February
    ("000.00.12.H56-251301-0007", "bad_date"),
    ("000.00.12.H56-250915-0000", "bad_sequence"),
    ("A" * 36 + "-250915-0007", "agency_too_long"),
    ("'; DROP TABLE dossiers;--", "malformed_code"),
    ("<script>alert(1)</script>", "malformed_code"),
    ("https://example.vn/tra-cuu?ma=abc", "no_code_in_url"),
    ("https://example.vn/", "no_code_in_url"),
    ("Họ tên: Nguyễn Văn An\nNgày hẹn: 20/09/2025", "no_code_label"),
    ("Mã hồ sơ: 123", "malformed_code"),
    (f"{CODE}\n000.00.12.H56-250915-0008", "no_code_label"),   # two codes: which one?
    ("X000.00.12.H56-250915-00071", "malformed_code"),
])
def test_rejected_forms(text: object, reason: str) -> None:
    with pytest.raises(CodeRejected) as info:
        parse_code(text)
    assert info.value.code == reason
    assert info.value.message_vi and info.value.message_en


def test_agency_of_35_characters_is_fine() -> None:
    agency = "H55." + "A" * 31
    assert parse_code(f"{agency}-251231-9999").agency == agency


def test_parsed_parts() -> None:
    code = parse_code(CODE)
    assert (code.agency, code.received, code.sequence) == ("000.00.12.H56", date(2025, 9, 15), 7)


T0 = datetime(2025, 9, 15, 8, 0)
APPOINTMENT = datetime(2025, 9, 22, 17, 0)


def steps(*pairs: tuple[float, int]) -> list[Step]:
    """(days after T0, status)."""
    return [Step(T0 + timedelta(days=d), s) for d, s in pairs]


@pytest.mark.parametrize(("history", "now_days", "expected"), [
    (steps((0, 2), (1, 4), (3, 9)), 10, EARLY),                          # ready days before
    (steps((0, 2), (1, 4), (7.1, 9)), 10, ON_TIME),                      # ready on the day, before 17:00
    (steps((0, 2), (1, 4), (7.5, 9)), 10, LATE),                         # ready the day after
    (steps((0, 2), (1, 4), (7.5, 10)), 10, LATE),                        # handed over late, never "ready"
    (steps((0, 2), (1, 4), (3, 9), (9, 10)), 10, EARLY),                 # 9 counts, not the later 10
    (steps((0, 2), (1, 4)), 5, None),                                    # in progress, still in time
    (steps((0, 2), (1, 4)), 8, LATE),                                    # in progress, overdue
    (steps((0, 2), (1, 5), (4, 4), (10, 9)), 12, ON_TIME),               # 3 supplement days excluded
    (steps((0, 2), (1, 5), (4, 4), (11, 9)), 12, LATE),                  # even with them, too late
    (steps((0, 2), (1, 5), (2, 4), (3, 5), (4, 4), (5, 9)), 6, LATE),   # two supplement requests = late
    (steps((0, 2), (1, 3)), 10, EARLY),                                  # refused early: ended in time
    (steps((0, 2), (1, 4), (9, 8)), 10, LATE),                           # stopped after the deadline
])
def test_deadline_buckets(history: list[Step], now_days: float, expected: str | None) -> None:
    assert deadline_bucket(APPOINTMENT, history, T0 + timedelta(days=now_days)) == expected


def test_overdue_badge() -> None:
    assert is_overdue(APPOINTMENT, 4, steps((0, 2), (1, 4)), T0 + timedelta(days=8)) is True
    assert is_overdue(APPOINTMENT, 4, steps((0, 2), (1, 4)), T0 + timedelta(days=5)) is False
    assert is_overdue(APPOINTMENT, 9, steps((0, 2), (8, 9)), T0 + timedelta(days=9)) is False


@pytest.mark.parametrize(("name", "masked"), [
    ("Nguyễn Văn An", "Ng*** V** A"),
    ("Trần Thị Minh Khai", "Tr*** T** M** K"),
    ("Lê Bình", "L*** B"),
    ("Hồ", "H***"),
    ("  Đặng   Quốc  Việt ", "Đặ*** Q** V"),
    ("", ""),
])
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_citizen_wording() -> None:
    assert citizen_status(9, "vi", 5) == "Đã có kết quả — mời nhận tại quầy số 5"
    assert citizen_status(9, "en", 5) == "The result is ready — please collect it at counter 5"
    assert citizen_status(9, "vi") == "Đã có kết quả — mời nhận kết quả"
    assert citizen_status(5, "vi") == "Chờ bổ sung hồ sơ"
    assert citizen_status(2, "vi") == citizen_status(4, "vi") == "Đang giải quyết"
    assert citizen_status(5, "en") == "Waiting for your additional documents"
