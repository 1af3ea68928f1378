"""Ratings of a visit: the office's scale, the question asked, and how long a visit stays open to a rating.

One rating per visit (ticket), about the officer's attitude (chỉ số 7 of the official criteria). The
scale is the office's `settings["rating"]["levels"]`, best first; without one, the three levels the
law's model uses. Each level counts as satisfied or not, so every scale reports "% hài lòng".

    settings["rating"] = {
        "levels": [{"code", "vi", "en", "satisfied", "score"?, "asks_reason"?, "tone"?}, …],   # 2–5, best first
        "question": {"vi", "en"},              # what the tablet and the tracking page ask
        "window_minutes": 30,                  # a counter's tablet or keypad: minutes after the finish
        "web_window_hours": 24,                # the tracking page on the citizen's phone
    }
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from .errors import InvalidInput

TABLET, KEYPAD, WEB = "tablet", "keypad", "web"
CHANNELS = (TABLET, KEYPAD, WEB)

MIN_LEVELS, MAX_LEVELS = 2, 5
MAX_NAME = 60
MAX_QUESTION = 300
MAX_REASON = 300
LEVEL_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
TONES = ("great", "good", "neutral", "bad")    # how a level looks: green, blue, amber, red

DEFAULT_LEVELS: tuple[dict, ...] = (
    {"code": "very_satisfied", "vi": "Rất hài lòng", "en": "Very satisfied", "score": 3, "satisfied": True},
    {"code": "satisfied", "vi": "Hài lòng", "en": "Satisfied", "score": 2, "satisfied": True},
    {"code": "unsatisfied", "vi": "Không hài lòng", "en": "Not satisfied", "score": 1, "satisfied": False,
     "asks_reason": True},
)

QUESTION = {"vi": "Ông/Bà đánh giá thế nào về thái độ phục vụ của công chức?",
            "en": "How would you rate the officer's attitude?"}

# Offered on "Không hài lòng" before the free text; the citizen may also skip.
REASONS: tuple[dict, ...] = (
    {"vi": "Thái độ chưa lịch sự, thiếu tôn trọng", "en": "Impolite or disrespectful"},
    {"vi": "Hướng dẫn chưa rõ ràng, khó hiểu", "en": "Unclear guidance"},
    {"vi": "Giải quyết chậm, phải chờ lâu", "en": "Slow service, long wait"},
    {"vi": "Yêu cầu giấy tờ không cần thiết", "en": "Asked for unnecessary documents"},
)

TABLET_WINDOW = timedelta(minutes=30)
WEB_WINDOW = timedelta(hours=24)
WINDOW_LIMITS_MIN = (1, 24 * 60)          # tablet window: 1 minute to a day
WEB_WINDOW_LIMITS_H = (1, 7 * 24)         # tracking page: 1 hour to a week


def _invalid(vi: str, en: str, code: str = "invalid_scale") -> InvalidInput:
    return InvalidInput(f"Thang đánh giá không hợp lệ: {vi}", f"Invalid rating scale: {en}", code=code)


def _name(level: dict, key: str, code: str) -> str:
    value = level.get(key)
    if not isinstance(value, str) or not value.strip():
        lang_vi, lang_en = ("tiếng Việt", "Vietnamese") if key == "vi" else ("tiếng Anh", "English")
        raise _invalid(f"mức «{code}» thiếu tên {lang_vi} («{key}»).", f"level “{code}” has no {lang_en} name ({key}).")
    value = " ".join(value.split())
    if len(value) > MAX_NAME:
        raise _invalid(f"tên «{value[:20]}…» dài quá {MAX_NAME} ký tự.",
                       f"the name “{value[:20]}…” is longer than {MAX_NAME} characters.")
    return value


def validate_scale(levels: object) -> list[dict]:
    """The scale in its stored form, best level first, or InvalidInput saying what is wrong.

    Each level: code (a–z, 0–9, _), vi and en names, satisfied (bool); optional score (a whole number,
    higher is better; by default the place from the bottom), asks_reason (bool; by default the
    unsatisfied levels ask), tone (great, good, neutral, bad; by default from the place and satisfied).
    """
    if not isinstance(levels, list | tuple):
        raise _invalid("cần một danh sách các mức.", "a list of levels is needed.")
    if not MIN_LEVELS <= len(levels) <= MAX_LEVELS:
        raise _invalid(f"cần từ {MIN_LEVELS} đến {MAX_LEVELS} mức, đang có {len(levels)}.",
                       f"{MIN_LEVELS} to {MAX_LEVELS} levels are needed, got {len(levels)}.")
    out: list[dict] = []
    for i, level in enumerate(levels):
        where_vi, where_en = f"mức thứ {i + 1}", f"level {i + 1}"
        if not isinstance(level, dict):
            raise _invalid(f"{where_vi} không đúng dạng.", f"{where_en} is not an object.")
        unknown = set(level) - {"code", "vi", "en", "satisfied", "score", "asks_reason", "tone"}
        if unknown:
            names = ", ".join(sorted(map(str, unknown)))
            raise _invalid(f"{where_vi} có trường không biết: {names}.", f"{where_en} has unknown fields: {names}.")
        code = level.get("code")
        if not isinstance(code, str) or not LEVEL_CODE.match(code):
            raise _invalid(f"mã của {where_vi} phải gồm chữ thường không dấu, số hoặc _, bắt đầu bằng chữ "
                           "(tối đa 32 ký tự).",
                           f"the code of {where_en} must be lowercase letters, digits or _, starting with a "
                           "letter (at most 32).")
        if not isinstance(level.get("satisfied"), bool):
            raise _invalid(f"mức «{code}» cần cho biết có tính là hài lòng hay không (satisfied).",
                           f"level “{code}” must say whether it counts as satisfied (satisfied).")
        score = level.get("score", len(levels) - i)
        if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100:
            raise _invalid(f"điểm của mức «{code}» phải là số nguyên từ 0 đến 100.",
                           f"the score of level “{code}” must be a whole number from 0 to 100.")
        asks_reason = level.get("asks_reason", not level["satisfied"])
        if not isinstance(asks_reason, bool):
            raise _invalid(f"asks_reason của mức «{code}» phải là true hoặc false.",
                           f"asks_reason of level “{code}” must be true or false.")
        tone = level.get("tone")
        if tone is not None and tone not in TONES:
            raise _invalid(f"tone của mức «{code}» phải là một trong: {', '.join(TONES)}.",
                           f"tone of level “{code}” must be one of: {', '.join(TONES)}.")
        out.append({"code": code, "vi": _name(level, "vi", code), "en": _name(level, "en", code),
                    "score": score, "satisfied": level["satisfied"], "asks_reason": asks_reason, "tone": tone})
    codes = [level["code"] for level in out]
    if len(set(codes)) != len(codes):
        twice = next(c for c in codes if codes.count(c) > 1)
        raise _invalid(f"mã «{twice}» bị trùng.", f"the code “{twice}” is used twice.")
    scores = [level["score"] for level in out]
    if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
        raise _invalid("điểm phải giảm dần từ mức tốt nhất và không trùng nhau.",
                       "scores must go down from the best level, with no two alike.")
    if not any(level["satisfied"] for level in out) or all(level["satisfied"] for level in out):
        raise _invalid("cần ít nhất một mức hài lòng và một mức không hài lòng.",
                       "at least one satisfied and one not satisfied level are needed.")
    for i, level in enumerate(out):
        if level["tone"] is None:
            level["tone"] = ("great" if i == 0 else "good") if level["satisfied"] else "bad"
    return out


def validate_question(question: object) -> dict:
    if not isinstance(question, dict):
        raise InvalidInput("Câu hỏi đánh giá cần có «vi» và «en».", "The rating question needs “vi” and “en”.",
                           code="invalid_question")
    out = {}
    for key in ("vi", "en"):
        value = question.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_QUESTION:
            raise InvalidInput(f"Câu hỏi đánh giá («{key}») phải có từ 1 đến {MAX_QUESTION} ký tự.",
                               f"The rating question (“{key}”) must have 1 to {MAX_QUESTION} characters.",
                               code="invalid_question")
        out[key] = " ".join(value.split())
    return out


def validate_settings(value: object) -> dict:
    """The whole `settings["rating"]` object, for the admin's settings page."""
    if not isinstance(value, dict):
        raise InvalidInput("Cài đặt đánh giá không đúng dạng.", "The rating settings must be an object.",
                           code="invalid_rating_settings")
    unknown = set(value) - {"levels", "question", "window_minutes", "web_window_hours"}
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise InvalidInput(f"Cài đặt đánh giá có trường không biết: {names}.",
                           f"Unknown rating settings: {names}.", code="invalid_rating_settings")
    out: dict = {}
    if "levels" in value:
        out["levels"] = validate_scale(value["levels"])
    if "question" in value:
        out["question"] = validate_question(value["question"])
    for key, (low, high), unit_vi, unit_en in (("window_minutes", WINDOW_LIMITS_MIN, "phút", "minutes"),
                                               ("web_window_hours", WEB_WINDOW_LIMITS_H, "giờ", "hours")):
        if key in value:
            number = value[key]
            if not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high:
                raise InvalidInput(f"«{key}» phải từ {low} đến {high} {unit_vi}.",
                                   f"“{key}” must be {low} to {high} {unit_en}.", code="invalid_rating_settings")
            out[key] = number
    return out


