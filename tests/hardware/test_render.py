"""The raster slip: right size, readable codes, whole letters, fast enough for a kiosk."""
from __future__ import annotations

import statistics
import time

import pytest
import zxingcpp
from PIL import Image, ImageChops

from hardware.render import code128_modules, paper_metrics, qr_image, qr_matrix, render_blocks, render_slip
from hardware.slip import BarcodeBlock, ColumnsBlock, NumberBlock, QrBlock, Slip, TextBlock

from .conftest import TRACK_URL, demo_ticket

WIDTHS = [576, 384]


def ink_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the black pixels."""
    return ImageChops.invert(img.convert("L")).getbbox()


def read_codes(img: Image.Image) -> list[tuple[str, str]]:
    return [(r.format.name, r.text) for r in zxingcpp.read_barcodes(img.convert("L"))]


@pytest.mark.parametrize("width", WIDTHS)
def test_ticket_image_is_1bit_paper_width_and_band_aligned(width: int) -> None:
    img = render_slip(demo_ticket(), width)
    assert img.mode == "1" and img.width == width
    assert img.height % 24 == 0 and 500 < img.height < 2000
    grey = img.convert("L")
    assert grey.getpixel((0, 0)) == 255 and grey.getpixel((width - 1, img.height - 1)) == 255   # white paper
    x0, y0, x1, y1 = ink_box(img)
    assert x0 >= 1 and x1 <= width - 1 and y0 > 0                                       # nothing cut off


@pytest.mark.parametrize("width", WIDTHS)
def test_ticket_qr_scans_as_the_tracking_url(width: int) -> None:
    assert ("QRCode", TRACK_URL) in read_codes(render_slip(demo_ticket(), width))


@pytest.mark.parametrize("width", WIDTHS)
def test_number_fills_most_of_the_width(width: int) -> None:
    img = render_blocks([NumberBlock("A025")], width)
    x0, y0, x1, y1 = ink_box(img)
    assert x1 - x0 >= 0.75 * width
    assert y1 - y0 >= width * 0.18                    # ≥ 13 mm tall on 80 mm paper


def test_long_numbers_still_fit() -> None:
    img = render_blocks([NumberBlock("10001-UT")], 384)
    x0, _, x1, _ = ink_box(img)
    assert x0 > 0 and x1 < 384


@pytest.mark.parametrize("width", WIDTHS)
def test_stacked_tone_marks_are_not_clipped(width: int) -> None:
    """"Ẫ" and "Ỗ" carry two marks above the cap height; "Ự" a dot below. Each line must hold all
    of its ink: drawn alone, the text's ink sits inside the image with white above and below."""
    for size in ("small", "normal", "large", "xlarge"):
        img = render_blocks([TextBlock("ẪỖỮẶ ỰỴỆ", size=size, bold=True)], width, top=0, bottom=0, pad_to=1)
        _, y0, _, y1 = ink_box(img)
        assert y0 >= 1 and y1 <= img.height - 1, size


@pytest.mark.parametrize("width", WIDTHS)
def test_long_text_wraps_inside_the_margins(width: int) -> None:
    text = "Cấp giấy phép xây dựng nhà ở riêng lẻ; hỗ trợ chi phí mai táng; " * 4 + "Siêu-dài-không-có-khoảng-trắng" * 3
    img = render_blocks([TextBlock(text, align="left")], width)
    m = paper_metrics(width)
    x0, _, x1, _ = ink_box(img)
    assert x0 >= m.margin - 1 and x1 <= width - m.margin + 1
    one_line = render_blocks([TextBlock("Cấp giấy", align="left")], width)
    assert img.height > 5 * one_line.height


def test_columns_put_the_value_on_the_right() -> None:
    img = render_blocks([ColumnsBlock("Số người chờ trước:", "3")], 576, top=0, bottom=0, pad_to=1)
    x0, _, x1, _ = ink_box(img)
    m = paper_metrics(576)
    assert x0 <= m.margin + 2 and x1 >= 576 - m.margin - 2


@pytest.mark.parametrize("width", WIDTHS)
def test_qr_modules_are_whole_dots_of_at_least_four(width: int) -> None:
    m = paper_metrics(width)
    img = qr_image(TRACK_URL, target_px=m.qr_target, max_module_px=m.qr_max_module)
    matrix = qr_matrix(TRACK_URL)
    k, rest = divmod(img.width, len(matrix))
    assert rest == 0 and k >= 4
    assert all(not any(row) for row in matrix[:4])                # quiet zone
    expected = Image.frombytes("L", (len(matrix),) * 2, bytes(0 if dark else 255 for row in matrix for dark in row))
    expected = expected.resize(img.size, Image.Resampling.NEAREST)
    assert ImageChops.difference(img.convert("L"), expected).getbbox() is None


def test_qr_too_long_for_the_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        qr_image("x" * 600, target_px=220, max_module_px=6, max_px=384)


@pytest.mark.parametrize("width", WIDTHS)
def test_code128_scans_as_its_data(width: int) -> None:
    code = "000.00.12.H56-250915-0007"
    img = render_blocks([BarcodeBlock(code)], width)
    assert ("Code128", code) in read_codes(img)


def test_code128_bars_are_whole_dots() -> None:
    modules = code128_modules("A025")
    img = render_blocks([BarcodeBlock("A025")], 576, top=0, bottom=0, pad_to=1)
    grey = img.convert("L")
    row = [grey.getpixel((x, 2)) for x in range(576)]
    first = row.index(0)
    module_px = min(4, 576 // (len(modules) + 20))
    expected = [0 if bit == "1" else 255 for bit in modules for _ in range(module_px)]
    assert row[first:first + len(expected)] == expected


def test_bad_paper_width_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        render_slip(demo_ticket(), 500)


def test_render_time_per_ticket() -> None:
    """The kiosk renders while the citizen waits. bench/render_ticket.py holds the 20 ms floor; this
    guards against regressions with room for a busy test machine."""
    render_slip(demo_ticket(), 576)                    # fonts loaded once, as in a running agent
    samples = []
    for i in range(30):
        slip = demo_ticket(number=f"A{i:03d}", qr_url=f"{TRACK_URL}{i}")   # a new QR each time, as in life
        started = time.perf_counter()
        render_slip(slip, 576 if i % 2 else 384)
        samples.append(time.perf_counter() - started)
    assert statistics.median(samples) * 1000 < 40


def test_render_accepts_every_block_kind() -> None:
    slip = Slip("all", "test", (TextBlock("a"), QrBlock("b", caption="c"), BarcodeBlock("d1"),
                               ColumnsBlock("e", "f"), NumberBlock("G1")))
    assert render_slip(slip, 384).height > 200
