"""Reads ESC/POS bytes back: what would this stream put on paper?

No ESC/POS-to-image renderer exists on PyPI, yet both the product and the tests need one: the
file printer writes a PNG preview of each slip by decoding the bytes it wrote (so the preview
shows what a printer would print, not what we meant to print), and the tests read printed
tickets back, scan their QR codes and compare pixels.

Decoded: raster images (`GS v 0`, `GS ( L` / `GS 8 L` graphics, `ESC *` columns) pixel for
pixel; native QR codes (`GS ( k`) and barcodes (`GS k`); cuts (`GS V`); feeds; initialisation;
status queries; text in the selected code page with its alignment and emphasis. Any other
command is skipped (by its known length where there is one) and listed in `unknown`; a
truncated stream ends the decoding with a note instead of an exception.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image, ImageDraw

from .cp1258 import decode_cp1258

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT, FF, NUL = 0x0A, 0x0D, 0x09, 0x0C, 0x00
_INVERT = bytes(255 - i for i in range(256))     # ESC/POS: 1 = ink; Pillow "1": 1 = white
LINE_DOTS = 32                                   # what one `ESC d` line feeds, for previews

# `ESC t n` numbers (Epson) to Python codecs; "cp1258" gets the tone-mark-aware decoder.
CODEPAGES: dict[int, str] = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252",
                             17: "cp866", 18: "cp852", 19: "cp858", 45: "cp1250", 46: "cp1251", 47: "cp1253",
                             48: "cp1254", 49: "cp1255", 50: "cp1256", 51: "cp1257", 52: "cp1258"}
# Fixed-length commands: parameter bytes after the command letter.
_ESC_PARAMS = {
    ord("@"): 0, ord("!"): 1, ord("$"): 2, ord("%"): 1, ord("-"): 1, ord("2"): 0, ord("3"): 1, ord("="): 1,
    ord("?"): 1, ord("E"): 1, ord("G"): 1, ord("J"): 1, ord("K"): 1, ord("L"): 0, ord("M"): 1, ord("R"): 1,
    ord("S"): 0, ord("T"): 1, ord("U"): 1, ord("V"): 1, ord("W"): 8, ord("\\"): 2, ord("a"): 1, ord("c"): 2,
    ord("d"): 1, ord("e"): 1, ord("i"): 0, ord("m"): 0, ord("p"): 3, ord("r"): 1, ord("t"): 1, ord("{"): 1,
    ord(" "): 1, ord("<"): 0, ord("B"): 2, 0x0C: 0,
}
_GS_PARAMS = {
    ord("!"): 1, ord("$"): 2, ord("/"): 1, ord(":"): 0, ord("B"): 1, ord("H"): 1, ord("I"): 1, ord("L"): 2,
    ord("P"): 2, ord("T"): 1, ord("W"): 2, ord("\\"): 2, ord("^"): 3, ord("a"): 1, ord("b"): 1, ord("f"): 1,
    ord("h"): 1, ord("r"): 1, ord("w"): 1, ord("|"): 1, ord("g"): 2, ord("C"): 2,
}
_FS_PARAMS = {ord("p"): 2, ord("!"): 1, ord("&"): 0, ord("."): 0, ord("-"): 1, ord("S"): 2, ord("W"): 1}
BARCODE_TYPES = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
                 65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
                 72: "CODE93", 73: "CODE128", 74: "GS1-128", 75: "GS1 DATABAR OMNIDIRECTIONAL",
                 76: "GS1 DATABAR TRUNCATED", 77: "GS1 DATABAR LIMITED", 78: "GS1 DATABAR EXPANDED"}
Align = Literal["left", "center", "right"]
_ALIGN: dict[int, Align] = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}


@dataclass(frozen=True)
class RasterImage:
    """An image as the printer's dots, black ink = 0; `scale` is the printer's dot enlargement."""
    image: Image.Image
    command: str            # "GS v 0", "GS ( L", "ESC *"
    offset: int
    scale: tuple[int, int] = (1, 1)


@dataclass(frozen=True)
class TextLine:
    text: str
    align: Align = "left"
    bold: bool = False
    font_b: bool = False
    size: tuple[int, int] = (1, 1)          # width and height multipliers


@dataclass(frozen=True)
class QrCode:
    data: bytes
    module_size: int | None
    error_correction: str | None
    align: Align

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Barcode:
    symbology: str
    data: str                   # what a scanner reads (CODE128 code-set notation resolved)
    raw: bytes
    height: int | None
    module_width: int | None
    hri: str                    # "none", "above", "below", "both"
    align: Align


@dataclass(frozen=True)
class Cut:
    mode: Literal["full", "partial"]
    feed: int | None
    offset: int


@dataclass(frozen=True)
class Feed:
    dots: int


@dataclass(frozen=True)
class Unknown:
    offset: int
    command: bytes
    note: str


Element = RasterImage | TextLine | QrCode | Barcode | Cut | Feed


@dataclass
class Printout:
    """Everything a byte stream prints, in order, plus what it asked or set along the way."""
    elements: list[Element] = field(default_factory=list)
    qr_payloads: list[str] = field(default_factory=list)
    inits: int = 0
    status_queries: list[int] = field(default_factory=list)   # DLE EOT n
    codepages: list[int] = field(default_factory=list)        # ESC t n, in order
    unknown: list[Unknown] = field(default_factory=list)
    truncated: bool = False

    @property
    def raster_images(self) -> list[RasterImage]:
        return [e for e in self.elements if isinstance(e, RasterImage)]

    @property
    def images(self) -> list[Image.Image]:
        return [e.image for e in self.raster_images]

    @property
    def barcodes(self) -> list[Barcode]:
        return [e for e in self.elements if isinstance(e, Barcode)]

    @property
    def qr_codes(self) -> list[QrCode]:
        return [e for e in self.elements if isinstance(e, QrCode)]

    @property
    def cuts(self) -> list[Cut]:
        return [e for e in self.elements if isinstance(e, Cut)]

    @property
    def text_lines(self) -> list[TextLine]:
        return [e for e in self.elements if isinstance(e, TextLine)]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.text_lines)

    def page(self) -> Image.Image:
        """The raster images stacked top to bottom, at the printer's dot scale: for a slip printed
        in raster mode, exactly the image that was rendered."""
        images = [_scaled(e) for e in self.raster_images]
        width = max((im.width for im in images), default=8)
        page = Image.new("1", (width, max(1, sum(im.height for im in images))), 255)
        y = 0
        for im in images:
            page.paste(im, (0, y))
            y += im.height
        return page

    def preview(self, width: int | None = None) -> Image.Image:
        """Everything on paper: images, text lines, native QR codes and barcodes drawn the way our
        renderer would, feeds as space and each cut as a dashed line. For humans, not for tests."""
        from . import render
        from .slip import BarcodeBlock, TextBlock

        width = width or max((im.width for im in self.images), default=576)
        strips: list[Image.Image] = []
        for e in self.elements:
            if isinstance(e, RasterImage):
                strips.append(_scaled(e))
            elif isinstance(e, TextLine):
                strips.append(_text_strip(e, width))
            elif isinstance(e, QrCode):
                qr = render.qr_image(e.text, module_px=e.module_size or 3)
                strips.append(_aligned(qr, width, e.align))
            elif isinstance(e, Barcode) and e.symbology == "CODE128" and e.data and e.data.isascii() \
                    and e.data.isprintable():
                strips.append(render.render_blocks([BarcodeBlock(e.data)], width, top=0, bottom=0, pad_to=1))
            elif isinstance(e, Barcode):
                block = TextBlock(f"[{e.symbology}: {e.data}]", size="small")
                strips.append(render.render_blocks([block], width, top=0, bottom=0, pad_to=1))
            elif isinstance(e, Feed):
                strips.append(Image.new("1", (width, max(1, e.dots)), 255))
            elif isinstance(e, Cut):
                cut = Image.new("1", (width, 9), 255)
                for x in range(0, width, 12):
                    cut.paste(0, (x, 4, min(width, x + 6), 5))
                strips.append(cut)
        page = Image.new("1", (width, max(1, sum(s.height for s in strips))), 255)
        y = 0
        for strip in strips:
            page.paste(strip.crop((0, 0, width, strip.height)), (0, y))
            y += strip.height
        return page


def _text_strip(line: TextLine, width: int) -> Image.Image:
    """A text line on the printer's character grid (font A 12 × 24 dots, font B 9 × 17), each
    character centred in its cell, so column layouts look as they will on paper."""
    from .fonts import default_fonts

    wide, tall = line.size
    cell_w = (9 if line.font_b else 12) * wide
    cell_h = (17 if line.font_b else 24) * wide          # drawn at the width's scale, stretched below
    font = default_fonts().get(max(8, round(cell_w * 1.55)), line.bold)
    text = line.text.expandtabs(8)
    strip = Image.new("1", (width, cell_h + 6), 255)
    draw = ImageDraw.Draw(strip)
    used = len(text) * cell_w
    x0 = {"left": 0, "center": (width - used) // 2, "right": width - used}[line.align]
    for i, ch in enumerate(text):
        if not ch.isspace():
            draw.text((x0 + i * cell_w + cell_w // 2, 3 + round(cell_h * 0.78)), ch, font=font, fill=0, anchor="ms")
    if tall != wide:
        strip = strip.resize((width, strip.height * tall // wide), Image.Resampling.NEAREST)
    return strip


def _scaled(e: RasterImage) -> Image.Image:
    if e.scale == (1, 1):
        return e.image
    return e.image.resize((e.image.width * e.scale[0], e.image.height * e.scale[1]), Image.Resampling.NEAREST)


def _aligned(im: Image.Image, width: int, align: Align) -> Image.Image:
    strip = Image.new("1", (max(width, im.width), im.height), 255)
    x = {"left": 0, "center": (width - im.width) // 2, "right": width - im.width}[align]
    strip.paste(im, (max(0, x), 0))
    return strip


def _raster(width_dots: int, height: int, data: bytes) -> Image.Image:
    """Row-major, MSB-first, 1 = ink, each row padded to whole bytes."""
    row_bytes = (width_dots + 7) // 8
    im = Image.frombytes("1", (row_bytes * 8, height), data.translate(_INVERT))
    return im if row_bytes * 8 == width_dots else im.crop((0, 0, width_dots, height))


def code128_text(data: bytes) -> str:
    """ESC/POS CODE128 data to what a scanner reads: "{A"/"{B"/"{C" switch code sets (in C each byte
    is a pair of digits), "{{" is a literal brace, "{1".."{4" are function codes (not text)."""
    out, i, code_set = [], 0, "B"
    while i < len(data):
        b = data[i]
        if b == 0x7B and i + 1 < len(data):
            c = chr(data[i + 1])
            i += 2
            if c in "ABC":
                code_set = c
            elif c == "{":
                out.append("{")
            elif c == "S" and i < len(data):       # shift: the next character from A/B
                out.append(chr(data[i]))
                i += 1
            continue
        out.append(f"{b:02d}" if code_set == "C" else chr(b))
        i += 1
    return "".join(out)


class _Truncated(Exception):
    pass


class _Decoder:
    def __init__(self, data: bytes, default_codepage: str) -> None:
        self.data = data
        self.pos = 0
        self.out = Printout()
        self.default_codepage = default_codepage
        self.reset()
        self.text = bytearray()
        self.columns: list[Image.Image] = []       # ESC * bands of the image being assembled
        self.columns_offset = 0
        self.columns_scale = (1, 1)
        self.graphics: tuple[Image.Image, int, tuple[int, int]] | None = None

    def reset(self) -> None:
        self.codepage = self.default_codepage
        self.align: Align = "left"
        self.bold = False
        self.font_b = False
        self.size = (1, 1)
        self.qr_module: int | None = None
        self.qr_ec: str | None = None
        self.qr_data: bytes | None = None
        self.bc_height: int | None = None
        self.bc_width: int | None = None
        self.bc_hri = "none"

    # byte access ---------------------------------------------------------------------------------
    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _Truncated(f"needs {n} bytes at {self.pos}, stream has {len(self.data) - self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        lo, hi = self.take(2)
        return lo | hi << 8

    def unknown(self, start: int, note: str) -> None:
        self.out.unknown.append(Unknown(start, self.data[start:min(self.pos, start + 16)], note))

    # output --------------------------------------------------------------------------------------
    def flush_text(self, force: bool = False) -> None:
        if self.text or force:
            raw = bytes(self.text)
            if self.codepage == "cp1258":
                text = decode_cp1258(raw)
            else:
                text = codecs.decode(raw, self.codepage, errors="replace")
            self.out.elements.append(TextLine(text, self.align, self.bold, self.font_b, self.size))
            self.text.clear()

    def flush_columns(self) -> None:
        if self.columns:
            width = max(b.width for b in self.columns)
            image = Image.new("1", (width, sum(b.height for b in self.columns)), 255)
            y = 0
            for band in self.columns:
                image.paste(band, (0, y))
                y += band.height
            self.out.elements.append(RasterImage(image, "ESC *", self.columns_offset, self.columns_scale))
            self.columns = []

    def emit(self, element: Element) -> None:
        self.flush_text()
        self.flush_columns()
        self.out.elements.append(element)

    # the loop ------------------------------------------------------------------------------------
    def run(self) -> Printout:
        try:
            while self.pos < len(self.data):
                start = self.pos
                b = self.u8()
                if b == ESC:
                    self.esc(start)
                elif b == GS:
                    self.gs(start)
                elif b == DLE:
                    self.dle(start)
                elif b == FS:
                    self.fs(start)
                elif b in (LF, FF):
                    if self.columns and not self.text:
                        continue                       # ends an ESC * band, not a text line
                    self.flush_text(force=True)
                elif b == HT:
                    self.text += b"\t"
                elif b < 0x20 and b not in (CR, NUL):
                    self.unknown(start, f"control byte 0x{b:02X}")
                elif b >= 0x20:
                    self.flush_columns()
                    self.text.append(b)
        except _Truncated as exc:
            self.out.truncated = True
            self.out.unknown.append(Unknown(self.pos, b"", f"truncated: {exc}"))
        self.flush_text()
        self.flush_columns()
        return self.out

    def esc(self, start: int) -> None:
        c = self.u8()
        if c == ord("*"):
            self.esc_star(start)
            return
        if c in (ord("3"), ord("2")):                  # line spacing: keeps ESC * bands together
            self.take(_ESC_PARAMS[c])
            return
        self.flush_columns()
        if c == ord("@"):
            self.flush_text()
            self.reset()
            self.out.inits += 1
        elif c == ord("!"):
            n = self.u8()
            self.font_b, self.bold = bool(n & 0x01), bool(n & 0x08)
            self.size = (2 if n & 0x20 else 1, 2 if n & 0x10 else 1)
        elif c == ord("E"):
            self.bold = bool(self.u8() & 1)
        elif c == ord("M"):
            self.font_b = self.u8() in (1, 49)
        elif c == ord("a"):
            self.align = _ALIGN.get(self.u8(), "left")
        elif c == ord("t"):
            n = self.u8()
            self.flush_text()
            self.out.codepages.append(n)
            self.codepage = CODEPAGES.get(n, self.default_codepage)
        elif c == ord("d"):
            self.emit(Feed(self.u8() * LINE_DOTS))
        elif c == ord("J"):
            self.emit(Feed(self.u8()))
        elif c == ord("D"):                             # tab positions, NUL-terminated
            while self.u8() != NUL:
                pass
        elif c == ord("&"):                             # user-defined characters
            y, c1, c2 = self.take(3)
            for _ in range(max(0, c2 - c1 + 1)):
                self.take(y * self.u8())
            self.unknown(start, "ESC & user-defined characters (skipped)")
        elif c == ord("("):
            self.take(self.u16())
            self.unknown(start, "ESC ( function (skipped)")
        elif c in _ESC_PARAMS:
            self.take(_ESC_PARAMS[c])
        else:
            self.unknown(start, f"unknown ESC 0x{c:02X}")

    def esc_star(self, start: int) -> None:
        m = self.u8()
        n = self.u16()
        dots = 24 if m in (32, 33) else 8
        data = self.take(n * dots // 8)
        self.flush_text()
        band = Image.frombytes("1", (dots, n), data.translate(_INVERT)).transpose(Image.Transpose.TRANSPOSE)
        scale = (1 if m in (1, 33) else 2, 1 if dots == 24 else 3)
        if self.columns and (band.width != self.columns[0].width or scale != self.columns_scale):
            self.flush_columns()
        if not self.columns:
            self.columns_offset, self.columns_scale = start, scale
        self.columns.append(band)

    def gs(self, start: int) -> None:
        c = self.u8()
        self.flush_columns()
        if c == ord("v"):
            if self.u8() not in (0x30, 0x00):
                self.unknown(start, "GS v: unknown function")
                return
            m = self.u8() % 48
            width_bytes, height = self.u16(), self.u16()
            image = _raster(width_bytes * 8, height, self.take(width_bytes * height))
            self.emit(RasterImage(image, "GS v 0", start, (2 if m & 1 else 1, 2 if m & 2 else 1)))
        elif c in (ord("("), ord("8")):
            self.gs_function(start, c)
        elif c == ord("k"):
            self.gs_k(start)
        elif c == ord("V"):
            m = self.u8()
            if m in (0, 48, 1, 49):
                self.emit(Cut("full" if m in (0, 48) else "partial", None, start))
            elif m in (65, 66, 97, 98, 103, 104):
                self.emit(Cut("full" if m in (65, 97, 103) else "partial", self.u8(), start))
            else:
                self.unknown(start, f"GS V with unknown mode {m}")
        elif c == ord("!"):
            n = self.u8()
            self.size = ((n >> 4) + 1, (n & 0x0F) + 1)
        elif c == ord("h"):
            self.bc_height = self.u8()
        elif c == ord("w"):
            self.bc_width = self.u8()
        elif c == ord("H"):
            self.bc_hri = {0: "none", 1: "above", 2: "below", 3: "both"}.get(self.u8() % 48, "none")
        elif c == ord("*"):
            x, y = self.take(2)
            self.take(x * y * 8)
            self.unknown(start, "GS * downloaded bit image (skipped)")
        elif c in _GS_PARAMS:
            self.take(_GS_PARAMS[c])
        else:
            self.unknown(start, f"unknown GS 0x{c:02X}")

    def gs_function(self, start: int, c: int) -> None:
        """`GS ( X pL pH …` and `GS 8 L p1 p2 p3 p4 …`: length-prefixed, so skippable when unknown."""
        letter = self.u8()
        if c == ord("8"):
            p = self.take(4)
            length = p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24
        else:
            length = self.u16()
        body = self.take(length)
        if letter == ord("L") and len(body) >= 2:
            self.graphics_function(start, body)
        elif letter == ord("k") and len(body) >= 2 and c == ord("("):
            self.code_2d(start, body)
        else:
            self.unknown(start, f"GS {chr(c)} {chr(letter)} function (skipped)")

    def graphics_function(self, start: int, body: bytes) -> None:
        fn = body[1]
        if fn == 112 and len(body) >= 10:              # store raster graphics
            bx, by = body[3], body[4]
            width, height = body[6] | body[7] << 8, body[8] | body[9] << 8
            data = body[10:]
            if len(data) < (width + 7) // 8 * height:
                self.unknown(start, "GS ( L: graphics data shorter than its header says")
                return
            self.graphics = (_raster(width, height, data[:(width + 7) // 8 * height]), start, (bx, by))
        elif fn in (50, 2):                             # print the stored graphics
            if self.graphics is None:
                self.unknown(start, "GS ( L print without stored graphics")
                return
            image, offset, scale = self.graphics
            self.emit(RasterImage(image, "GS ( L", offset, scale))
            self.graphics = None
        else:
            self.unknown(start, f"GS ( L function {fn} (skipped)")

    def code_2d(self, start: int, body: bytes) -> None:
        cn, fn = body[0], body[1]
        if cn != 49:
            self.unknown(start, f"GS ( k symbol type {cn} (skipped)")
            return
        if fn == 67 and len(body) >= 3:
            self.qr_module = body[2]
        elif fn == 69 and len(body) >= 3:
            self.qr_ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(body[2])
        elif fn == 80 and len(body) >= 3:
            self.qr_data = body[3:]
            self.out.qr_payloads.append(self.qr_data.decode("utf-8", errors="replace"))
        elif fn == 81:
            if self.qr_data is None:
                self.unknown(start, "GS ( k print without stored QR data")
                return
            self.emit(QrCode(self.qr_data, self.qr_module, self.qr_ec, self.align))
        elif fn != 65:                                  # 65: model, nothing to keep
            self.unknown(start, f"GS ( k QR function {fn} (skipped)")

    def gs_k(self, start: int) -> None:
        m = self.u8()
        if m <= 6:
            end = self.data.find(b"\x00", self.pos)
            if end < 0:
                raise _Truncated("GS k data without its NUL terminator")
            raw = self.take(end - self.pos)
            self.pos += 1
        else:
            raw = self.take(self.u8())
        symbology = BARCODE_TYPES.get(m, f"type {m}")
        text = code128_text(raw) if symbology in ("CODE128", "GS1-128") else raw.decode("ascii", errors="replace")
        self.emit(Barcode(symbology, text, raw, self.bc_height, self.bc_width, self.bc_hri, self.align))

    def dle(self, start: int) -> None:
        c = self.u8()
        if c == 0x04:
            self.out.status_queries.append(self.u8())
        elif c == 0x05:
            self.u8()
        elif c == 0x14:
            fn = self.u8()
            self.take({7: 1, 8: 7}.get(fn, 2))
        else:
            self.unknown(start, f"unknown DLE 0x{c:02X}")

    def fs(self, start: int) -> None:
        c = self.u8()
        if c in _FS_PARAMS:
            self.take(_FS_PARAMS[c])
        elif c == ord("("):
            self.take(self.u16())
            self.unknown(start, "FS ( function (skipped)")
        else:
            self.unknown(start, f"unknown FS 0x{c:02X}")


def decode(data: bytes, default_codepage: str = "cp437") -> Printout:
    """Decode an ESC/POS stream. `default_codepage` is the printer's code page before any `ESC t`."""
    return _Decoder(bytes(data), default_codepage).run()