def _rating_settings(office_settings: dict | None) -> dict:
    rating = (office_settings or {}).get("rating")
    return rating if isinstance(rating, dict) else {}


def scale_of(office_settings: dict | None) -> list[dict]:
    """The office's scale; the default one when it has none (or a stored one no longer valid)."""
    levels = _rating_settings(office_settings).get("levels")
    if levels:
        try:
            return validate_scale(levels)
        except InvalidInput:
            pass
    return validate_scale(list(DEFAULT_LEVELS))


def question_of(office_settings: dict | None) -> dict:
    question = _rating_settings(office_settings).get("question")
    if question:
        try:
            return validate_question(question)
        except InvalidInput:
            pass
    return dict(QUESTION)


def window_of(office_settings: dict | None, channel: str) -> timedelta:
    """How long after the finish a visit can still be rated through this channel."""
    rating = _rating_settings(office_settings)
    if channel == WEB:
        hours = rating.get("web_window_hours")
        low, high = WEB_WINDOW_LIMITS_H
        return timedelta(hours=hours) if isinstance(hours, int) and low <= hours <= high else WEB_WINDOW
    minutes = rating.get("window_minutes")
    low, high = WINDOW_LIMITS_MIN
    return timedelta(minutes=minutes) if isinstance(minutes, int) and low <= minutes <= high else TABLET_WINDOW


