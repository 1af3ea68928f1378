"""The TrueType fonts that slips are drawn with.

Printer code pages cannot be trusted with Vietnamese (DOMAIN.md), so every letter on paper comes
from a TTF drawn into the raster image. A font without Vietnamese glyphs would print boxes in
place of "ệ" on every ticket of the day, so the chosen font is checked once, glyph by glyph, and
a missing font is an error that names the Debian package to install, never a silent fallback to
Pillow's bitmap font.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from .cp1258 import VIETNAMESE_LETTERS

DEBIAN_PACKAGE = "fonts-dejavu-core"

# (regular, bold), first match wins after an explicit choice.
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/usr/share/fonts/noto/NotoSans-Regular.ttf", "/usr/share/fonts/noto/NotoSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)

# A code point no font maps: what it draws is the font's .notdef box.
_UNMAPPED = "\U0010fffd"


class FontMissing(RuntimeError):
    """No usable Vietnamese-capable TrueType font."""


@dataclass(frozen=True)
class FontPaths:
    regular: Path
    bold: Path


def find_fonts(regular: str | os.PathLike[str] | None = None, bold: str | os.PathLike[str] | None = None,
               candidates: Sequence[tuple[str, str]] = CANDIDATES) -> FontPaths:
    """Where the fonts are: the arguments, else $MOTCUA_FONT / $MOTCUA_FONT_BOLD, else DejaVu Sans,
    else Noto Sans. An explicitly named file that does not exist is an error, not a reason to
    look elsewhere: the operator asked for that font."""
    regular = regular or os.environ.get("MOTCUA_FONT") or None
    bold = bold or os.environ.get("MOTCUA_FONT_BOLD") or None
    for label, value in (("regular", regular), ("bold", bold)):
        if value is not None and not Path(value).is_file():
            raise FontMissing(f"the {label} font {value} does not exist (set by argument, MOTCUA_FONT or "
                              f"MOTCUA_FONT_BOLD)")
    if regular is not None:
        return FontPaths(Path(regular), Path(bold or regular))
    for candidate_regular, candidate_bold in candidates:
        if Path(candidate_regular).is_file() and (bold is not None or Path(candidate_bold).is_file()):
            return FontPaths(Path(candidate_regular), Path(bold or candidate_bold))
    raise FontMissing("no Vietnamese-capable TrueType font found: install the Debian package "
                      f"{DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE}) or set MOTCUA_FONT to a .ttf file "
                      "such as Noto Sans or Be Vietnam Pro")


@lru_cache(maxsize=16)
def missing_glyphs(path: Path, letters: str = VIETNAMESE_LETTERS) -> str:
    """The letters the font draws as its .notdef box (or not at all). Pillow has no "has glyph"
    call, so each letter's bitmap is compared with the bitmap of an unmapped code point."""
    try:
        font = ImageFont.truetype(str(path), 32)
    except OSError as exc:
        raise FontMissing(f"{path} is not a readable TrueType/OpenType font: {exc}") from exc
    notdef = font.getmask(_UNMAPPED)
    notdef_key = (notdef.size, bytes(notdef))
    missing = []
    for letter in letters:
        mask = font.getmask(letter)
        if mask.size[0] == 0 or mask.size[1] == 0 or (mask.size, bytes(mask)) == notdef_key:
            missing.append(letter)
    return "".join(missing)


class FontSet:
    """A regular and a bold face, checked for Vietnamese, with loaded sizes kept for reuse (loading
    a face costs more than drawing a line of text)."""

    def __init__(self, paths: FontPaths) -> None:
        for path in {paths.regular, paths.bold}:
            gaps = missing_glyphs(path)
            if gaps:
                raise FontMissing(f"{path} lacks Vietnamese glyphs ({gaps[:20]}…): install {DEBIAN_PACKAGE} or "
                                  "set MOTCUA_FONT to a font that covers Vietnamese")
        self.paths = paths
        self._cache: dict[tuple[int, bool], ImageFont.FreeTypeFont] = {}
        self._lock = threading.Lock()

    def get(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        key = (size, bold)
        font = self._cache.get(key)
        if font is None:
            with self._lock:
                font = self._cache.get(key)
                if font is None:
                    path = self.paths.bold if bold else self.paths.regular
                    font = ImageFont.truetype(str(path), size)
                    if len(self._cache) > 256:   # sizes are few; this only bounds a pathological caller
                        self._cache.clear()
                    self._cache[key] = font
        return font


_default: FontSet | None = None
_default_lock = threading.Lock()


def default_fonts() -> FontSet:
    """The process-wide font set, found and checked on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = FontSet(find_fonts())
    return _default
