"""Windows-1258 (Vietnamese) encoding that works for Vietnamese text.

CP1258 holds the letters with a shape of their own (â ê ô ă ơ ư đ) and 16 toned vowels (à á è é …),
plus the five tone marks as *combining* characters. Python's "cp1258" codec maps one Unicode
character to one byte, so it refuses 104 of the 120 toned vowels ("ấ", "ệ", "ữ" …). A printer in
CP1258 expects "ấ" as "â" followed by the combining acute: this module produces exactly that, keeps
a precomposed byte whenever the code page has one, and refuses what it cannot represent (or puts a
replacement in its place when asked to).
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

# The five Vietnamese tone marks: huyền, sắc, ngã, hỏi, nặng.
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"

_VOWELS = "aăâeêioôơuưy"
_TONED = "".join(unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in TONE_MARKS)
_LOWER = "ăâđêôơư" + _TONED
#: The 134 letters of Vietnamese outside ASCII: 7 letters with their own shape and 60 toned vowels,
#: in both cases. Everything that must survive a printer, font or code page.
VIETNAMESE_LETTERS = _LOWER + _LOWER.upper()

# The code page itself: Python's table is right; it only lacks the decomposition step.
_TABLE: dict[str, int] = {}
for _byte in range(256):
    try:
        _TABLE[bytes([_byte]).decode("cp1258")] = _byte
    except UnicodeDecodeError:  # 0x81, 0x8A, 0x8D … are unassigned
        pass


class Cp1258EncodeError(ValueError):
    """A character that CP1258 cannot represent, even with a combining tone mark."""

    def __init__(self, char: str, position: int) -> None:
        name = unicodedata.name(char, "unnamed")
        super().__init__(f"cannot encode {char!r} (U+{ord(char):04X} {name}) at position {position} in CP1258")
        self.char = char
        self.position = position


@lru_cache(maxsize=4096)
def _encode_char(char: str) -> bytes | None:
    if char in _TABLE:
        return bytes([_TABLE[char]])
    decomposed = unicodedata.normalize("NFD", char)
    tones = [c for c in decomposed if c in TONE_MARKS]
    if len(tones) != 1:
        return None
    base = unicodedata.normalize("NFC", decomposed.replace(tones[0], ""))
    if base not in _TABLE:
        return None
    return bytes([_TABLE[base], _TABLE[tones[0]]])


def encode_cp1258(text: str, replacement: str | None = None) -> bytes:
    """Encode `text` for a printer set to CP1258 (Epson `ESC t 52` on most models).

    The text is NFC-normalised first, so decomposed input gives the same bytes. With `replacement`
    None an unrepresentable character raises Cp1258EncodeError; otherwise the replacement (itself
    encodable, e.g. "?") is printed in its place.
    """
    fallback = None if replacement is None else encode_cp1258(replacement)
    out = bytearray()
    for position, char in enumerate(unicodedata.normalize("NFC", text)):
        encoded = _encode_char(char)
        if encoded is None:
            if fallback is None:
                raise Cp1258EncodeError(char, position)
            encoded = fallback
        out += encoded
    return bytes(out)


def decode_cp1258(data: bytes) -> str:
    """The inverse: bytes from a CP1258 stream back to NFC text ("a" + U+0301 becomes "á")."""
    return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))