def find_level(scale: list[dict], code: str) -> dict:
    for level in scale:
        if level["code"] == code:
            return level
    names = ", ".join(level["code"] for level in scale)
    raise InvalidInput(f"Mức đánh giá «{code}» không có trong thang của cơ quan ({names}).",
                       f"The rating level “{code}” is not on the office's scale ({names}).", code="unknown_level")


def level_at(scale: list[dict], position: int) -> dict:
    """The level at a place on the scale, 1 being the best (a keypad's keys 1, 2, 3)."""
    if not 1 <= position <= len(scale):
        raise InvalidInput(f"Thang đánh giá chỉ có {len(scale)} mức, không có mức thứ {position}.",
                           f"The rating scale has {len(scale)} levels, not a level {position}.", code="unknown_level")
    return scale[position - 1]


def still_open(finished_at: datetime, now: datetime, window: timedelta) -> bool:
    """Whether a visit that ended at `finished_at` can still be rated (both aware, or both naive)."""
    return finished_at <= now + timedelta(seconds=5) and now - finished_at <= window


def clean_reason(reason: str | None) -> str | None:
    """One line, no control characters, at most MAX_REASON characters; None when empty."""
    if reason is None:
        return None
    text = " ".join("".join(c if c.isprintable() else " " for c in reason).split())
    return text[:MAX_REASON] or None


def satisfaction_rate(satisfied: int, total: int) -> float | None:
    """"% hài lòng": the share of ratings on a satisfied level, in percent, one decimal; None without ratings."""
    return round(100 * satisfied / total, 1) if total else None
