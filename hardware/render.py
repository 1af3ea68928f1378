"""Draws a slip as one 1-bit image, the way Vietnamese halls print tickets (DOMAIN.md).

Black ink is 0, white paper 255 (Pillow's mode "1"). The image is exactly the printable width
(576 dots on 80 mm paper, 384 on 58 mm, at 203 dpi) and its height is a multiple of 24 dots, the
band height of `ESC *` column printing, so every image mode prints (and decodes back) the same
pixels. Everything here is sized in printer dots: 8 dots ≈ 1 mm.

Layout is two passes: each block becomes pieces of known height, then the pieces are drawn onto a
canvas of the summed height. Line heights come from the font *and* the ink of tall Vietnamese
capitals ("Ẫ", "Ỗ" stack two marks above the cap height, past the font's ascent), so tone marks
are never clipped.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import barcode
import qrcode
from PIL import Image, ImageDraw, ImageFont

from .fonts import FontSet, default_fonts
from .slip import (
    BarcodeBlock,
    Block,
    ColumnsBlock,
    NumberBlock,
    QrBlock,
    RuleBlock,
    Slip,
    SpaceBlock,
    TextBlock,
)

BAND = 24
INK, PAPER = 0, 255
MIN_WIDTH, MAX_WIDTH = 256, 1024
# Ink of the tallest and deepest Vietnamese letters, probed once per font size.
_TALL_PROBE = "ẪẬẴẶỄỆỖỘỠỢỮỰỸỴÃÊĐÁÀẢbdfhklgjpqyỵ"
# qrcode tries all eight mask patterns by default and scores each in pure Python: 30 ms for a
# tracking URL, over the whole ticket's budget. Every mask is valid QR and decoders read them all
# (the tests scan printed tickets with zxing); the score only nudges readability.
QR_MASK = 2
QR_QUIET_MODULES = 4
QR_MIN_MODULE_PX = 4        # 0.5 mm at 203 dpi: the smallest a phone camera reads from a ticket
CODE128_QUIET_MODULES = 10


@dataclass(frozen=True)
class PaperMetrics:
    """Sizes in dots, tuned for 576 and 384 dots; other widths interpolate."""
    width: int
    margin: int
    text: dict[str, int]
    number_height: int        # the ticket number's ink height limit
    qr_target: int            # preferred QR side, quiet zone included
    qr_max_module: int
    barcode_height: int
    rule: int
    gap: int                  # between blocks
    top: int
    bottom: int

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin


_M576 = PaperMetrics(576, 12, {"small": 21, "normal": 25, "large": 32, "xlarge": 44}, 152, 264, 8, 88, 2, 6, 8, 12)
_M384 = PaperMetrics(384, 6, {"small": 17, "normal": 20, "large": 25, "xlarge": 34}, 108, 220, 6, 72, 2, 4, 6, 10)


@lru_cache(maxsize=16)
def paper_metrics(width: int) -> PaperMetrics:
    if not isinstance(width, int) or not MIN_WIDTH <= width <= MAX_WIDTH or width % 8:
        raise ValueError(f"paper width must be a multiple of 8 dots in {MIN_WIDTH}–{MAX_WIDTH} "
                         f"(576 for 80 mm, 384 for 58 mm), got {width!r}")
    if width == 576:
        return _M576
    if width == 384:
        return _M384
    t = (width - 384) / 192

    def lerp(a: int, b: int) -> int:
        return max(1, round(a + (b - a) * t))

    text = {k: max(14, lerp(_M384.text[k], _M576.text[k])) for k in _M576.text}
    return PaperMetrics(width, lerp(_M384.margin, _M576.margin), text, lerp(_M384.number_height, _M576.number_height),
                        lerp(_M384.qr_target, _M576.qr_target), lerp(_M384.qr_max_module, _M576.qr_max_module),
                        lerp(_M384.barcode_height, _M576.barcode_height), 2, lerp(_M384.gap, _M576.gap),
                        lerp(_M384.top, _M576.top), lerp(_M384.bottom, _M576.bottom))


Draw = Callable[[ImageDraw.ImageDraw, Image.Image, int], None]


@dataclass(frozen=True)
class Piece:
    """A horizontal strip of the slip: its height and how to draw it at a given top y."""
    height: int
    draw: Draw


# --- text --------------------------------------------------------------------------------------

@lru_cache(maxsize=128)
def _line_extent(font: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """(top, bottom) of a line relative to its baseline, covering stacked Vietnamese marks."""
    ascent, descent = font.getmetrics()
    _, top, _, bottom = font.getbbox(_TALL_PROBE, anchor="ls")
    return min(-ascent, top), max(descent, bottom)


def _break_word(word: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    parts, current = [], ""
    for ch in word:
        if current and font.getlength(current + ch) > width:
            parts.append(current)
            current = ch
        else:
            current += ch
    return parts + [current]


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap by measured width; words wider than a line are broken by letters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        whole = " ".join(words)
        if font.getlength(whole) <= width:         # most lines on a ticket: one measurement
            lines.append(whole)
            continue
        line = ""
        for word in words:
            pieces = _break_word(word, font, width) if font.getlength(word) > width else [word]
            for piece in pieces:
                candidate = f"{line} {piece}" if line else piece
                if line and font.getlength(candidate) > width:
                    lines.append(line)
                    line = piece
                else:
                    line = candidate
        lines.append(line)
    return lines


def _text_pieces(lines: Sequence[tuple[str, str]], font: ImageFont.FreeTypeFont, m: PaperMetrics,
                 align: str) -> list[Piece]:
    """One piece per line; `lines` pairs (left part, right part) so columns share the code path."""
    top, bottom = _line_extent(font)
    for left, right in lines:
        for part in (left, right):
            if part:
                _, t, _, b = font.getbbox(part, anchor="ls")
                top, bottom = min(top, t), max(bottom, b)
    leading = max(2, round(font.size * 0.12))
    height = bottom - top + leading
    pieces = []
    for left, right in lines:
        def draw(d: ImageDraw.ImageDraw, _img: Image.Image, y: int, left: str = left, right: str = right) -> None:
            baseline = y - top + leading // 2
            if right:
                d.text((m.margin, baseline), left, font=font, fill=INK, anchor="ls")
                d.text((m.width - m.margin, baseline), right, font=font, fill=INK, anchor="rs")
            elif align == "left":
                d.text((m.margin, baseline), left, font=font, fill=INK, anchor="ls")
            elif align == "right":
                d.text((m.width - m.margin, baseline), left, font=font, fill=INK, anchor="rs")
            else:
                d.text((m.width // 2, baseline), left, font=font, fill=INK, anchor="ms")
        pieces.append(Piece(height, draw))
    return pieces


def _text(block: TextBlock, m: PaperMetrics, fonts: FontSet) -> list[Piece]:
    font = fonts.get(m.text[block.size], block.bold)
    return _text_pieces([(line, "") for line in wrap(block.text, font, m.inner)], font, m, block.align)


def _columns(block: ColumnsBlock, m: PaperMetrics, fonts: FontSet) -> list[Piece]:
    font = fonts.get(m.text[block.size], block.bold)
    gap = font.size
    right_width = font.getlength(block.right)
    if right_width > m.inner * 0.6:     # a long value gets its own right-aligned lines
        rows = [(line, "") for line in wrap(block.left, font, m.inner)]
        return (_text_pieces(rows, font, m, "left")
                + _text_pieces([(line, "") for line in wrap(block.right, font, m.inner)], font, m, "right"))
    left_lines = wrap(block.left, font, int(m.inner - right_width - gap)) if block.left else [""]
    rows = [(line, "") for line in left_lines[:-1]] + [(left_lines[-1], block.right)]
    return _text_pieces(rows, font, m, "left")


# --- the number ----------------------------------------------------------------------------------

@lru_cache(maxsize=512)
def _number_fit(fonts: FontSet, text: str, width: int, height: int) -> tuple[int, tuple[int, int, int, int]]:
    """The largest bold size whose ink fits width × height, and that ink box."""
    reference = 200
    x0, y0, x1, y1 = fonts.get(reference, True).getbbox(text, anchor="ls")
    size = max(8, int(reference * min(width / max(1, x1 - x0), height / max(1, y1 - y0))))
    while True:
        box = fonts.get(size, True).getbbox(text, anchor="ls")
        if (box[2] - box[0] <= width and box[3] - box[1] <= height) or size <= 8:
            return size, box
        size -= 1


def _number(block: NumberBlock, m: PaperMetrics, fonts: FontSet) -> list[Piece]:
    size, (x0, y0, x1, y1) = _number_fit(fonts, block.text, int(m.inner * 0.88), m.number_height)
    font = fonts.get(size, True)
    pad = m.gap * 2

    def draw(d: ImageDraw.ImageDraw, _img: Image.Image, y: int) -> None:
        d.text(((m.width - (x1 - x0)) // 2 - x0, y + pad - y0), block.text, font=font, fill=INK, anchor="ls")
    return [Piece(y1 - y0 + 2 * pad, draw)]


# --- QR and CODE128 ------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """QR modules (True = dark), error correction M, the 4-module quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=QR_QUIET_MODULES,
                         mask_pattern=QR_MASK)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


