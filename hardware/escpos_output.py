"""Slips to ESC/POS bytes, on python-escpos's `Dummy` printer: rendering never touches a device.

Raster is the default: the whole slip is one image (`GS v 0`, `GS ( L` or `ESC *`, whichever the
printer understands), so Vietnamese prints the same on every model. A profile may hand QR codes and
barcodes to the printer's own commands (a few dozen bytes instead of kilobytes: it matters on
9600-baud serial links), and may print text in the printer's CP1258 code page instead of pixels.
"""
from __future__ import annotations

import contextlib
import copy
import io
import textwrap
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any, Literal, get_args

from escpos.capabilities import Profile, get_profile
from escpos.constants import CODEPAGE_CHANGE, ESC, PAPER_FULL_CUT, PAPER_PART_CUT, QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image

from . import render
from .cp1258 import encode_cp1258
from .fonts import FontSet
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

ImageImpl = Literal["bitImageRaster", "graphics", "bitImageColumn"]
CutMode = Literal["full", "partial"]
IMAGE_IMPLS: tuple[str, ...] = get_args(ImageImpl)
PAPER_WIDTHS = (576, 384)
EPSON_CP1258 = 52          # `ESC t 52` selects WPC1258 on Epson and most clones
FONT_A_DOTS = 12           # width of a font A character: 48 columns on 576 dots, 32 on 384
FONT_B_DOTS = 9
_STDOUT_LOCK = threading.Lock()


