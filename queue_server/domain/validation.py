"""Checks on what an admin types, each naming the field it is about. Pure.

Every check adds to one `Problems` list instead of raising at the first mistake, so the settings
page can put every message beside its own field at once. Field names are the request's own paths:
"prefix", "daily_limit", "opening_hours.mon[1]", "services[2]", "groups[0].code".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput
from .model import NumberingRule, NumberingStyle, Role
from .numbering import format_number, validate_rule
from .schedule import WEEKDAY_EN, WEEKDAY_VI, WEEKDAYS, Windows, validate_windows
from .speech import Reading, announcement, ticket_words

CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
AGENCY_CODE = re.compile(r"^[0-9A-Z]+(\.[0-9A-Z]+)*$")   # QCVN 102:2016 (DOMAIN.md)
PREFIX = re.compile(r"^[A-ZĐ]{1,3}$")    # letters the voice can spell
TIME_OF_DAY = re.compile(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")   # 24:00 is the end of the day
PLACEHOLDER = re.compile(r"\{[^{}]*\}")

MAX_COUNTER = 999
LED_ADDRESSES = (1, 247)                 # Modbus RTU slave addresses
AVG_SERVICE_S = (30, 4 * 3600)
MIN_PASSWORD, MAX_PASSWORD = 8, 200
INTERLEAVE = (1, 20)
REPEAT = (1, 5)
HEADER_LINES, HEADER_LINE_CHARS, FOOTER_CHARS = 4, 60, 200
PAPER_WIDTHS = (576, 384)                # 80 mm and 58 mm paper at 203 dpi
VOICE_ENGINES = ("clips", "browser", "chime")
TEMPLATE_CHARS = 200
# The sentence's placeholders; the English names are accepted and stored as the Vietnamese ones.
TEMPLATE_ALIASES = {"{number}": "{so}", "{counter}": "{quay}"}


@dataclass(frozen=True)
class Problem:
    field: str
    message_vi: str
    message_en: str


class Problems:
    """What is wrong with one request, field by field."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, field: str, vi: str, en: str) -> None:
        self.items.append(Problem(field, vi, en))

    def has(self, field: str) -> bool:
        return any(p.field == field or p.field.startswith((field + ".", field + "[")) for p in self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def check(self, code: str = "invalid_settings") -> None:
        """Raises one InvalidInput carrying every problem; the first one is its message."""
        if not self.items:
            return
        first = self.items[0]
        raise InvalidInput(first.message_vi, first.message_en, code=code,
                           details={"field": first.field, "fields": [asdict(p) for p in self.items]})


LONGEST_WORD = 30   # a name shown on a kiosk tile or a board row: no Vietnamese or English word comes near it


def clean_text(problems: Problems, field: str, value: str | None, *, required: bool = False, max_len: int = 200,
               multiline: bool = False, longest_word: int | None = None) -> str:
    """NFC, trimmed, without control characters (a printer or a board would take them for commands)."""
    text = unicodedata.normalize("NFC", value or "").strip()
    if not multiline:
        text = " ".join(text.split())
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch != "\n" for ch in text):
        problems.add(field, "Có ký tự điều khiển không được phép.", "Control characters are not allowed.")
    elif required and not text:
        problems.add(field, "Vui lòng nhập nội dung này.", "Please fill this in.")
    elif len(text) > max_len:
        problems.add(field, f"Tối đa {max_len} ký tự (đang có {len(text)}).",
                     f"At most {max_len} characters (this has {len(text)}).")
    elif longest_word and any(len(word) > longest_word for word in text.split()):
        problems.add(field, f"Mỗi từ tối đa {longest_word} ký tự: tên này có một chuỗi liền quá dài.",
                     f"At most {longest_word} characters a word: this name has an unbroken run that is too long.")
    return text


def clean_name(problems: Problems, field: str, value: str | None, *, required: bool = False) -> str:
    """A name drawn on kiosk tiles and boards: clean text whose words are no longer than LONGEST_WORD, since
    one unbroken run of letters would squeeze every other name to fit it."""
    return clean_text(problems, field, value, required=required, longest_word=LONGEST_WORD)


