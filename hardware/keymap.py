"""Linux key codes and the US keyboard layout, as a barcode scanner in keyboard mode types them.

A USB HID scanner is a keyboard: it sends key codes, not characters, and leaves the layout to the
host. Scanners are set up for the US layout almost everywhere, so that is the one layout here; the
Vietnamese layouts (Telex, VNI) are input methods on top of it, not layouts a scanner could use.
Only printable ASCII can be typed this way: "Mã hồ sơ" comes through a keyboard-mode scanner as
whatever its firmware makes of "ã" and "ồ" (usually nothing). Codes with Vietnamese text need a
scanner in serial mode.

The numbers are those of linux/input-event-codes.h (stable kernel ABI), written out so that this
module, and the decoder built on it, work on machines without python-evdev.
"""
from __future__ import annotations

EV_SYN, EV_KEY, EV_MSC = 0x00, 0x01, 0x04
KEY_RELEASE, KEY_PRESS, KEY_REPEAT = 0, 1, 2

KEY_TAB = 15
KEY_ENTER = 28
KEY_LEFTCTRL = 29
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
KEY_LEFTALT = 56
KEY_CAPSLOCK = 58
KEY_KPENTER = 96
KEY_RIGHTCTRL = 97
KEY_RIGHTALT = 100
KEY_LEFTMETA = 125
KEY_RIGHTMETA = 126

SHIFT_KEYS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
# Keys pressed while one of these is held are shortcuts, not text.
SHORTCUT_KEYS = frozenset({KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTALT, KEY_RIGHTALT, KEY_LEFTMETA, KEY_RIGHTMETA})

# Keys that can end a scan, by the names used in reader URLs, and the text each stands for when a
# multi-line code is joined back together.
TERMINATOR_KEYS: dict[str, int] = {"enter": KEY_ENTER, "kpenter": KEY_KPENTER, "tab": KEY_TAB}
TERMINATOR_TEXT: dict[int, str] = {KEY_ENTER: "\n", KEY_KPENTER: "\n", KEY_TAB: "\t"}


def _rows(codes: range, plain: str, shifted: str) -> dict[int, tuple[str, str]]:
    assert len(codes) == len(plain) == len(shifted)
    return {code: (p, s) for code, p, s in zip(codes, plain, shifted, strict=True)}


# code -> (unshifted, shifted) on a US keyboard. Letters are the rows KEY_Q.., KEY_A.., KEY_Z..
US_KEYS: dict[int, tuple[str, str]] = {
    **_rows(range(2, 14), "1234567890-=", "!@#$%^&*()_+"),      # KEY_1 .. KEY_EQUAL
    **_rows(range(16, 28), "qwertyuiop[]", "QWERTYUIOP{}"),     # KEY_Q .. KEY_RIGHTBRACE
    **_rows(range(30, 42), "asdfghjkl;'`", 'ASDFGHJKL:"~'),     # KEY_A .. KEY_GRAVE
    **_rows(range(43, 54), "\\zxcvbnm,./", "|ZXCVBNM<>?"),      # KEY_BACKSLASH .. KEY_SLASH
    57: (" ", " "),                                              # KEY_SPACE
}

# The numeric keypad, which some scanners use for digits. Taken as NumLock on: a scanner that types
# keypad keys means digits, and the host's NumLock state is not the scanner's business.
KEYPAD_KEYS: dict[int, str] = {
    71: "7", 72: "8", 73: "9", 74: "-", 75: "4", 76: "5", 77: "6", 78: "+", 79: "1", 80: "2", 81: "3",
    82: "0", 83: ".", 55: "*", 98: "/", 117: "=", 121: ",",
}


def key_text(code: int, shift: bool, caps_lock: bool) -> str | None:
    """The character a key types on a US keyboard, or None for keys that type nothing (F-keys,
    arrows, modifiers). CapsLock changes letters only; Shift while CapsLock is on gives lowercase."""
    if code in KEYPAD_KEYS:
        return KEYPAD_KEYS[code]
    pair = US_KEYS.get(code)
    if pair is None:
        return None
    plain, shifted = pair
    if plain.isalpha():
        return shifted if shift != caps_lock else plain
    return shifted if shift else plain