@dataclass(frozen=True)
class PrinterProfile:
    """How one printer model wants its bytes. Kept in the kiosk's configuration as plain JSON."""
    paper_width_px: int = 576
    image_impl: ImageImpl = "bitImageRaster"
    native_qr: bool = False
    native_barcode: bool = False
    text_mode: bool = False
    codepage_number: int | None = EPSON_CP1258   # None: leave the printer's code page as configured
    cut: bool = True
    cut_mode: CutMode = "partial"
    feed_lines: int = 4                           # before the cut: clears the tear bar / cutter

    def __post_init__(self) -> None:
        if self.paper_width_px not in PAPER_WIDTHS or isinstance(self.paper_width_px, bool):
            raise ValueError(f"paper_width_px: expected 576 (80 mm) or 384 (58 mm), got {self.paper_width_px!r}")
        if self.image_impl not in IMAGE_IMPLS:
            raise ValueError(f"image_impl: expected one of {', '.join(IMAGE_IMPLS)}, got {self.image_impl!r}")
        for name in ("native_qr", "native_barcode", "text_mode", "cut"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected true or false, got {getattr(self, name)!r}")
        cp = self.codepage_number
        if cp is not None and (not isinstance(cp, int) or isinstance(cp, bool) or not 0 <= cp <= 255):
            raise ValueError(f"codepage_number: expected an integer 0–255 or null, got {cp!r}")
        if self.cut_mode not in get_args(CutMode):
            raise ValueError(f"cut_mode: expected full or partial, got {self.cut_mode!r}")
        if not isinstance(self.feed_lines, int) or isinstance(self.feed_lines, bool) or not 0 <= self.feed_lines <= 255:
            raise ValueError(f"feed_lines: expected an integer 0–255, got {self.feed_lines!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrinterProfile:
        """Strict: a misspelt key in a kiosk's configuration must not silently fall back to a default."""
        if not isinstance(data, Mapping):
            raise ValueError(f"printer profile: expected an object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"printer profile: unknown field(s): {', '.join(unknown)}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fragment_height(width: int, impl: str) -> int:
    """Rows per image command: python-escpos's 960, a whole number of 24-dot bands, and for `GS ( L`
    small enough that the block fits its 16-bit length (python-escpos 3.1 silently truncates the
    length of a 576 × 960 block, 69 130 bytes, and the printer then reads image data as commands)."""
    if impl != "graphics":
        return 960
    return min(960, (0xFFFF - 12) // (width // 8) // 24 * 24)


@lru_cache(maxsize=8)
def _escpos_profile_class(width: int) -> type[Profile]:
    """python-escpos's default (Epson-compatible) profile with our paper width, so `image()` knows
    the media width (else it prints a warning to stdout and cannot check the image fits)."""
    data = copy.deepcopy(get_profile().profile_data)
    data["name"] = f"Motcua{width}"
    data["media"] = {"dpi": 203, "width": {"mm": 80 if width == 576 else 58, "pixels": width}}
    return type(f"Motcua{width}Profile", (Profile,), {"profile_data": data})


def _escpos_profile(width: int) -> Profile:
    cls = _escpos_profile_class(width)
    return cls(features=cls.profile_data["features"])


class _Encoder:
    """One slip on one Dummy printer."""

    def __init__(self, profile: PrinterProfile, fonts: FontSet | None) -> None:
        self.profile = profile
        self.fonts = fonts
        self.width = profile.paper_width_px
        self.p = Dummy(profile=_escpos_profile(self.width))

    # images ------------------------------------------------------------------------------------
    def image(self, img: Image.Image) -> None:
        # Split here rather than in python-escpos: it converts the whole image and then each
        # fragment again (about 8 ms per 576 × 960 dots), the same bytes for twice the time.
        step = fragment_height(self.width, self.profile.image_impl)
        for top in range(0, img.height, step):
            fragment = img.crop((0, top, img.width, min(img.height, top + step)))
            self.p.image(fragment, impl=self.profile.image_impl, high_density_vertical=True,
                         high_density_horizontal=True, fragment_height=step)

    def blocks_as_image(self, blocks: Sequence[Block], first: bool, last: bool) -> None:
        # Only the slip's outer edges get paper margins; pieces between native codes sit tight.
        m = render.paper_metrics(self.width)
        self.image(render.render_blocks(blocks, self.width, self.fonts, top=m.top if first else 0,
                                        bottom=m.bottom if last else 0))

    # native codes ------------------------------------------------------------------------------
    def native_qr(self, block: QrBlock) -> None:
        # The printer picks the version; ours (same data, same level M) tells how many modules wide
        # it will be, so the dot size keeps the symbol and its quiet zone on the paper.
        modules = len(render.qr_matrix(block.data))
        size = max(1, min(6 if self.width >= 576 else 5, self.width // modules))
        self.p.set(align="center")
        self.p.qr(block.data, ec=QR_ECLEVEL_M, size=size, native=True)
        self.p.set(align="left")
        if block.caption:
            self.blocks_as_image([TextBlock(block.caption, size="small")], first=False, last=False)

    def fits_native_barcode(self, block: BarcodeBlock) -> bool:
        # "{B" + data is code set B throughout: start, data, check (11 modules each), stop (13).
        return (11 * (len(block.data) + 2) + 13) * 2 <= self.width

    def native_barcode(self, block: BarcodeBlock) -> None:
        # barcode() announces its renderer with print(); a kiosk's stdout is not the place. The
        # redirect swaps sys.stdout for the whole process, so two encoders must not overlap in it.
        with _STDOUT_LOCK, contextlib.redirect_stdout(io.StringIO()):
            # In ESC/POS CODE128 data "{" starts a code set switch; a literal one is "{{".
            self.p.barcode("{B" + block.data.replace("{", "{{"), "CODE128", height=80 if self.width >= 576 else 64,
                           width=2, pos="BELOW", font="A", align_ct=True, function_type="B")
        self.p.set(align="left")

    # text mode ---------------------------------------------------------------------------------
    def raw(self, data: bytes) -> None:
        self.p._raw(data)

    def line(self, text: str) -> None:
        self.raw(encode_cp1258(text, replacement="?") + b"\n")

    def style(self, size: str, bold: bool, align: str) -> int:
        """Sets the printer's text style; returns the characters per line it leaves."""
        font = "b" if size == "small" else "a"
        self.p.set(align=align, bold=bold, font=font, normal_textsize=size in ("small", "normal"),
                   double_height=size in ("large", "xlarge"), double_width=size == "xlarge")
        cell = FONT_B_DOTS if font == "b" else FONT_A_DOTS
        return self.width // (cell * (2 if size == "xlarge" else 1))

    def text_block(self, block: Block) -> None:
        if isinstance(block, TextBlock):
            columns = self.style(block.size, block.bold, block.align)
            for paragraph in block.text.split("\n"):
                for line in textwrap.wrap(paragraph, columns) or [""]:
                    self.line(line)
        elif isinstance(block, ColumnsBlock):
            columns = self.style(block.size, block.bold, "left")
            lines = textwrap.wrap(block.left, max(1, columns - len(block.right) - 1)) or [""]
            for line in lines[:-1]:
                self.line(line)
            self.line(lines[-1] + " " * max(1, columns - len(lines[-1]) - len(block.right)) + block.right)
        elif isinstance(block, NumberBlock):
            scale = max(1, min(6, int(self.width * 0.9) // (FONT_A_DOTS * len(block.text))))
            self.p.set(align="center", bold=True, font="a", custom_size=True, width=scale, height=scale)
            self.line(block.text)
        elif isinstance(block, RuleBlock):
            self.line("-" * self.style("normal", False, "left"))
        elif isinstance(block, SpaceBlock):
            for chunk in range(0, block.height, 255):      # ESC J n: feed n dots
                self.raw(ESC + b"J" + bytes([min(255, block.height - chunk)]))
        self.p.set_with_default()

    # the slip ----------------------------------------------------------------------------------
    def encode(self, slip: Slip) -> bytes:
        p, profile = self.p, self.profile
        p.hw("INIT")
        if profile.text_mode and profile.codepage_number is not None:
            self.raw(CODEPAGE_CHANGE + bytes([profile.codepage_number]))
        runs = list(self._runs(slip.blocks))
        for i, (kind, blocks) in enumerate(runs):
            if kind == "image":
                self.blocks_as_image(blocks, first=i == 0, last=i == len(runs) - 1)
            elif kind == "qr":
                self.native_qr(blocks[0])
            elif kind == "barcode":
                self.native_barcode(blocks[0])
            else:
                for block in blocks:
                    self.text_block(block)
        if profile.cut:
            p.print_and_feed(profile.feed_lines)
            self.raw(PAPER_FULL_CUT if profile.cut_mode == "full" else PAPER_PART_CUT)
        return p.output

    def _runs(self, blocks: Sequence[Block]) -> Iterator[tuple[str, list[Block]]]:
        """Consecutive blocks that print the same way: one image per run of raster blocks."""
        run_kind, run = "", []
        for block in blocks:
            if isinstance(block, QrBlock) and self.profile.native_qr:
                kind = "qr"
            elif isinstance(block, BarcodeBlock) and self.profile.native_barcode and self.fits_native_barcode(block):
                kind = "barcode"
            elif self.profile.text_mode and not isinstance(block, QrBlock | BarcodeBlock):
                kind = "text"
            else:
                kind = "image"
            if run and (kind != run_kind or kind in ("qr", "barcode")):
                yield run_kind, run
                run = []
            run_kind = kind
            run.append(block)
        if run:
            yield run_kind, run


def encode_slip(slip: Slip, profile: PrinterProfile, fonts: FontSet | None = None) -> bytes:
    """The bytes that print `slip` on a printer described by `profile`: initialise, content, feed,
    cut. A CODE128 too wide for the printer's own barcode command falls back to the image."""
    return _Encoder(profile, fonts).encode(slip)