@lru_cache(maxsize=64)
def qr_image(data: str, module_px: int | None = None, target_px: int = 264, max_module_px: int = 8,
             max_px: int | None = None) -> Image.Image:
    """The QR symbol at an integer module size, so every module is the same number of dots; 1-bit.
    Raises ValueError when even the minimum module size does not fit max_px."""
    matrix = qr_matrix(data)
    n = len(matrix)
    if module_px is None:
        module_px = max(QR_MIN_MODULE_PX, min(max_module_px, target_px // n))
    if max_px is not None and n * module_px > max_px:
        raise ValueError(f"QR data too long for the paper: {n} modules at {module_px} dots exceed {max_px} dots")
    raw = bytes(0 if dark else 255 for row in matrix for dark in row)
    small = Image.frombytes("L", (n, n), raw)
    return small.resize((n * module_px, n * module_px), Image.Resampling.NEAREST).convert("1", dither=Image.Dither.NONE)


def _qr(block: QrBlock, m: PaperMetrics, fonts: FontSet) -> list[Piece]:
    img = qr_image(block.data, target_px=m.qr_target, max_module_px=m.qr_max_module, max_px=m.width)

    def draw(_d: ImageDraw.ImageDraw, canvas: Image.Image, y: int) -> None:
        canvas.paste(img, ((m.width - img.width) // 2, y))
    pieces = [Piece(img.height, draw)]
    if block.caption:
        pieces += _text(TextBlock(block.caption, size="small"), m, fonts)
    return pieces


@lru_cache(maxsize=256)
def code128_modules(data: str) -> str:
    """The CODE128 bar pattern ("1" = bar) with python-barcode's code set optimisation."""
    return barcode.get_barcode_class("code128")(data).build()[0]


def _barcode(block: BarcodeBlock, m: PaperMetrics, fonts: FontSet) -> list[Piece]:
    modules = code128_modules(block.data)
    module_px = min(4, m.width // (len(modules) + 2 * CODE128_QUIET_MODULES))
    if module_px < 1:
        module_px = 1
        if len(modules) > m.width:
            raise ValueError(f"barcode data too long for the paper: {len(modules)} modules exceed {m.width} dots")
    bars_width = len(modules) * module_px
    height = m.barcode_height

    def draw(d: ImageDraw.ImageDraw, _img: Image.Image, y: int) -> None:
        x0 = (m.width - bars_width) // 2
        start = None
        for i, bit in enumerate(modules + "0"):
            if bit == "1" and start is None:
                start = i
            elif bit == "0" and start is not None:
                d.rectangle((x0 + start * module_px, y, x0 + i * module_px - 1, y + height - 1), fill=INK)
                start = None
    return [Piece(height + m.gap, draw)] + _text(TextBlock(block.data, size="normal"), m, fonts)


# --- rules and spaces ----------------------------------------------------------------------------

def _rule(_block: RuleBlock, m: PaperMetrics, _fonts: FontSet) -> list[Piece]:
    def draw(d: ImageDraw.ImageDraw, _img: Image.Image, y: int) -> None:
        d.rectangle((m.margin, y + m.gap, m.width - m.margin - 1, y + m.gap + m.rule - 1), fill=INK)
    return [Piece(2 * m.gap + m.rule, draw)]


def _space(block: SpaceBlock, _m: PaperMetrics, _fonts: FontSet) -> list[Piece]:
    return [Piece(block.height, lambda d, img, y: None)]


_LAYOUT: dict[type, Callable[[Block, PaperMetrics, FontSet], list[Piece]]] = {
    TextBlock: _text, ColumnsBlock: _columns, NumberBlock: _number, QrBlock: _qr, BarcodeBlock: _barcode,
    RuleBlock: _rule, SpaceBlock: _space,
}


def render_blocks(blocks: Sequence[Block], width_px: int, fonts: FontSet | None = None, *,
                  top: int | None = None, bottom: int | None = None, pad_to: int = BAND) -> Image.Image:
    """Blocks stacked top to bottom on one 1-bit image `width_px` wide, its height rounded up to a
    multiple of `pad_to` (24 by default: one `ESC *` band)."""
    m = paper_metrics(width_px)
    fonts = fonts or default_fonts()
    pieces: list[Piece] = []
    for i, block in enumerate(blocks):
        if i:
            pieces.append(Piece(m.gap, lambda d, img, y: None))
        pieces += _LAYOUT[type(block)](block, m, fonts)
    top = m.top if top is None else top
    bottom = m.bottom if bottom is None else bottom
    height = top + sum(p.height for p in pieces) + bottom
    height = max(pad_to, -(-height // pad_to) * pad_to)
    canvas = Image.new("1", (width_px, height), PAPER)
    draw = ImageDraw.Draw(canvas)
    y = top
    for piece in pieces:
        piece.draw(draw, canvas, y)
        y += piece.height
    return canvas


def render_slip(slip: Slip, width_px: int, fonts: FontSet | None = None) -> Image.Image:
    """The whole slip as it appears on paper (1-bit, white background, black ink)."""
    return render_blocks(slip.blocks, width_px, fonts)
