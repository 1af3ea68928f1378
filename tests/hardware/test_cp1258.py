"""CP1258 for printers: every Vietnamese letter encodes, decodes and composes back."""
from __future__ import annotations

import unicodedata

import pytest

from hardware.cp1258 import TONE_MARKS, VIETNAMESE_LETTERS, Cp1258EncodeError, decode_cp1258, encode_cp1258

# The 16 toned vowels CP1258 has precomposed (DOMAIN.md: "16 of 120").
PRECOMPOSED_TONED = set("ÀÁÈÉÍÓÙÚàáèéíóùú")
BASES = "ăâđêôơưĂÂĐÊÔƠƯ"


def test_the_alphabet_has_134_letters() -> None:
    assert len(VIETNAMESE_LETTERS) == 134 == len(set(VIETNAMESE_LETTERS))
    assert all(not ch.isascii() and unicodedata.category(ch).startswith("L") for ch in VIETNAMESE_LETTERS)
    assert set(BASES) <= set(VIETNAMESE_LETTERS)


@pytest.mark.parametrize("letter", list(VIETNAMESE_LETTERS))
def test_every_letter_round_trips(letter: str) -> None:
    encoded = encode_cp1258(letter)
    assert decode_cp1258(encoded) == letter
    decomposed = unicodedata.normalize("NFD", letter)
    tone = [c for c in decomposed if c in TONE_MARKS]
    if letter in BASES or letter in PRECOMPOSED_TONED:
        assert len(encoded) == 1                      # the code page's own character
    else:
        assert len(encoded) == 2 and tone             # base letter + combining tone mark
        assert encoded[1:] == tone[0].encode("cp1258")
        assert unicodedata.normalize("NFC", decomposed.replace(tone[0], "")).encode("cp1258") == encoded[:1]


@pytest.mark.parametrize(("text", "expected"), [
    ("a", b"a"),
    ("á", b"\xe1"),                 # precomposed in CP1258
    ("ấ", b"\xe2\xec"),             # â + combining acute
    ("Ệ", b"\xca\xf2"),             # Ê + combining dot below
    ("ữ", b"\xfd\xde"),             # ư + combining tilde
    ("ỷ", b"y\xd2"),                # y + combining hook above
    ("Ỳ", b"Y\xcc"),                # Y + combining grave
    ("Đ", b"\xd0"),
    ("ơ", b"\xf5"),
    ("₫", b"\xfe"),
    ("Việt Nam — “Một Cửa”", b"Vi\xea\xf2t Nam \x97 \x93M\xf4\xf2t C\xfd\xd2a\x94"),
])
def test_known_encodings(text: str, expected: bytes) -> None:
    assert encode_cp1258(text) == expected
    assert decode_cp1258(expected) == text


def test_decomposed_input_gives_the_same_bytes() -> None:
    text = "Phiếu số thứ tự"
    assert encode_cp1258(unicodedata.normalize("NFD", text)) == encode_cp1258(text)


def test_python_codec_alone_cannot_do_it() -> None:
    with pytest.raises(UnicodeEncodeError):
        "ệ".encode("cp1258")


@pytest.mark.parametrize("text", ["漢", "😀", "Ω", "ş"])
def test_unrepresentable_characters_are_refused(text: str) -> None:
    with pytest.raises(Cp1258EncodeError) as err:
        encode_cp1258("ok " + text)
    assert err.value.position == 3
    assert "U+" in str(err.value)


def test_replacement_instead_of_refusal() -> None:
    assert encode_cp1258("số 😀 7", replacement="?") == b"s\xf4\xec ? 7"
    assert encode_cp1258("漢", replacement="[ệ]") == b"[\xea\xf2]"
