"""Printer URLs and the byte pipes behind them, on real sockets, ptys and files."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hardware.transports import (
    DummyTransport,
    FileTransport,
    SerialTransport,
    TcpTransport,
    TransportUnavailable,
    UsbTransport,
    open_transport,
)

from .conftest import FakeSerialPrinter, FakeTcpPrinter


@pytest.mark.parametrize(("url", "kind", "attrs"), [
    ("usb://04b8:0e28", UsbTransport, {"vendor": 0x04B8, "product": 0x0E28, "in_ep": 0x82, "out_ep": 0x01}),
    ("usb://0416:5011?in_ep=0x81&out_ep=0x02&timeout=2", UsbTransport, {"in_ep": 0x81, "out_ep": 0x02, "timeout": 2}),
    ("serial:///dev/ttyUSB0", SerialTransport, {"port": "/dev/ttyUSB0", "baudrate": 9600, "dsrdtr": False}),
    ("serial:///dev/ttyS1?baudrate=19200&bytesize=7&parity=e&stopbits=2&timeout=3&dsrdtr=1&xonxoff=true",
     SerialTransport, {"port": "/dev/ttyS1", "baudrate": 19200, "bytesize": 7, "parity": "E", "stopbits": 2,
                       "timeout": 3.0, "dsrdtr": True, "xonxoff": True}),
    ("tcp://192.168.1.50:9100?timeout=5", TcpTransport, {"host": "192.168.1.50", "port": 9100, "timeout": 5.0}),
    ("tcp://printer.local", TcpTransport, {"host": "printer.local", "port": 9100, "can_query": True}),
    ("tcp://10.0.0.9:9101?status=0&status_timeout=0.3", TcpTransport, {"can_query": False, "status_timeout": 0.3}),
    ("file:///tmp/printer.bin", FileTransport, {"path": Path("/tmp/printer.bin")}),
    ("file://localhost/dev/usb/lp0", FileTransport, {"path": Path("/dev/usb/lp0")}),
    ("dummy://", DummyTransport, {}),
])
def test_good_urls(url: str, kind: type, attrs: dict) -> None:
    transport = open_transport(url)
    assert isinstance(transport, kind)
    for name, value in attrs.items():
        assert getattr(transport, name) == value, name


@pytest.mark.parametrize(("url", "message"), [
    ("", "expected usb://"),
    ("/dev/usb/lp0", "expected usb://"),
    ("lpt://1", "unknown scheme 'lpt'"),
    ("usb://04b8", "usb://VID:PID"),
    ("usb://04b8:xyz0", "usb://VID:PID"),
    ("usb://04b8:0e28:1", "usb://VID:PID"),
    ("usb://04b8:0e28?baudrate=9600", "unknown parameter 'baudrate'"),
    ("serial://dev/ttyUSB0", "three slashes"),
    ("serial:///dev/ttyUSB0?baudrate=12345", "baudrate"),
    ("serial:///dev/ttyUSB0?baudrate=fast", "expected an integer"),
    ("serial:///dev/ttyUSB0?parity=X", "parity"),
    ("serial:///dev/ttyUSB0?stopbits=3", "stopbits"),
    ("serial:///dev/ttyUSB0?dsrdtr=maybe", "dsrdtr"),
    ("tcp://:9100", "tcp://HOST"),
    ("tcp://host:99999", "port"),
    ("tcp://host:9100/queue", "tcp://HOST"),
    ("tcp://host?timeout=0", "timeout"),
    ("tcp://host?timeout=-1", "timeout"),
    ("tcp://host?timeout=5&timeout=6", "given twice"),
    ("tcp://host#x", "fragments"),
    ("file://server/share/x", "file:///absolute"),
    ("file:///tmp/dir/", "file:///absolute"),
    ("file:///tmp/x?mode=w", "unknown parameter"),
    ("dummy://something", "expected dummy://"),
])
def test_bad_urls_are_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        open_transport(url)


def test_tcp_bytes_arrive_intact(fake_printer: FakeTcpPrinter) -> None:
    payload = bytes(range(256)) * 400                       # every byte value, 100 KB
    transport = open_transport(fake_printer.url)
    transport.write(payload)
    transport.close()
    assert fake_printer.wait_for_bytes(len(payload)) == payload


def test_tcp_connection_refused(closed_port: int) -> None:
    transport = open_transport(f"tcp://127.0.0.1:{closed_port}?timeout=2")
    started = time.monotonic()
    with pytest.raises(TransportUnavailable, match="cannot connect") as err:
        transport.write(b"x")
    assert isinstance(err.value.__cause__, OSError)
    assert time.monotonic() - started < 2


def test_tcp_read_times_out_on_a_silent_printer() -> None:
    with FakeTcpPrinter(silent=True) as printer:
        transport = open_transport(printer.url + "?status_timeout=0.2")
        transport.write(b"\x10\x04\x01")
        started = time.monotonic()
        assert transport.read(1, 0.2) == b""
        assert 0.15 < time.monotonic() - started < 1.0
        transport.close()


def test_serial_bytes_arrive_and_answers_come_back(fake_serial_printer: FakeSerialPrinter) -> None:
    transport = open_transport(fake_serial_printer.url + "?baudrate=115200")
    try:
        transport.write(b"\x1b@hello\n")
        assert fake_serial_printer.wait_for_bytes(8) == b"\x1b@hello\n"
        transport.drain()
        transport.write(b"\x10\x04\x04")
        assert transport.read(1, 2.0) == b"\x12"
    finally:
        transport.close()


def test_serial_missing_device(tmp_path: Path) -> None:
    transport = open_transport(f"serial://{tmp_path}/ttyUSB9")
    with pytest.raises(TransportUnavailable, match="cannot open") as err:
        transport.open()
    assert err.value.__cause__ is not None


def test_usb_without_a_device_is_unavailable() -> None:
    transport = open_transport("usb://ffff:fffe?timeout=1")
    with pytest.raises(TransportUnavailable):
        transport.open()


def test_file_appends(tmp_path: Path) -> None:
    target = tmp_path / "printer.bin"
    target.write_bytes(b"old|")
    for chunk in (b"one|", b"two"):
        transport = open_transport(f"file://{target}")
        transport.write(chunk)
        transport.close()
    assert target.read_bytes() == b"old|one|two"


def test_file_in_a_missing_folder(tmp_path: Path) -> None:
    transport = open_transport(f"file://{tmp_path}/missing/printer.bin")
    with pytest.raises(TransportUnavailable, match="cannot open"):
        transport.write(b"x")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_file_without_permission(tmp_path: Path) -> None:
    target = tmp_path / "ro.bin"
    target.write_bytes(b"")
    target.chmod(0o400)
    with pytest.raises(TransportUnavailable):
        open_transport(f"file://{target}").write(b"x")


def test_dummy_keeps_bytes() -> None:
    transport = open_transport("dummy://")
    transport.write(b"a")
    transport.write(b"b")
    assert isinstance(transport, DummyTransport) and transport.data == b"ab"