def check_int(problems: Problems, field: str, value: object, low: int, high: int) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        problems.add(field, f"Cần một số nguyên từ {low} đến {high}.",
                     f"A whole number from {low} to {high} is needed.")
        return None
    return value


def check_code(problems: Problems, field: str, code: str, what_vi: str, what_en: str) -> str:
    if not CODE.match(code or ""):
        problems.add(field, f"Mã {what_vi} gồm 1–32 chữ cái không dấu, chữ số, «_», «-» hoặc «.».",
                     f"A {what_en} code is 1–32 letters without accents, digits, “_”, “-” or “.”.")
    return code


def check_username(problems: Problems, field: str, username: str) -> str:
    if not USERNAME.match(username or ""):
        problems.add(field, "Tên đăng nhập gồm 2–64 chữ cái không dấu, chữ số, «_», «-» hoặc «.».",
                     "A username is 2–64 letters without accents, digits, “_”, “-” or “.”.")
    return username


def check_password(problems: Problems, field: str, password: str) -> str:
    if len(password) < MIN_PASSWORD:
        problems.add(field, f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.",
                     f"A password needs at least {MIN_PASSWORD} characters.")
    elif len(password) > MAX_PASSWORD:
        problems.add(field, f"Mật khẩu dài tối đa {MAX_PASSWORD} ký tự.",
                     f"A password has at most {MAX_PASSWORD} characters.")
    return password


def check_role(problems: Problems, field: str, role: str) -> Role | None:
    try:
        return Role(role)
    except ValueError:
        problems.add(field, "Vai trò không hợp lệ.", "Unknown role.")
        return None


def check_timezone(problems: Problems, field: str, name: str) -> str:
    try:
        if not name or name != name.strip():
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(field, "Múi giờ không hợp lệ (ví dụ: Asia/Ho_Chi_Minh).",
                     "Unknown time zone (e.g. Asia/Ho_Chi_Minh).")
    return name


def check_agency_code(problems: Problems, field: str, code: str | None) -> str | None:
    """Mã định danh cơ quan: digits, capitals and dots, at most 35 characters; None when not set."""
    code = (code or "").strip().upper()
    if not code:
        return None
    if len(code) > 35 or not AGENCY_CODE.match(code):
        problems.add(field, "Mã cơ quan gồm chữ số, chữ in hoa và dấu chấm, tối đa 35 ký tự (ví dụ: 000.00.12.H56).",
                     "An agency code is digits, capitals and dots, at most 35 characters (e.g. 000.00.12.H56).")
    return code


# opening hours ---------------------------------------------------------------------------------

def check_windows(problems: Problems, windows: object, field: str = "opening_hours") -> Windows:
    """Opening windows per weekday: each well-formed, none inverted, none overlapping another.

    Problems name the window as sent ("opening_hours.mon[1]"); the result is sorted per day, with
    every weekday present (a missing day is closed).
    """
    if not isinstance(windows, dict):
        problems.add(field, "Giờ cấp số không đúng dạng.", "Opening hours are malformed.")
        return {}
    for day in windows:
        if day not in WEEKDAYS:
            problems.add(f"{field}.{day}", f"Không có ngày «{day}».", f"There is no weekday “{day}”.")
    cleaned: Windows = {}
    for d, day in enumerate(WEEKDAYS):
        spans = windows.get(day) or []
        if not isinstance(spans, list):
            problems.add(f"{field}.{day}", "Giờ cấp số không đúng dạng.", "Opening hours are malformed.")
            continue
        good: list[tuple[str, str, int]] = []
        for i, span in enumerate(spans):
            where = f"{field}.{day}[{i}]"
            if (not isinstance(span, list | tuple) or len(span) != 2
                    or not all(isinstance(t, str) and TIME_OF_DAY.match(t) for t in span)):
                problems.add(where, "Giờ viết theo dạng HH:MM, từ 00:00 đến 24:00.",
                             "Times are written HH:MM, from 00:00 to 24:00.")
                continue
            start, end = span
            try:
                validate_windows({day: [(start, end)]})
            except ValueError:
                if start == end:
                    problems.add(where, f"{WEEKDAY_VI[d]}: khung giờ {start}–{end} không có phút nào.",
                                 f"{WEEKDAY_EN[d]}: the window {start}–{end} is empty.")
                else:
                    problems.add(where, f"{WEEKDAY_VI[d]}: khung giờ {start}–{end} kết thúc trước khi bắt đầu.",
                                 f"{WEEKDAY_EN[d]}: the window {start}–{end} ends before it starts.")
                continue
            good.append((start, end, i))
        good.sort()   # "HH:MM" strings sort as times do
        for (s1, e1, _), (s2, e2, i) in zip(good, good[1:], strict=False):
            try:
                validate_windows({day: [(s1, e1), (s2, e2)]})
            except ValueError:
                problems.add(f"{field}.{day}[{i}]",
                             f"{WEEKDAY_VI[d]}: khung giờ {s2}–{e2} trùng với khung giờ {s1}–{e1}.",
                             f"{WEEKDAY_EN[d]}: the window {s2}–{e2} overlaps {s1}–{e1}.")
        cleaned[day] = [(s, e) for s, e, _ in good]
    return cleaned


