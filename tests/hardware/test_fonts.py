"""Font discovery: an explicit choice wins, DejaVu is the default, absence is a clear error."""
from __future__ import annotations

from pathlib import Path

import pytest

from hardware.fonts import DEBIAN_PACKAGE, FontMissing, FontPaths, FontSet, find_fonts, missing_glyphs

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
DEJAVU_MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")

pytestmark = pytest.mark.skipif(not DEJAVU.is_file(), reason=f"needs the Debian package {DEBIAN_PACKAGE}")


@pytest.fixture(autouse=True)
def no_font_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_FONT", raising=False)
    monkeypatch.delenv("MOTCUA_FONT_BOLD", raising=False)


def test_dejavu_is_the_default() -> None:
    assert find_fonts() == FontPaths(DEJAVU, DEJAVU_BOLD)


def test_explicit_paths_win() -> None:
    assert find_fonts(DEJAVU_MONO) == FontPaths(DEJAVU_MONO, DEJAVU_MONO)
    assert find_fonts(DEJAVU_MONO, DEJAVU_BOLD) == FontPaths(DEJAVU_MONO, DEJAVU_BOLD)


def test_environment_names_the_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_FONT", str(DEJAVU_MONO))
    monkeypatch.setenv("MOTCUA_FONT_BOLD", str(DEJAVU_BOLD))
    assert find_fonts() == FontPaths(DEJAVU_MONO, DEJAVU_BOLD)


def test_a_named_font_that_does_not_exist_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOTCUA_FONT", str(tmp_path / "BeVietnamPro.ttf"))
    with pytest.raises(FontMissing, match="BeVietnamPro.ttf does not exist"):
        find_fonts()


def test_no_font_at_all_names_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(FontMissing) as err:
        find_fonts(candidates=[(str(tmp_path / "a.ttf"), str(tmp_path / "b.ttf"))])
    assert DEBIAN_PACKAGE in str(err.value)


def test_glyph_check_tells_real_glyphs_from_notdef_boxes() -> None:
    assert missing_glyphs(DEJAVU) == ""
    assert missing_glyphs(DEJAVU, "ệữĐỵ漢") == "漢"          # DejaVu has no CJK: .notdef


def test_a_file_that_is_no_font_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "broken.ttf"
    fake.write_bytes(b"not a font")
    with pytest.raises(FontMissing, match="not a readable"):
        FontSet(FontPaths(fake, fake))


def test_loaded_sizes_are_reused() -> None:
    fonts = FontSet(find_fonts())
    assert fonts.get(24) is fonts.get(24)
    assert fonts.get(24, bold=True) is not fonts.get(24)
    assert fonts.get(24, bold=True).path == str(DEJAVU_BOLD)
