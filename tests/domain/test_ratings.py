"""The rating scale, the question and the rating window: pure rules, checked on tables."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from queue_server.domain import ratings as rd
from queue_server.domain.errors import InvalidInput

FOUR = [
    {"code": "very_satisfied", "vi": "Rất hài lòng", "en": "Very satisfied", "satisfied": True},
    {"code": "satisfied", "vi": "Hài lòng", "en": "Satisfied", "satisfied": True},
    {"code": "neutral", "vi": "Bình thường", "en": "Neutral", "satisfied": False, "asks_reason": False,
     "tone": "neutral"},
    {"code": "unsatisfied", "vi": "Không hài lòng", "en": "Not satisfied", "satisfied": False},
]


def level(code: str, satisfied: bool, **extra: object) -> dict:
    return {"code": code, "vi": f"Mức {code}", "en": f"Level {code}", "satisfied": satisfied, **extra}


def test_the_default_scale_is_the_three_levels_of_the_law() -> None:
    scale = rd.validate_scale(list(rd.DEFAULT_LEVELS))
    assert [(lv["code"], lv["vi"], lv["en"], lv["score"], lv["satisfied"], lv["asks_reason"], lv["tone"])
            for lv in scale] == [
        ("very_satisfied", "Rất hài lòng", "Very satisfied", 3, True, False, "great"),
        ("satisfied", "Hài lòng", "Satisfied", 2, True, False, "good"),
        ("unsatisfied", "Không hài lòng", "Not satisfied", 1, False, True, "bad"),
    ]
    assert rd.scale_of({}) == rd.scale_of(None) == scale


def test_an_office_may_add_binh_thuong() -> None:
    scale = rd.validate_scale(FOUR)
    assert [lv["score"] for lv in scale] == [4, 3, 2, 1]           # from the place when not given
    assert [lv["tone"] for lv in scale] == ["great", "good", "neutral", "bad"]
    assert [lv["asks_reason"] for lv in scale] == [False, False, False, True]
    assert rd.scale_of({"rating": {"levels": FOUR}}) == scale


def test_names_are_tidied_and_scores_kept() -> None:
    scale = rd.validate_scale([level("good", True, vi="  Tốt \n lắm ", score=10), level("bad", False, score=0)])
    assert (scale[0]["vi"], scale[0]["score"], scale[1]["score"]) == ("Tốt lắm", 10, 0)


@pytest.mark.parametrize(("levels", "message"), [
    ("three levels", "cần một danh sách"),
    ([level("a", True)], "cần từ 2 đến 5 mức, đang có 1"),
    ([level(f"l{i}", i < 3) for i in range(6)], "cần từ 2 đến 5 mức, đang có 6"),
    ([level("ok", True), "bad"], "mức thứ 2 không đúng dạng"),
    ([level("ok", True), level("Bad", False)], "mã của mức thứ 2 phải gồm chữ thường"),
    ([level("ok", True), level("2bad", False)], "mã của mức thứ 2"),
    ([level("ok", True), level("x" * 33, False)], "mã của mức thứ 2"),
    ([level("ok", True), level("ok", False)], "mã «ok» bị trùng"),
    ([level("ok", True), {"code": "bad", "en": "Bad", "satisfied": False}], "mức «bad» thiếu tên tiếng Việt"),
    ([level("ok", True), {"code": "bad", "vi": "Tệ", "en": " ", "satisfied": False}], "mức «bad» thiếu tên tiếng Anh"),
    ([level("ok", True), level("bad", False, vi="x" * 61)], "dài quá 60 ký tự"),
    ([level("ok", True), level("bad", None)], "có tính là hài lòng hay không"),
    ([level("ok", True), level("bad", "no")], "có tính là hài lòng hay không"),
    ([level("ok", True), level("fine", True)], "ít nhất một mức hài lòng và một mức không hài lòng"),
    ([level("bad", False), level("worse", False)], "ít nhất một mức hài lòng và một mức không hài lòng"),
    ([level("ok", True, score=1), level("bad", False, score=2)], "điểm phải giảm dần"),
    ([level("ok", True, score=2), level("bad", False, score=2)], "điểm phải giảm dần"),
    ([level("ok", True, score="3"), level("bad", False)], "điểm của mức «ok» phải là số nguyên"),
    ([level("ok", True, score=True), level("bad", False)], "điểm của mức «ok» phải là số nguyên"),
    ([level("ok", True, score=101), level("bad", False)], "từ 0 đến 100"),
    ([level("ok", True), level("bad", False, asks_reason="yes")], "asks_reason của mức «bad»"),
    ([level("ok", True), level("bad", False, tone="purple")], "tone của mức «bad»"),
    ([level("ok", True), level("bad", False, colour="red")], "trường không biết: colour"),
])
def test_a_bad_scale_is_refused_with_a_clear_message(levels: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rd.validate_scale(levels)
    assert caught.value.code == "invalid_scale"
    assert caught.value.message_vi.startswith("Thang đánh giá không hợp lệ: ")
    assert message in caught.value.message_vi
    assert caught.value.message_en.startswith("Invalid rating scale: ")


def test_an_invalid_stored_scale_falls_back_to_the_default() -> None:
    assert rd.scale_of({"rating": {"levels": [level("only", True)]}}) == rd.scale_of({})


def test_find_level_and_level_at() -> None:
    scale = rd.scale_of({})
    assert rd.find_level(scale, "satisfied")["score"] == 2
    assert rd.level_at(scale, 1)["code"] == "very_satisfied"
    assert rd.level_at(scale, 3)["code"] == "unsatisfied"
    with pytest.raises(InvalidInput, match="not on the office's scale") as caught:
        rd.find_level(scale, "neutral")
    assert caught.value.code == "unknown_level"
    with pytest.raises(InvalidInput, match="has 3 levels, not a level 4"):
        rd.level_at(scale, 4)


def test_the_question() -> None:
    assert rd.question_of({}) == {"vi": "Ông/Bà đánh giá thế nào về thái độ phục vụ của công chức?",
                                  "en": "How would you rate the officer's attitude?"}
    own = {"vi": "Quý vị có hài lòng?", "en": "Are you satisfied?"}
    assert rd.question_of({"rating": {"question": own}}) == own
    assert rd.question_of({"rating": {"question": {"vi": "", "en": "x"}}}) == rd.QUESTION
    with pytest.raises(InvalidInput) as caught:
        rd.validate_question({"vi": "x" * 301, "en": "y"})
    assert caught.value.code == "invalid_question"


@pytest.mark.parametrize(("settings", "channel", "window"), [
    ({}, rd.TABLET, timedelta(minutes=30)),
    ({}, rd.KEYPAD, timedelta(minutes=30)),
    ({}, rd.WEB, timedelta(hours=24)),
    ({"rating": {"window_minutes": 10}}, rd.TABLET, timedelta(minutes=10)),
    ({"rating": {"web_window_hours": 48}}, rd.WEB, timedelta(hours=48)),
    ({"rating": {"window_minutes": 0}}, rd.TABLET, timedelta(minutes=30)),       # out of range: the default
    ({"rating": {"window_minutes": "10"}}, rd.TABLET, timedelta(minutes=30)),
])
def test_the_rating_window(settings: dict, channel: str, window: timedelta) -> None:
    assert rd.window_of(settings, channel) == window


@pytest.mark.parametrize(("ago", "open_"), [
    (timedelta(0), True), (timedelta(minutes=29, seconds=59), True), (timedelta(minutes=30), True),
    (timedelta(minutes=30, seconds=1), False), (timedelta(days=2), False),
    (timedelta(seconds=-3), True),          # clocks a little apart
    (timedelta(minutes=-5), False),         # finished in the future: not a real visit
])
def test_still_open(ago: timedelta, open_: bool) -> None:
    now = datetime(2026, 11, 23, 9, 0)
    assert rd.still_open(now - ago, now, timedelta(minutes=30)) is open_


def test_validate_settings_for_the_admin() -> None:
    value = rd.validate_settings({"levels": FOUR, "question": {"vi": " Hỏi ", "en": "Ask"}, "window_minutes": 15,
                                  "web_window_hours": 12})
    assert value["window_minutes"] == 15 and value["question"] == {"vi": "Hỏi", "en": "Ask"}
    assert len(value["levels"]) == 4
    for bad, code in [({"levels": []}, "invalid_scale"), ({"window_minutes": 0}, "invalid_rating_settings"),
                      ({"web_window_hours": 24 * 8}, "invalid_rating_settings"),
                      ({"color": 1}, "invalid_rating_settings"),
                      ([], "invalid_rating_settings")]:
        with pytest.raises(InvalidInput) as caught:
            rd.validate_settings(bad)
        assert caught.value.code == code


@pytest.mark.parametrize(("text", "clean"), [
    (None, None), ("", None), ("   ", None), ("Chờ lâu", "Chờ lâu"), ("a\nb\tc\x00d", "a b c d"),
    ("x" * 400, "x" * 300),
])
def test_reasons_are_one_short_line(text: str | None, clean: str | None) -> None:
    assert rd.clean_reason(text) == clean


def test_satisfaction_rate() -> None:
    assert rd.satisfaction_rate(2, 3) == 66.7
    assert rd.satisfaction_rate(0, 0) is None