# numbering -------------------------------------------------------------------------------------

def check_numbering(problems: Problems, style: str, prefix: str | None, block: int | None,
                    digits: object) -> NumberingRule | None:
    """A numbering rule the printer, the boards and the voice can all handle."""
    try:
        kind = NumberingStyle(style)
    except ValueError:
        problems.add("numbering", "Kiểu đánh số là «prefix» (A025) hoặc «block» (1025).",
                     "Numbering is “prefix” (A025) or “block” (1025).")
        return None
    if check_int(problems, "digits", digits, 1, 6) is None:
        return None
    prefix = (prefix or "").strip().upper() or None
    if kind is NumberingStyle.PREFIX:
        try:
            if not PREFIX.match(prefix or ""):
                raise ValueError(prefix)
            validate_rule(NumberingRule(kind, prefix, None, 3))
        except ValueError:
            problems.add("prefix", "Tiền tố gồm 1–3 chữ cái in hoa A–Z hoặc Đ (ví dụ: A, ĐK).",
                         "A prefix is 1–3 capital letters, A–Z or Đ (e.g. A, ĐK).")
            return None
        rule = NumberingRule(kind, prefix, None, digits)
        field = "digits"
    else:
        try:
            validate_rule(NumberingRule(kind, None, block, 3))
        except (ValueError, TypeError):
            problems.add("block", "Khối số là một số từ 1 đến 99 (khối 1 cấp 1001, 1002…).",
                         "A block is a number from 1 to 99 (block 1 issues 1001, 1002…).")
            return None
        rule = NumberingRule(kind, None, block, digits)
        field = "block" if digits <= 3 else "digits"
    last = format_number(rule, rule.capacity)
    try:
        ticket_words(last, Reading())
    except InvalidInput:
        problems.add(field, f"Số dài nhất ({last}) quá dài để loa đọc; hãy dùng ít chữ số hơn.",
                     f"The longest number ({last}) is too long for the voice to read; use fewer digits.")
        return None
    return rule


def number_range(rule: NumberingRule) -> tuple[int, int]:
    """Block numbering: the first and last number a day can print."""
    base = (rule.block or 0) * 10 ** rule.digits
    return base + 1, base + rule.capacity


def clashes(a: NumberingRule, b: NumberingRule) -> bool:
    """Whether two services could print the same number, or numbers a citizen would confuse."""
    if a.style is not b.style:
        return False
    if a.style is NumberingStyle.PREFIX:
        return a.prefix == b.prefix
    (a1, a2), (b1, b2) = number_range(a), number_range(b)
    return a1 <= b2 and b1 <= a2


def produces(rule: NumberingRule, number: str) -> bool:
    """Whether `rule` could print `number` (to refuse reusing, today, a number another service printed)."""
    if rule.style is NumberingStyle.PREFIX:
        rest = number[len(rule.prefix or ""):]
        return number.startswith(rule.prefix or "") and rest.isdigit() and len(rest) == rule.digits
    if not number.isdigit():
        return False
    low, high = number_range(rule)
    return low <= int(number) <= high


