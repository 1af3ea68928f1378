"""EscposTicketPrinter against fake printers that speak real TCP and a real pty."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops

from hardware.escpos_decode import decode
from hardware.escpos_output import PrinterProfile, encode_slip
from hardware.printer import (
    EscposTicketPrinter,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    TicketPrinter,
)
from hardware.render import render_slip
from hardware.slip import Slip

from .conftest import TRACK_URL, FakeSerialPrinter, FakeTcpPrinter, demo_ticket

QUERIES = b"\x10\x04\x01\x10\x04\x04"        # online? paper?


def test_it_is_a_ticket_printer() -> None:
    printer: TicketPrinter = EscposTicketPrinter("dummy://")
    assert isinstance(printer.status(), PrinterStatus)


def test_bad_url_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown scheme"):
        EscposTicketPrinter("ipp://printer")


# --- TCP -------------------------------------------------------------------------------------------

def test_tcp_print_checks_status_then_sends_the_ticket(fake_printer: FakeTcpPrinter, ticket: Slip) -> None:
    printer = EscposTicketPrinter(fake_printer.url)
    result = printer.print_slip(ticket)
    expected = encode_slip(ticket, PrinterProfile())
    received = fake_printer.wait_for_bytes(len(QUERIES) + len(expected))
    assert received == QUERIES + expected
    assert (result.slip_id, result.bytes_sent) == ("ticket-A025", len(expected))
    assert result.status == PrinterStatus(True, "ok", "")
    assert result.duration_ms < 2000


def test_tcp_printed_ticket_reads_back(fake_printer: FakeTcpPrinter, ticket: Slip) -> None:
    EscposTicketPrinter(fake_printer.url, PrinterProfile(paper_width_px=384)).print_slip(ticket)
    out = decode(fake_printer.wait_for_bytes(len(QUERIES) + 20_000))
    assert out.status_queries == [1, 4]
    page = out.page()
    assert ImageChops.difference(page.convert("L"), render_slip(ticket, 384).convert("L")).getbbox() is None
    assert TRACK_URL in [r.text for r in zxingcpp.read_barcodes(page.convert("L"))]


@pytest.mark.parametrize(("paper", "detail"), [("ok", ""), ("near_end", "paper near end")])
def test_tcp_status_paper(fake_printer: FakeTcpPrinter, paper: str, detail: str) -> None:
    fake_printer.paper = paper
    assert EscposTicketPrinter(fake_printer.url).status() == PrinterStatus(True, paper, detail)


def test_tcp_paper_out_refuses_to_print(fake_printer: FakeTcpPrinter, ticket: Slip) -> None:
    fake_printer.paper = "out"
    printer = EscposTicketPrinter(fake_printer.url)
    status = printer.status()
    assert (status.online, status.paper) == (False, "out")
    assert "paper end" in status.detail
    fake_printer.clear()
    with pytest.raises(PaperOut):
        printer.print_slip(ticket)
    time.sleep(0.05)
    assert decode(fake_printer.received).elements == []           # status queries only, no ticket


def test_tcp_near_end_still_prints_and_says_so(fake_printer: FakeTcpPrinter, ticket: Slip) -> None:
    fake_printer.paper = "near_end"
    result = EscposTicketPrinter(fake_printer.url).print_slip(ticket)
    assert result.status.paper == "near_end"
    fake_printer.wait_for_bytes(len(QUERIES) + result.bytes_sent)


def test_tcp_offline_printer_is_not_sent_the_ticket(fake_printer: FakeTcpPrinter, ticket: Slip) -> None:
    fake_printer.online = False                                   # e.g. cover open
    printer = EscposTicketPrinter(fake_printer.url)
    assert printer.status().online is False
    with pytest.raises(PrinterOffline, match="offline"):
        printer.print_slip(ticket)


def test_tcp_silent_printer_is_offline_within_the_timeout(ticket: Slip) -> None:
    with FakeTcpPrinter(silent=True) as fake:
        printer = EscposTicketPrinter(fake.url + "?timeout=2&status_timeout=0.3")
        started = time.monotonic()
        status = printer.status()
        assert time.monotonic() - started < 1.0
        assert (status.online, status.paper) == (False, None) and "no answer" in status.detail
        started = time.monotonic()
        with pytest.raises(PrinterOffline, match="no answer"):
            printer.print_slip(ticket)
        assert time.monotonic() - started < 1.0
        assert fake.wait_for_bytes(6) == b"\x10\x04\x01" * 2         # asked twice, sent nothing else


def test_tcp_printer_that_never_answers_can_be_declared(ticket: Slip) -> None:
    with FakeTcpPrinter(silent=True) as fake:
        printer = EscposTicketPrinter(fake.url + "?status=0")
        assert printer.status() == PrinterStatus(None, None, printer.status().detail)
        result = printer.print_slip(ticket)
        assert fake.wait_for_bytes(result.bytes_sent) == encode_slip(ticket, PrinterProfile())


def test_tcp_closed_port_is_offline(closed_port: int, ticket: Slip) -> None:
    printer = EscposTicketPrinter(f"tcp://127.0.0.1:{closed_port}?timeout=1")
    status = printer.status()
    assert status.online is False and "cannot connect" in status.detail
    with pytest.raises(PrinterOffline) as err:
        printer.print_slip(ticket)
    assert err.value.__cause__ is not None                        # the socket error, chained


def test_tcp_unroutable_host_times_out(ticket: Slip) -> None:
    printer = EscposTicketPrinter("tcp://10.255.255.1:9100?timeout=0.3")   # blackholed: no answer at all
    started = time.monotonic()
    with pytest.raises(PrinterOffline):
        printer.print_slip(ticket)
    assert time.monotonic() - started < 2


def test_tcp_printer_recovers_after_paper_is_loaded(fake_printer: FakeTcpPrinter, ticket: Slip) -> None:
    printer = EscposTicketPrinter(fake_printer.url)
    fake_printer.paper = "out"
    with pytest.raises(PaperOut):
        printer.print_slip(ticket)
    fake_printer.paper = "ok"
    printer.print_slip(ticket)
    assert fake_printer.connections == 2


# --- serial ----------------------------------------------------------------------------------------

def test_serial_print_and_status(fake_serial_printer: FakeSerialPrinter, ticket: Slip) -> None:
    printer = EscposTicketPrinter(fake_serial_printer.url + "?baudrate=115200&timeout=5")
    try:
        assert printer.status() == PrinterStatus(True, "ok", "")
        result = printer.print_slip(ticket)
        received = fake_serial_printer.wait_for_bytes(2 * len(QUERIES) + result.bytes_sent)
        assert received == QUERIES + QUERIES + encode_slip(ticket, PrinterProfile())
        fake_serial_printer.paper = "near_end"
        assert printer.status().paper == "near_end"
        fake_serial_printer.paper = "out"
        with pytest.raises(PaperOut):
            printer.print_slip(ticket)
    finally:
        printer.close()


def test_serial_missing_port_is_offline(tmp_path: Path, ticket: Slip) -> None:
    printer = EscposTicketPrinter(f"serial://{tmp_path}/ttyUSB9")
    assert printer.status().online is False
    with pytest.raises(PrinterOffline):
        printer.print_slip(ticket)


# --- file and dummy --------------------------------------------------------------------------------

def test_file_printer_appends_and_writes_previews(tmp_path: Path, preview_dir: Path) -> None:
    target = tmp_path / "printer.bin"
    printer = EscposTicketPrinter(f"file://{target}", preview_dir=preview_dir)
    first, second = demo_ticket("A025"), demo_ticket("B007", qr_url=TRACK_URL + "b")
    r1 = printer.print_slip(first)
    r2 = printer.print_slip(second)
    assert target.read_bytes() == encode_slip(first, PrinterProfile()) + encode_slip(second, PrinterProfile())
    assert r1.status == PrinterStatus(True, None, r1.status.detail)
    assert r1.preview == preview_dir / "ticket-A025.png" and r2.preview == preview_dir / "ticket-B007.png"
    with Image.open(r2.preview) as png:
        preview = png.convert("L")
    assert preview.width == 576
    assert TRACK_URL + "b" in [r.text for r in zxingcpp.read_barcodes(preview)]
    assert sorted(p.name for p in preview_dir.iterdir()) == ["ticket-A025.png", "ticket-B007.png"]


def test_file_preview_of_a_text_mode_printer(tmp_path: Path, preview_dir: Path, ticket: Slip) -> None:
    profile = PrinterProfile(text_mode=True, native_qr=True, paper_width_px=384)
    result = EscposTicketPrinter(f"file://{tmp_path}/p.bin", profile, preview_dir=preview_dir).print_slip(ticket)
    with Image.open(result.preview) as png:
        preview = png.convert("L")
    assert preview.width == 384 and preview.height > 400
    assert TRACK_URL in [r.text for r in zxingcpp.read_barcodes(preview)]


def test_file_printer_in_a_missing_folder_is_offline(tmp_path: Path, ticket: Slip) -> None:
    with pytest.raises(PrinterOffline):
        EscposTicketPrinter(f"file://{tmp_path}/nowhere/p.bin").print_slip(ticket)


def test_dummy_printer(ticket: Slip) -> None:
    printer = EscposTicketPrinter("dummy://", PrinterProfile(paper_width_px=384, image_impl="bitImageColumn"))
    status = printer.status()
    assert (status.online, status.paper) == (True, None)
    result = printer.print_slip(ticket)
    assert printer.transport.data == encode_slip(ticket, printer.profile)
    assert result.preview is None
    printer.close()


def test_unprintable_slip_sends_nothing(fake_printer: FakeTcpPrinter) -> None:
    from hardware.slip import QrBlock

    slip = Slip("too-big", "test", (QrBlock("x" * 600),))
    with pytest.raises(ValueError, match="too long"):
        EscposTicketPrinter(fake_printer.url, PrinterProfile(paper_width_px=384)).print_slip(slip)
    time.sleep(0.05)
    assert fake_printer.received == b"" and fake_printer.connections == 0


def test_errors_share_one_base() -> None:
    assert issubclass(PaperOut, PrinterError) and issubclass(PrinterOffline, PrinterError)
