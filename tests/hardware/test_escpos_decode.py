"""Reading printed bytes back: pixel-exact images, scannable codes, and no crash on strange input."""
from __future__ import annotations

import random

import pytest
import zxingcpp
from PIL import Image, ImageChops

from hardware.escpos_decode import Barcode, Cut, Feed, QrCode, RasterImage, code128_text, decode
from hardware.escpos_output import IMAGE_IMPLS, PrinterProfile, encode_slip
from hardware.render import render_slip
from hardware.slip import BarcodeBlock, QrBlock, Slip, TextBlock

from .conftest import TRACK_URL, demo_ticket

WIDTHS = [576, 384]
DOSSIER = "000.00.12.H56-250915-0007"


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def read_codes(img: Image.Image) -> list[tuple[str, str]]:
    return [(r.format.name, r.text) for r in zxingcpp.read_barcodes(img.convert("L"))]


@pytest.mark.parametrize("impl", IMAGE_IMPLS)
@pytest.mark.parametrize("width", WIDTHS)
def test_printed_ticket_decodes_to_the_rendered_image(width: int, impl: str) -> None:
    slip = demo_ticket()
    out = decode(encode_slip(slip, PrinterProfile(paper_width_px=width, image_impl=impl)))
    assert same_pixels(out.page(), render_slip(slip, width))
    assert out.inits == 1 and out.unknown == [] and not out.truncated
    assert out.cuts == [Cut("partial", None, out.cuts[0].offset)]
    assert all(e.scale == (1, 1) for e in out.raster_images)