def check_daily_limit(problems: Problems, limit: object, rule: NumberingRule | None) -> int | None:
    if limit is None:
        return None
    high = rule.capacity if rule else 999_999
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= high:
        problems.add("daily_limit", f"Giới hạn mỗi ngày là số từ 1 đến {high}, hoặc để trống nếu không giới hạn.",
                     f"The daily limit is a number from 1 to {high}, or empty for no limit.")
        return None
    return limit


# lists of references ---------------------------------------------------------------------------

def check_refs(problems: Problems, field: str, values: list, known: set, *, required: bool, what_vi: str,
               what_en: str) -> list:
    """An ordered list of codes or numbers, each known, none twice; empty only when allowed."""
    if required and not values:
        problems.add(field, f"Cần chọn ít nhất một {what_vi}.", f"Choose at least one {what_en}.")
    seen: set = set()
    for i, value in enumerate(values):
        if value not in known:
            problems.add(f"{field}[{i}]", f"Không có {what_vi} «{value}».", f"There is no {what_en} “{value}”.")
        elif value in seen:
            problems.add(f"{field}[{i}]", f"{what_vi.capitalize()} «{value}» được chọn hai lần.",
                         f"The {what_en} “{value}” is listed twice.")
        seen.add(value)
    return list(values)


# office settings kept as JSON ------------------------------------------------------------------

def check_voice(problems: Problems, voice: dict) -> dict:
    """The announcement settings as stored in settings["voice"] (the keys services.voice reads)."""
    template = clean_text(problems, "template", voice.get("template"), required=True, max_len=TEMPLATE_CHARS)
    for alias, name in TEMPLATE_ALIASES.items():
        template = template.replace(alias, name)
    stored = {"template": template, "dialect": voice.get("dialect"), "mode": voice.get("reading"),
              "keep_leading_zeros": bool(voice.get("keep_leading_zeros", False)),
              "four_as_tu": bool(voice.get("four_as_tu", True)),
              "repeat": check_int(problems, "repeat", voice.get("repeat"), *REPEAT),
              "engine": voice.get("engine")}
    if stored["engine"] not in VOICE_ENGINES:
        problems.add("engine", "Cách phát là clips, browser hoặc chime.", "The engine is clips, browser or chime.")
    try:
        reading = Reading(stored["dialect"], stored["mode"], stored["keep_leading_zeros"], stored["four_as_tu"])
    except ValueError:
        problems.add("dialect", "Giọng đọc (north/south) hoặc cách đọc số (whole/digits) không hợp lệ.",
                     "Unknown dialect (north/south) or reading (whole/digits).")
        return stored
    if problems.has("template"):
        return stored
    others = [p for p in PLACEHOLDER.findall(template) if p not in ("{so}", "{quay}")]
    if "{so}" not in template or "{quay}" not in template or others:
        problems.add("template", "Mẫu câu cần có {so} (số thứ tự) và {quay} (số quầy), không có chỗ trống khác.",
                     "The phrase needs {so} (the number) and {quay} (the counter), and no other placeholder.")
        return stored
    announcement("A025", 12, reading, template)
    return stored


def check_ticket_template(problems: Problems, template: dict) -> dict:
    """The ticket template as stored in settings["ticket"]."""
    lines = template.get("header_lines") or []
    if len(lines) > HEADER_LINES:
        problems.add("header_lines", f"Tối đa {HEADER_LINES} dòng tiêu đề.", f"At most {HEADER_LINES} header lines.")
    header = [clean_text(problems, f"header_lines[{i}]", line, max_len=HEADER_LINE_CHARS)
              for i, line in enumerate(lines[:HEADER_LINES])]
    footer = clean_text(problems, "footer", template.get("footer"), required=True, max_len=FOOTER_CHARS,
                        multiline=True)
    qr = template.get("qr", True)
    if not isinstance(qr, bool):
        problems.add("qr", "Chọn có hoặc không in mã QR.", "Choose whether to print the QR code.")
    width = template.get("paper_width", PAPER_WIDTHS[0])
    if width not in PAPER_WIDTHS:
        problems.add("paper_width", "Khổ giấy là 80 mm (576 điểm) hoặc 58 mm (384 điểm).",
                     "Paper is 80 mm (576 dots) or 58 mm (384 dots) wide.")
    return {"header_lines": [line for line in header if line], "footer": footer, "qr": qr, "paper_width": width}
