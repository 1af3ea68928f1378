"""ESC/POS bytes, checked byte by byte on python-escpos's Dummy printer (no device, no mocks)."""
from __future__ import annotations

import pytest

from hardware.cp1258 import encode_cp1258
from hardware.escpos_output import PrinterProfile, encode_slip
from hardware.render import qr_matrix, render_slip
from hardware.slip import BarcodeBlock, ColumnsBlock, NumberBlock, QrBlock, RuleBlock, Slip, SpaceBlock, TextBlock

from .conftest import TRACK_URL, demo_ticket

INIT = b"\x1b@"
PARTIAL_CUT, FULL_CUT = b"\x1dV\x01", b"\x1dV\x00"
WIDTHS = [576, 384]


def u16(n: int) -> bytes:
    return bytes([n & 0xFF, n >> 8])


@pytest.mark.parametrize("width", WIDTHS)
def test_raster_is_one_gs_v_0_image_of_the_whole_slip(width: int) -> None:
    slip = demo_ticket(qr_url=None)
    image = render_slip(slip, width)
    assert image.height <= 960                                    # one fragment
    data = encode_slip(slip, PrinterProfile(paper_width_px=width))
    header = b"\x1dv0\x00" + u16(width // 8) + u16(image.height)
    assert data.startswith(INIT + header)
    assert data.count(b"\x1dv0") == 1
    assert len(data) == len(INIT + header) + width // 8 * image.height + len(b"\x1bd\x04" + PARTIAL_CUT)
    assert data.endswith(b"\x1bd\x04" + PARTIAL_CUT)            # feed 4 lines, then cut


@pytest.mark.parametrize("width", WIDTHS)
def test_graphics_mode_stores_then_prints(width: int) -> None:
    slip = demo_ticket(qr_url=None)
    image = render_slip(slip, width)
    data = encode_slip(slip, PrinterProfile(paper_width_px=width, image_impl="graphics"))
    body_len = 10 + width // 8 * image.height                    # m fn a bx by c xL xH yL yH + data
    store = b"\x1d(L" + u16(body_len) + b"0p0\x01\x011" + u16(width) + u16(image.height)
    assert data.startswith(INIT + store)
    assert b"\x1d(L\x02\x0002" in data                            # print the stored graphics


@pytest.mark.parametrize("width", WIDTHS)
def test_column_mode_sends_24_dot_bands(width: int) -> None:
    slip = demo_ticket()
    image = render_slip(slip, width)
    data = encode_slip(slip, PrinterProfile(paper_width_px=width, image_impl="bitImageColumn"))
    band = b"\x1b*\x21" + u16(width)                              # m = 33: 24-dot double density
    assert data.startswith(INIT + b"\x1b3\x10" + band)
    assert data.count(band) == image.height // 24
    assert data.count(band) * (len(band) + 3 * width + 1) < len(data)


LONG = Slip("long", "receipt", tuple(TextBlock(f"Dòng {i}: giấy tờ kèm theo") for i in range(60)))


def test_tall_slips_are_sent_in_fragments() -> None:
    data = encode_slip(LONG, PrinterProfile())
    assert render_slip(LONG, 576).height > 2 * 960
    assert data.count(b"\x1dv0\x00" + u16(72) + u16(960)) >= 2


@pytest.mark.parametrize("width", WIDTHS)
def test_graphics_blocks_fit_their_16_bit_length(width: int) -> None:
    """Each GS ( L store block's length must be the real length (python-escpos truncates >65535)."""
    data = encode_slip(LONG, PrinterProfile(paper_width_px=width, image_impl="graphics"))
    pos, blocks = data.index(b"\x1d(L"), 0
    while data.startswith(b"\x1d(L", pos):                      # store, print, store, print …
        length = data[pos + 3] | data[pos + 4] << 8
        if data[pos + 6] == 0x70:                                  # fn 112: store
            height = data[pos + 13] | data[pos + 14] << 8
            assert length == 10 + width // 8 * height
            blocks += 1
        pos += 5 + length
    assert blocks >= 2


def test_no_cut_when_the_printer_has_no_cutter() -> None:
    data = encode_slip(demo_ticket(), PrinterProfile(cut=False))
    assert b"\x1dV" not in data[-8:] and not data.endswith(PARTIAL_CUT)


def test_full_cut_and_feed_are_configurable() -> None:
    data = encode_slip(demo_ticket(), PrinterProfile(cut_mode="full", feed_lines=7))
    assert data.endswith(b"\x1bd\x07" + FULL_CUT)


def test_native_qr_uses_the_printers_command() -> None:
    slip = Slip("q", "ticket", (TextBlock("Trên"), QrBlock(TRACK_URL, caption="Quét mã"), TextBlock("Dưới")))
    data = encode_slip(slip, PrinterProfile(native_qr=True))
    payload = TRACK_URL.encode()
    store = b"\x1d(k" + u16(len(payload) + 3) + b"1P0" + payload
    centre = data.index(b"\x1ba\x01")
    assert centre < data.index(b"\x1d(k") < data.index(store) < data.index(b"\x1d(k\x03\x001Q0")
    assert b"\x1d(k\x03\x001E1" in data                           # error correction M
    assert data.count(b"\x1dv0") == 3                              # text above, caption, text below


def test_native_barcode_uses_code_set_b(capsys: pytest.CaptureFixture[str]) -> None:
    slip = Slip("b", "receipt", (BarcodeBlock("H56-0007"),))
    data = encode_slip(slip, PrinterProfile(native_barcode=True))
    assert b"\x1dkI\x0a{BH56-0007" in data
    assert b"\x1dH\x02" in data                                    # human-readable text below
    assert capsys.readouterr().out == ""                           # python-escpos's print() is kept quiet


def test_a_literal_brace_is_escaped_for_the_printer() -> None:
    data = encode_slip(Slip("b", "receipt", (BarcodeBlock("a{b"),)), PrinterProfile(native_barcode=True))
    assert b"\x1dkI\x06{Ba{{b" in data


def test_native_barcode_too_wide_for_the_paper_falls_back_to_an_image() -> None:
    slip = Slip("b", "receipt", (BarcodeBlock("000.00.12.H56-250915-0007"),))
    data = encode_slip(slip, PrinterProfile(paper_width_px=384, native_barcode=True))
    assert b"\x1dk" not in data and b"\x1dv0" in data


def test_text_mode_selects_cp1258_and_splits_tone_marks() -> None:
    slip = Slip("t", "ticket", (TextBlock("PHIẾU SỐ THỨ TỰ", size="large", bold=True), NumberBlock("A025"),
                                ColumnsBlock("Số người chờ trước:", "3"), RuleBlock(), SpaceBlock(300)))
    data = encode_slip(slip, PrinterProfile(text_mode=True))
    assert data.startswith(INIT + b"\x1bt\x34")                    # ESC t 52: WPC1258
    assert encode_cp1258("PHIẾU SỐ THỨ TỰ") + b"\n" in data
    assert b"PHI\xca\xecU" in data                                 # Ê + combining acute
    assert b"\x1d!\x55" in data and b"A025\n" in data               # GS ! : 6 × 6 characters
    line = encode_cp1258("Số người chờ trước:") + b" " * 28 + b"3\n"
    assert line in data and len(line) - line.count(b"\xcc") - line.count(b"\xec") - 1 <= 48
    assert b"-" * 48 + b"\n" in data
    assert b"\x1bJ\xff\x1bJ\x2d" in data                           # 300 dots of paper
    assert b"\x1dv0" not in data                                   # no image at all


def test_text_mode_can_leave_the_code_page_alone() -> None:
    data = encode_slip(Slip("t", "test", (TextBlock("Việt"),)), PrinterProfile(text_mode=True, codepage_number=None))
    assert b"\x1bt" not in data and b"Vi\xea\xf2t\n" in data


def test_text_mode_replaces_what_cp1258_cannot_print() -> None:
    data = encode_slip(Slip("t", "test", (TextBlock("Số 😀"),)), PrinterProfile(text_mode=True))
    assert b"S\xf4\xec ?\n" in data


PROFILE = {"paper_width_px": 384, "image_impl": "bitImageColumn", "native_qr": True, "native_barcode": False,
           "text_mode": False, "codepage_number": None, "cut": True, "cut_mode": "full", "feed_lines": 3}


def test_profile_round_trip() -> None:
    assert PrinterProfile.from_dict(PROFILE).to_dict() == PROFILE
    assert PrinterProfile.from_dict({}) == PrinterProfile()


@pytest.mark.parametrize(("change", "message"), [
    ({"paper_width_px": 512}, "paper_width_px"),
    ({"paper_width_px": "576"}, "paper_width_px"),
    ({"image_impl": "raster"}, "image_impl"),
    ({"native_qr": "yes"}, "native_qr"),
    ({"codepage_number": 256}, "codepage_number"),
    ({"codepage_number": True}, "codepage_number"),
    ({"cut_mode": "half"}, "cut_mode"),
    ({"feed_lines": -1}, "feed_lines"),
    ({"paper_widht_px": 576}, "unknown field(s): paper_widht_px"),
])
def test_profile_refuses_bad_settings(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        PrinterProfile.from_dict({**PROFILE, **change})


def test_native_qr_dot_size_keeps_long_data_on_58mm_paper() -> None:
    data = "https://example.invalid/hs/" + "x" * 300
    out = encode_slip(Slip("q", "ticket", (QrBlock(data),)), PrinterProfile(paper_width_px=384, native_qr=True))
    size = out[out.index(b"\x1d(k\x03\x001C") + 7]
    assert 1 <= size < 5 and size * len(qr_matrix(data)) <= 384