@pytest.mark.parametrize("impl", IMAGE_IMPLS)
@pytest.mark.parametrize("width", WIDTHS)
def test_qr_on_the_printed_ticket_scans_as_the_tracking_url(width: int, impl: str) -> None:
    page = decode(encode_slip(demo_ticket(), PrinterProfile(paper_width_px=width, image_impl=impl))).page()
    assert ("QRCode", TRACK_URL) in read_codes(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_printed_code128_reads_back_as_its_data(width: int) -> None:
    slip = Slip("receipt-1", "receipt", (TextBlock("Mã hồ sơ:"), BarcodeBlock(DOSSIER)))
    page = decode(encode_slip(slip, PrinterProfile(paper_width_px=width))).page()
    assert ("Code128", DOSSIER) in read_codes(page)


@pytest.mark.parametrize("impl", IMAGE_IMPLS)
def test_tall_slips_reassemble_from_fragments(impl: str) -> None:
    slip = Slip("long", "receipt", tuple(TextBlock(f"{i}. Bản sao giấy khai sinh có chứng thực") for i in range(70)))
    out = decode(encode_slip(slip, PrinterProfile(image_impl=impl)))
    assert same_pixels(out.page(), render_slip(slip, 576))
    assert out.unknown == []


@pytest.mark.parametrize("impl", IMAGE_IMPLS)
def test_arbitrary_pixels_round_trip(impl: str) -> None:
    """Random dots, a height that is not a whole band and a width that is not a whole byte: the
    decoder must not depend on how our renderer happens to lay things out."""
    rng = random.Random(1258)
    width, height = 300, 50
    noise = Image.frombytes("L", (width, height), bytes(rng.choice((0, 255)) for _ in range(width * height)))
    noise = noise.convert("1", dither=Image.Dither.NONE)
    from escpos.printer import Dummy

    printer = Dummy()
    printer.image(noise, impl=impl)
    page = decode(printer.output).page()
    expected = Image.new("1", page.size, 255)                     # column/raster padding is white
    expected.paste(noise, (0, 0))
    assert page.width >= width and page.height >= height
    assert same_pixels(page, expected)


def test_native_qr_payload_and_settings_are_recovered() -> None:
    slip = Slip("q", "ticket", (QrBlock(TRACK_URL, caption="Quét mã"), QrBlock("Mã hồ sơ: " + DOSSIER)))
    out = decode(encode_slip(slip, PrinterProfile(native_qr=True)))
    assert out.qr_payloads == [TRACK_URL, "Mã hồ sơ: " + DOSSIER]
    first = out.qr_codes[0]
    assert (first.text, first.module_size, first.error_correction, first.align) == (TRACK_URL, 6, "M", "center")


def test_native_barcode_is_recovered() -> None:
    out = decode(encode_slip(Slip("b", "receipt", (BarcodeBlock("H56-{0007}"),)), PrinterProfile(native_barcode=True)))
    [barcode] = out.barcodes
    assert (barcode.symbology, barcode.data, barcode.hri, barcode.height, barcode.module_width) == (
        "CODE128", "H56-{0007}", "below", 80, 2)


@pytest.mark.parametrize(("raw", "text"), [
    (b"{BA025", "A025"),
    (b"{B000.00.12.H56-{C\x19\x09\x0f{B-{C\x00\x07", "000.00.12.H56-250915-0007"),
    (b"{A{{x", "{x"),
    (b"{C\x01\x02\x63", "010299"),
])
def test_code128_notation(raw: bytes, text: str) -> None:
    assert code128_text(raw) == text


def test_text_mode_reads_back_as_vietnamese() -> None:
    slip = Slip("t", "ticket", (TextBlock("PHIẾU SỐ THỨ TỰ", bold=True), TextBlock("Buổi: Chiều", align="left")))
    out = decode(encode_slip(slip, PrinterProfile(text_mode=True)))
    assert out.codepages == [52]
    assert out.text == "PHIẾU SỐ THỨ TỰ\nBuổi: Chiều"
    title, session = out.text_lines
    assert (title.align, title.bold, session.align, session.bold) == ("center", True, "left", False)


def test_text_in_the_printers_own_code_page() -> None:
    out = decode(b"\x1b@Gr\x81\xe1e\n", default_codepage="cp437")
    assert out.text == "Grüße"


def test_elements_keep_their_order() -> None:
    data = b"\x1b@abc\n\x1dv0\x00\x01\x00\x01\x00\xff\x1bd\x02\x1dV\x42\x05"
    out = decode(data)
    kinds = [type(e) for e in out.elements]
    assert kinds[:2] != [RasterImage] and kinds[1:] == [RasterImage, Feed, Cut]
    assert out.elements[-1] == Cut("partial", 5, out.elements[-1].offset)
    assert out.text == "abc"


def test_status_queries_are_listed() -> None:
    assert decode(b"\x10\x04\x01\x10\x04\x04").status_queries == [1, 4]


@pytest.mark.parametrize("garbage", [
    b"\x1b\xff\x1d\xfe\x1c\xfd\x10\xfc\x07hello\n",               # unknown ESC / GS / FS / DLE commands
    b"\x1d(Z\x03\x00abc\x1d8Lzz\x01\x00\x00\x00qq",               # unknown length-prefixed functions
    b"\x1d(k\x03\x001Q0",                                          # print QR before storing one
    b"\x1d(L\x02\x0002",                                           # print graphics before storing any
    b"\x1dv0\x00\x48\x00\x10\x00\x00\x00",                         # a raster image cut short
    b"\x1dk\x04ABC",                                               # function A barcode without its NUL
    b"\x1b",                                                       # a lone ESC at the end
    bytes(range(256)) * 4,
])
def test_strange_input_never_crashes(garbage: bytes) -> None:
    out = decode(b"\x1b@" + garbage)
    assert out.inits >= 1
    assert out.unknown or out.truncated or out.text


def test_unknown_commands_are_skipped_not_fatal() -> None:
    out = decode(b"\x1b\xffbefore\n\x1d(Z\x02\x00xy\x1dv0\x00\x01\x00\x01\x00\x80after\n")
    assert [u.note for u in out.unknown] == ["unknown ESC 0xFF", "GS ( Z function (skipped)"]
    assert out.text == "before\nafter"
    assert len(out.images) == 1 and out.images[0].getpixel((0, 0)) == 0


def test_preview_draws_native_codes_text_and_cuts() -> None:
    slip = Slip("p", "ticket", (TextBlock("Số thứ tự"), QrBlock(TRACK_URL), BarcodeBlock("A025")))
    out = decode(encode_slip(slip, PrinterProfile(text_mode=True, native_qr=True, native_barcode=True)))
    assert any(isinstance(e, QrCode) for e in out.elements) and any(isinstance(e, Barcode) for e in out.elements)
    preview = out.preview(width=576)
    assert preview.width == 576
    codes = read_codes(preview)
    assert ("QRCode", TRACK_URL) in codes and ("Code128", "A025") in codes
