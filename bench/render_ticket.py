"""Ticket rendering on the kiosk: render_slip (TrueType text, QR, the big number into one 1-bit
image) and encode_slip (the same plus ESC/POS bytes) per ticket, on 80 mm and 58 mm paper.

    .venv/bin/python bench/render_ticket.py [--tickets 200] [--out bench/out/render_ticket.json] [--strict]

Every ticket gets its own number and tracking URL, so no QR code comes from a cache: the kiosk
prints a new one each time. Writes the JSON result and prints one summary line.
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

from common import OUT_DIR, floor, git_revision, load_average, log, machine, percentiles, write_result

from hardware.escpos_output import PrinterProfile, encode_slip
from hardware.fonts import default_fonts
from hardware.render import render_slip
from hardware.slip import Slip, ticket_slip

NAME = "render_ticket"
FLOOR_RENDER_MS = 20.0      # per ticket, p99, each paper width
WIDTHS = (576, 384)
IMPLS = ("bitImageRaster", "graphics", "bitImageColumn")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"bench/{NAME}.py", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200, help="tickets per paper width (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="tickets rendered first and not measured")
    parser.add_argument("--out", type=Path, default=OUT_DIR / f"{NAME}.json", help="JSON result file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the floor is not met")
    args = parser.parse_args()
    if args.tickets < 1:
        parser.error("--tickets must be at least 1")
    return args


def ticket(i: int, tag: str) -> Slip:
    return ticket_slip(
        office_name="TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG PHƯỜNG BA ĐÌNH",
        office_lines=["Số 10 Phố Đội Cấn, phường Ba Đình, TP. Hà Nội"],
        number=f"{'ABCDEFGH'[i % 8]}{i % 1000:03d}", service_name="Chứng thực bản sao từ bản chính",
        people_ahead=i % 37, issued_text=f"{8 + i % 9:02d}:{i % 60:02d} — 23/11/2026",
        session_text="Buổi: Sáng" if i % 2 else "Buổi: Chiều",
        qr_url=f"https://motcua.example.gov.vn/t/{tag}{i:06d}7f3a9c2e5b1d4e8a",
        footer="Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!", priority_text="Ưu tiên: Người cao tuổi" if i % 5 == 0
        else None,
    )


def measure(width: int, tickets: int, warmup: int) -> dict:
    profile = PrinterProfile(paper_width_px=width)
    for i in range(warmup):
        encode_slip(ticket(i, f"w{width}"), profile)
    render_s, encode_s, sizes, heights = [], [], [], []
    gc.collect()
    for i in range(tickets):
        slip = ticket(i, f"r{width}")
        started = time.perf_counter()
        image = render_slip(slip, width)
        render_s.append(time.perf_counter() - started)
        heights.append(image.height)
        slip = ticket(i, f"e{width}")                       # a fresh QR for the encode run as well
        started = time.perf_counter()
        data = encode_slip(slip, profile)
        encode_s.append(time.perf_counter() - started)
        sizes.append(len(data))
    by_impl = {}
    for impl in IMPLS:                                      # the other image commands, fewer tickets
        samples = []
        for i in range(min(tickets, 50)):
            slip = ticket(i, f"{impl[:3]}{width}")
            started = time.perf_counter()
            encode_slip(slip, PrinterProfile(paper_width_px=width, image_impl=impl))
            samples.append(time.perf_counter() - started)
        by_impl[impl] = percentiles(samples)
    return {"render_ms": percentiles(render_s), "encode_ms": percentiles(encode_s), "encode_by_image_impl_ms": by_impl,
            "bytes": {"min": min(sizes), "max": max(sizes)}, "image_height_px": {"min": min(heights),
                                                                                   "max": max(heights)}}


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    default_fonts().get(25)                                 # font discovery and the glyph check
    cold = ticket(0, "cold")
    t0 = time.perf_counter()
    render_slip(cold, 576)
    cold_ms = (time.perf_counter() - t0) * 1000
    load_before = load_average()
    widths = {}
    for width in WIDTHS:
        log(f"{width} px: {args.tickets} tickets …")
        widths[str(width)] = measure(width, args.tickets, args.warmup)
    floors = {f"render_p99_ms_{w}": floor(widths[str(w)]["render_ms"]["p99"], FLOOR_RENDER_MS, "max") for w in WIDTHS}
    result = {
        "benchmark": NAME, "command": " ".join([".venv/bin/python", "bench/render_ticket.py", *sys.argv[1:]]),
        "git": git_revision(), "machine": machine(),
        "config": {"tickets": args.tickets, "warmup": args.warmup, "fonts": str(default_fonts().paths.regular),
                   "what": "render = render_slip (1-bit image); encode = encode_slip (render + ESC/POS bytes, "
                           "GS v 0 unless stated), one new tracking URL per ticket"},
        "first_render_ms": round(cold_ms, 2),
        "load_average": {"before": load_before, "after": load_average()},
        "widths": widths, "floors": floors, "elapsed_s": round(time.perf_counter() - started, 1),
    }
    write_result(args.out, result)
    print(summary(result), flush=True)
    failed = any(f["pass"] is False for f in floors.values())
    return 1 if args.strict and failed else 0


def summary(result: dict) -> str:
    parts = []
    for width in WIDTHS:
        w = result["widths"][str(width)]
        parts.append(f"{width} px render p50 {w['render_ms']['p50']} p99 {w['render_ms']['p99']} ms, "
                     f"encode p50 {w['encode_ms']['p50']} p99 {w['encode_ms']['p99']} ms")
    verdict = "PASS" if all(f["pass"] for f in result["floors"].values()) else "FAIL"
    return (f"{NAME}: {result['config']['tickets']} tickets/width | " + " | ".join(parts)
            + f" | floor render p99<={FLOOR_RENDER_MS:g} ms {verdict}")


if __name__ == "__main__":
    sys.exit(main())
