"""Vietnamese for announcements: numbers read aloud, letters spelt, the call phrase. Pure.

Two dialects differ in a few words: north "nghìn", "linh"; south "ngàn", "lẻ". Both say
"mốt" for a final 1 after twenty, "lăm" for a final 5 after ten, and "tư" (or "bốn", a
setting) for a final 4 after twenty.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidInput

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# How letters are said when a number is spelt out ("A" → "a", "B" → "bê", …).
LETTERS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê", "Q": "quy",
    "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích xì", "Y": "i dài",
    "Z": "dét",
}
NORTH, SOUTH = "north", "south"
WHOLE, DIGIT_BY_DIGIT = "whole", "digits"


@dataclass(frozen=True)
class Reading:
    dialect: str = NORTH
    mode: str = WHOLE              # the number as a whole ("hai mươi lăm") or digit by digit
    keep_leading_zeros: bool = False   # "A025" → "a, không hai mươi lăm" when True
    four_as_tu: bool = True        # "hai mươi tư" (True) or "hai mươi bốn"

    def __post_init__(self) -> None:
        if self.dialect not in (NORTH, SOUTH):
            raise ValueError(f"dialect must be {NORTH!r} or {SOUTH!r}")
        if self.mode not in (WHOLE, DIGIT_BY_DIGIT):
            raise ValueError(f"mode must be {WHOLE!r} or {DIGIT_BY_DIGIT!r}")


def _below_hundred(n: int, reading: Reading, after_hundreds: bool) -> list[str]:
    tens, units = divmod(n, 10)
    if tens == 0:
        if units == 0:
            return []
        return ["lẻ" if reading.dialect == SOUTH else "linh", DIGITS[units]] if after_hundreds else [DIGITS[units]]
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 0:
        return words
    if units == 5:
        return [*words, "lăm"]
    if units == 1 and tens >= 2:
        return [*words, "mốt"]
    if units == 4 and tens >= 2 and reading.four_as_tu:
        return [*words, "tư"]
    return [*words, DIGITS[units]]


def number_words(n: int, reading: Reading = Reading()) -> str:
    """0–9999 in words: 105 → "một trăm linh năm", 1010 → "một nghìn không trăm mười"."""
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 9999:
        raise ValueError("numbers from 0 to 9999 can be read")
    if n == 0:
        return "không"
    thousands, rest = divmod(n, 1000)
    hundreds, below = divmod(rest, 100)
    words: list[str] = []
    if thousands:
        words += [DIGITS[thousands], "ngàn" if reading.dialect == SOUTH else "nghìn"]
    if hundreds or (thousands and below):
        words += [DIGITS[hundreds], "trăm"]
    words += _below_hundred(below, reading, after_hundreds=bool(hundreds or thousands))
    return " ".join(words)


TICKET_RE = re.compile(r"^(?P<letters>[A-ZĐ]{0,3})(?P<digits>[0-9]{1,4})$")


def ticket_words(number: str, reading: Reading = Reading()) -> str:
    """How a ticket number is said: letters spelt, then the number ("A025" → "a, hai mươi lăm")."""
    match = TICKET_RE.match(number.strip().upper()) if isinstance(number, str) else None
    if not match:
        raise InvalidInput(f"Không đọc được số «{str(number)[:16]}»: cần 0–3 chữ cái và 1–4 chữ số.",
                           f"Cannot read “{str(number)[:16]}”: expected 0–3 letters and 1–4 digits.",
                           code="unreadable_number")
    letters, digits = match["letters"], match["digits"]
    parts = [LETTERS[ch] for ch in letters]
    if reading.mode == DIGIT_BY_DIGIT:
        spoken = ", ".join(DIGITS[int(d)] for d in digits)
    else:
        zeros = len(digits) - len(digits.lstrip("0")) if reading.keep_leading_zeros and int(digits) else 0
        spoken = " ".join(["không"] * zeros + [number_words(int(digits), reading)])
    return ", ".join([*parts, spoken]) if parts else spoken


DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {so} đến quầy số {quay}"


def announcement(number: str, counter: int, reading: Reading = Reading(), template: str = DEFAULT_TEMPLATE) -> str:
    """The sentence the hall hears, e.g. "Xin mời công dân có số thứ tự a, hai mươi lăm đến quầy số ba"."""
    if "{so}" not in template or "{quay}" not in template:
        raise InvalidInput("Mẫu câu gọi số cần có {so} và {quay}.", "The phrase template needs {so} and {quay}.",
                           code="bad_template")
    return template.replace("{so}", ticket_words(number, reading)).replace(
        "{quay}", number_words(counter, Reading(reading.dialect, WHOLE, False, reading.four_as_tu)))
