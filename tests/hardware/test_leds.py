"""Counter LED displays: Modbus RTU frames checked against the specification's examples, and the
driver talking to display modules over a real pty (and a TCP socket)."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.leds import (
    DummyLedBus,
    LedError,
    LedTimeout,
    LedUnavailable,
    ModbusLedBus,
    NumericProfile,
    RegisterWrite,
    TextProfile,
    crc16_modbus,
    make_profile,
    open_led_bus,
    silence_seconds,
    write_multiple_registers_frame,
    write_single_register_frame,
)

from .modbus_responder import ModbusResponder, PtyLine, Write, crc16_modbus_bitwise

ROOT = Path(__file__).resolve().parents[2]
FAST = "timeout=0.5&retries=0"


@pytest.fixture
def line() -> Iterator[PtyLine]:
    """Two display modules, addresses 1 and 2, on one line."""
    pty_line = PtyLine(addresses=(1, 2)).start()
    yield pty_line
    pty_line.stop()


def frames_of(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def assert_clean(responder: ModbusResponder) -> None:
    """Every request had a good CRC and came after 3.5 character times of silence."""
    assert responder.bad_frames == []
    assert responder.short_gaps == []


# --- CRC and frames: the specification's own examples ------------------------------------------------

@pytest.mark.parametrize(("data", "crc"), [
    (b"123456789", 0x4B37),                                  # the CRC-16/MODBUS check value
    (bytes.fromhex("11 03 00 6B 00 03"), 0x8776),            # read holding registers, sent 76 87
    (bytes.fromhex("11 06 00 01 00 03"), 0x9B9A),            # write single register, sent 9A 9B
    (bytes.fromhex("11 10 00 01 00 02 04 00 0A 01 02"), 0xF0C6),  # write multiple registers, C6 F0
    (bytes.fromhex("11 10 00 01 00 02"), 0x9812),            # its answer, 12 98
    (bytes.fromhex("0A 81 02"), 0x53B0),                     # an exception answer, B0 53
])
def test_crc16_modbus_textbook_vectors(data: bytes, crc: int) -> None:
    assert crc16_modbus(data) == crc
    assert crc16_modbus_bitwise(data) == crc                 # the responder's own CRC agrees


def test_crc_is_sent_low_byte_first() -> None:
    assert write_single_register_frame(0x11, 1, 3) == bytes.fromhex("11 06 00 01 00 03 9A 9B")
    assert write_multiple_registers_frame(0x11, 1, [0x000A, 0x0102]) == bytes.fromhex(
        "11 10 00 01 00 02 04 00 0A 01 02 C6 F0")


def test_number_25_to_address_1() -> None:
    frame = write_single_register_frame(1, 0, 25)
    assert frame[:6] == bytes.fromhex("01 06 00 00 00 19")
    assert crc16_modbus_bitwise(frame[:6]) == int.from_bytes(frame[6:], "little")
    assert frame == bytes.fromhex("01 06 00 00 00 19 48 00")


@pytest.mark.parametrize(("call", "message"), [
    (lambda: write_single_register_frame(0, 0, 1), "address"),
    (lambda: write_single_register_frame(248, 0, 1), "address"),
    (lambda: write_single_register_frame(1, 0, 65536), "register value"),
    (lambda: write_single_register_frame(1, -1, 0), "register"),
    (lambda: write_multiple_registers_frame(1, 0, []), "1 to 123"),
    (lambda: write_multiple_registers_frame(1, 0, [0] * 124), "1 to 123"),
    (lambda: write_multiple_registers_frame(1, 65535, [0, 0]), "past 65535"),
])
def test_frames_refuse_what_modbus_cannot_carry(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_silence_is_three_and_a_half_characters() -> None:
    assert silence_seconds(9600) == pytest.approx(3.5 * 10 / 9600)          # 8N1: 10 bits a character
    assert silence_seconds(9600, "E", 1) == pytest.approx(3.5 * 11 / 9600)  # 8E1: 11 bits
    assert silence_seconds(115200) == pytest.approx(0.00175)                # fixed above 19200 baud


# --- profiles ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("profile", "text", "writes"), [
    (NumericProfile(), "A025", [RegisterWrite(0, (25,)), RegisterWrite(1, (ord("A"),))]),
    (NumericProfile(), "1025", [RegisterWrite(0, (1025,)), RegisterWrite(1, (0,))]),
    (NumericProfile(), " b007 ", [RegisterWrite(0, (7,)), RegisterWrite(1, (ord("B"),))]),
    (NumericProfile(letter_register=None), "1025", [RegisterWrite(0, (1025,))]),
    (NumericProfile(register=10, letter_register=12), "C100", [RegisterWrite(10, (100,)), RegisterWrite(12, (67,))]),
    (TextProfile(), "A025", [RegisterWrite(0, (0x4130, 0x3235), multiple=True)]),
    (TextProfile(), "1025", [RegisterWrite(0, (0x3130, 0x3235), multiple=True)]),
    (TextProfile(), "A25", [RegisterWrite(0, (0x4132, 0x3520), multiple=True)]),
    (TextProfile(width=5), "A0025", [RegisterWrite(0, (0x4130, 0x3032, 0x3520), multiple=True)]),
    (TextProfile(width=2), "7", [RegisterWrite(0, (0x3720,), multiple=True)]),
])
def test_profiles_turn_numbers_into_registers(profile, text: str, writes: list[RegisterWrite]) -> None:
    assert profile.show(text) == writes


def test_functions_numeric_writes_single_registers_text_writes_multiple() -> None:
    assert [w.function for w in NumericProfile().show("A025")] == [0x06, 0x06]
    assert [w.function for w in TextProfile(width=2).show("7")] == [0x10]   # 0x10 even for one register


def test_blink_brightness_and_clear() -> None:
    numeric = NumericProfile(blink_register=5, brightness_register=6, blank=0xFFFF)
    assert numeric.show("A025", blink=True)[-1] == RegisterWrite(5, (1,))
    assert numeric.show("A025")[-1] == RegisterWrite(5, (0,))
    assert numeric.clear() == [RegisterWrite(0, (0xFFFF,)), RegisterWrite(1, (0,)), RegisterWrite(5, (0,))]
    assert numeric.brightness(3) == [RegisterWrite(6, (3,))]
    text = TextProfile(blink_register=8)
    assert text.clear() == [RegisterWrite(0, (0x2020, 0x2020), multiple=True), RegisterWrite(8, (0,))]
    with pytest.raises(ValueError, match="no brightness register"):
        text.brightness(3)
    assert NumericProfile().show("A025", blink=True) == NumericProfile().show("A025")   # no register: ignored


@pytest.mark.parametrize(("profile", "text", "message"), [
    (NumericProfile(), "AB025", "at most one letter"),
    (NumericProfile(), "A", "at most one letter"),
    (NumericProfile(), "", "at most one letter"),
    (NumericProfile(), "A-25", "at most one letter"),
    (NumericProfile(), "65536", "16-bit"),
    (NumericProfile(letter_register=None), "A025", "without a letter register"),
    (TextProfile(), "A0025", "longer than"),
    (TextProfile(), "Á025", "printable ASCII"),
    (TextProfile(), "  ", "printable ASCII"),
])
def test_profiles_refuse_what_the_display_cannot_show(profile, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        profile.show(text)


@pytest.mark.parametrize(("settings", "message"), [
    ({"register": 0, "letter_register": 0}, "overlap"),
    ({"blink_register": 1}, "overlap"),
    ({"register": 70000}, "register"),
])
def test_numeric_profile_settings_are_checked(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NumericProfile(**settings)


def test_text_profile_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="one of the text registers"):
        TextProfile(width=6, blink_register=2)
    with pytest.raises(ValueError, match="width"):
        TextProfile(width=247)
    assert make_profile("numeric", register=4) == NumericProfile(register=4, letter_register=5)
    with pytest.raises(ValueError, match="unknown setting 'width'"):
        make_profile("numeric", width=4)


# --- over a real pty ---------------------------------------------------------------------------------

def test_numeric_a025_and_1025_on_the_wire(line: PtyLine) -> None:
    with open_led_bus(line.url("baudrate=9600&parity=N&stopbits=1&timeout=0.3")) as display:
        display.show(1, "A025")
        assert line.responder.registers[1][:2] == [25, 65]
        display.show(1, "1025")
        assert line.responder.registers[1][:2] == [1025, 0]
    assert line.responder.frames == frames_of([
        "01 06 00 00 00 19 48 00", "01 06 00 01 00 41 18 3A",
        "01 06 00 00 04 01 4A CA", "01 06 00 01 00 00 D8 0A",
    ])
    assert line.responder.writes == [Write(1, 6, 0, (25,)), Write(1, 6, 1, (65,)),
                                      Write(1, 6, 0, (1025,)), Write(1, 6, 1, (0,))]
    assert_clean(line.responder)


def test_text_a025_and_1025_on_the_wire(line: PtyLine) -> None:
    with open_led_bus(line.url("profile=text&width=4")) as display:
        display.show(2, "A025")
        assert line.responder.registers[2][:2] == [0x4130, 0x3235]
        display.show(2, "1025")
        assert line.responder.registers[2][:2] == [0x3130, 0x3235]
        display.clear(2)
        assert line.responder.registers[2][:2] == [0x2020, 0x2020]
    first = bytes.fromhex("02 10 00 00 00 02 04 41 30 32 35")
    assert line.responder.frames[0] == first + crc16_modbus_bitwise(first).to_bytes(2, "little")
    assert [w.function for w in line.responder.writes] == [0x10] * 3
    assert_clean(line.responder)


def test_two_counters_share_one_line(line: PtyLine) -> None:
    display = open_led_bus(line.url(FAST))
    display.show(1, "A025")
    display.show(2, "B107")
    display.clear(1)
    display.close()
    assert line.responder.registers[1][:2] == [0, 0]
    assert line.responder.registers[2][:2] == [107, ord("B")]
    assert [w.values for w in line.responder.writes_to(2)] == [(107,), (66,)]
    assert_clean(line.responder)


def test_concurrent_calls_are_serialised(line: PtyLine) -> None:
    """Counters call at once from several threads: frames must never interleave on the wire, and
    each show's writes go out together."""
    display = open_led_bus(line.url("timeout=0.3"))
    errors: list[BaseException] = []

    def counter(address: int, letter: str) -> None:
        try:
            for n in range(1, 6):
                display.show(address, f"{letter}{n:03d}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=counter, args=args) for args in [(1, "A"), (2, "B"), (1, "C"), (2, "D")]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    display.close()
    assert errors == []
    assert_clean(line.responder)
    assert len(line.responder.writes) == 4 * 5 * 2
    pairs = list(zip(line.responder.writes[::2], line.responder.writes[1::2], strict=True))
    assert all(a.address == b.address and (a.register, b.register) == (0, 1) for a, b in pairs)


def test_bytes_a_terminal_would_translate_pass_unchanged(line: PtyLine) -> None:
    with open_led_bus(line.url(FAST)) as display:
        display.show(1, "3338")                  # 0x0D0A: CR LF
        display.show(1, "4881")                  # 0x1311: XOFF XON
    assert [w.values for w in line.responder.writes_to(1)][::2] == [(0x0D0A,), (0x1311,)]
    assert_clean(line.responder)


def test_blink_and_brightness_registers(line: PtyLine) -> None:
    with open_led_bus(line.url(f"{FAST}&blink_register=2&brightness_register=3")) as display:
        display.show(1, "A025", blink=True)
        display.set_brightness(1, 7)
        assert line.responder.registers[1][:4] == [25, 65, 1, 7]
        display.show(1, "A026")
        assert line.responder.registers[1][:4] == [26, 65, 0, 7]


def test_a_silent_display_times_out(line: PtyLine) -> None:
    line.responder.silent.add(2)
    display = open_led_bus(line.url("timeout=0.1&retries=1"))
    started = time.monotonic()
    with pytest.raises(LedTimeout, match="display 2 did not answer within 0.1 s") as caught:
        display.show(2, "A025")
    elapsed = time.monotonic() - started
    assert caught.value.address == 2 and caught.value.exception_code is None
    assert 0.2 <= elapsed < 1.0                          # two attempts, then it gave up
    assert line.responder.frames == frames_of(["02 06 00 00 00 19 48 33"]) * 2
    display.show(1, "A025")                               # the line is still fine for the others
    assert line.responder.registers[1][:2] == [25, 65]
    display.close()
    assert_clean(line.responder)


def test_an_address_nobody_has_times_out(line: PtyLine) -> None:
    with open_led_bus(line.url("timeout=0.1&retries=0")) as display, pytest.raises(LedTimeout):
        display.show(7, "1")


def test_an_exception_answer_carries_its_code_and_is_not_retried(line: PtyLine) -> None:
    line.responder.exception_for[1] = 0x06
    with open_led_bus(line.url("timeout=0.3&retries=2")) as display:
        with pytest.raises(LedError, match="exception 0x06, server device busy") as caught:
            display.show(1, "A025")
    assert not isinstance(caught.value, LedTimeout)
    assert caught.value.exception_code == 0x06
    assert len(line.responder.frames) == 1


def test_a_register_the_module_lacks_is_illegal_data_address(line: PtyLine) -> None:
    with open_led_bus(line.url(f"{FAST}&register=40")) as display:
        with pytest.raises(LedError, match="illegal data address.*profile") as caught:
            display.show(1, "A025")
    assert caught.value.exception_code == 0x02


def test_a_corrupted_answer_is_a_crc_error_and_is_retried(line: PtyLine) -> None:
    line.responder.corrupt.add(1)
    display = open_led_bus(line.url("timeout=0.3&retries=1"))
    with pytest.raises(LedError, match="CRC mismatch") as caught:
        display.show(1, "A025")
    assert not isinstance(caught.value, LedTimeout) and caught.value.exception_code is None
    assert len(line.responder.frames) == 2                # retried once
    line.responder.corrupt.clear()
    display.show(1, "A025")
    assert line.responder.registers[1][:2] == [25, 65]
    display.close()
    assert_clean(line.responder)


def test_show_safely_never_raises_and_logs_once(line: PtyLine, caplog: pytest.LogCaptureFixture) -> None:
    line.responder.silent.add(1)
    display = open_led_bus(line.url("timeout=0.05&retries=0"))
    caplog.set_level(logging.DEBUG, logger="hardware.leds")
    assert display.show_safely(1, "A025") is False
    assert display.show_safely(1, "A026") is False
    assert display.clear_safely(1) is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "display 1" in warnings[0].getMessage()
    line.responder.silent.clear()
    assert display.show_safely(1, "A027") is True
    assert any(r.levelno == logging.INFO and "works again" in r.getMessage() for r in caplog.records)
    assert display.show_safely(1, "not a number") is False   # a bad number is logged, not raised
    assert display.show_safely(0, "A025") is False           # and so is a bad address
    display.close()


def test_a_missing_port_is_unavailable_until_it_appears(tmp_path: Path) -> None:
    display = open_led_bus(f"modbus://{tmp_path}/ttyUSB9?{FAST}")     # opening nothing yet: no error
    with pytest.raises(LedUnavailable, match="cannot open"):
        display.show(1, "A025")
    assert display.show_safely(1, "A025") is False
    display.close()


def test_the_port_reopens_after_close(line: PtyLine) -> None:
    display = open_led_bus(line.url(FAST))
    display.show(1, "A001")
    display.close()
    display.show(1, "A002")
    display.close()
    assert line.responder.registers[1][:2] == [2, 65]


def test_invalid_input_sends_nothing(line: PtyLine) -> None:
    with open_led_bus(line.url(FAST)) as display:
        for address, text in [(0, "A025"), (248, "A025"), (1, "AB025"), (1, "123456")]:
            with pytest.raises(ValueError):
                display.show(address, text)
    time.sleep(0.05)
    assert line.responder.frames == []


def test_the_responder_catches_framing_faults() -> None:
    """The silence and CRC checks have teeth: frames glued together, or a request right after an
    answer, are caught. At 1200 baud 3.5 characters last 29 ms, so a busy machine cannot hide the
    fault."""
    line = PtyLine(baudrate=1200).start()
    heard = line.responder.wait_for_frames
    try:
        frame = write_single_register_frame(1, 0, 25)
        os.write(line.slave, frame + frame)               # no silence between two frames: one bad frame
        heard(1)
        os.write(line.slave, frame)
        heard(2)
        assert os.read(line.slave, 8) == frame            # the answer (the slave end blocks until it comes)
        os.write(line.slave, frame)                       # at once after the answer
        heard(3)
    finally:
        line.stop()
    assert line.responder.bad_frames == [(frame + frame, "CRC")]
    assert len(line.responder.short_gaps) == 1


# --- other pyserial URLs -----------------------------------------------------------------------------

def test_loop_url_echoes_single_register_writes() -> None:
    """pyserial's loopback answers a write single register with its echo, which is what a module
    answers too: enough for a smoke test without a line."""
    with open_led_bus(f"loop://?{FAST}") as display:
        display.show(5, "A025")


def test_socket_url_to_a_converter() -> None:
    """An RS485-to-Ethernet converter in transparent mode: Modbus RTU frames inside TCP."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        accepted: list[ModbusResponder] = []

        def serve() -> None:
            conn, _ = server.accept()
            accepted.append(ModbusResponder(conn.detach(), addresses=(3,)).start())

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        display = open_led_bus(f"socket://127.0.0.1:{port}?profile=text&timeout=0.3")
        try:
            display.show(3, "A025")
            display.show(3, "B7")
        finally:
            display.close()
        thread.join(timeout=2)
        responder = accepted[0]
        responder.stop()
        os.close(responder.fd)
    assert responder.registers[3][:2] == [0x4237, 0x2020]
    assert [w.values for w in responder.writes] == [(0x4130, 0x3235), (0x4237, 0x2020)]
    assert_clean(responder)


def test_dummy_url_remembers_what_is_shown() -> None:
    display = open_led_bus("dummy://?profile=text&width=6")
    assert isinstance(display, DummyLedBus)
    display.show(4, "A025")
    display.show(5, "B001")
    display.clear(5)
    assert display.shown == {4: "A025"}
    assert display.writes[0] == (4, RegisterWrite(0, (0x4130, 0x3235, 0x2020), multiple=True))
    with pytest.raises(ValueError):
        display.show(4, "TOO LONG")


# --- URLs --------------------------------------------------------------------------------------------

def test_url_settings_reach_the_bus() -> None:
    display = open_led_bus("modbus:///dev/ttyUSB0?baudrate=19200&parity=E&stopbits=1&timeout=0.3&retries=2"
                           "&profile=text&register=8&width=6&blink_register=20")
    assert isinstance(display, ModbusLedBus)
    assert (display.port, display.baudrate, display.parity, display.stopbits) == ("/dev/ttyUSB0", 19200, "E", 1)
    assert (display.timeout, display.retries, display.url) == (0.3, 2, "modbus:///dev/ttyUSB0")
    assert display.profile == TextProfile(register=8, width=6, blink_register=20)
    defaults = open_led_bus("modbus:///dev/serial/by-id/usb-FTDI_FT232R-if00-port0")
    assert isinstance(defaults, ModbusLedBus)
    assert (defaults.baudrate, defaults.parity, defaults.stopbits, defaults.timeout, defaults.retries) == (
        9600, "N", 1, 0.3, 1)
    assert defaults.profile == NumericProfile()
    assert open_led_bus("modbus:///dev/ttyUSB0?letter_register=none").profile == NumericProfile(letter_register=None)
    assert open_led_bus("socket://10.0.0.7:4001").url == "socket://10.0.0.7:4001"
    assert open_led_bus("rfc2217://10.0.0.7:4002?timeout=1").url == "rfc2217://10.0.0.7:4002"


@pytest.mark.parametrize(("url", "message"), [
    ("", "expected modbus:///dev/ttyUSB0"),
    ("/dev/ttyUSB0", "expected modbus:///dev/ttyUSB0"),
    ("serial:///dev/ttyUSB0", "unknown scheme 'serial'"),
    ("modbus://dev/ttyUSB0", "three slashes"),
    ("modbus:///", "three slashes"),
    ("modbus:///dev/ttyUSB0#x", "fragments"),
    ("modbus:///dev/ttyUSB0?baud=9600", "unknown parameter 'baud'"),
    ("modbus:///dev/ttyUSB0?bytesize=7", "unknown parameter 'bytesize'"),
    ("modbus:///dev/ttyUSB0?baudrate=9601", "baudrate"),
    ("modbus:///dev/ttyUSB0?parity=X", "parity"),
    ("modbus:///dev/ttyUSB0?stopbits=3", "stopbits"),
    ("modbus:///dev/ttyUSB0?timeout=0", "timeout"),
    ("modbus:///dev/ttyUSB0?timeout=30", "at most 5"),
    ("modbus:///dev/ttyUSB0?timeout=0.3&timeout=0.5", "given twice"),
    ("modbus:///dev/ttyUSB0?retries=9", "retries"),
    ("modbus:///dev/ttyUSB0?profile=segment", "profile"),
    ("modbus:///dev/ttyUSB0?width=4", "unknown setting 'width'"),
    ("modbus:///dev/ttyUSB0?profile=text&letter_register=1", "unknown setting 'letter_register'"),
    ("modbus:///dev/ttyUSB0?register=65536", "register"),
    ("modbus:///dev/ttyUSB0?register=0&letter_register=0", "overlap"),
    ("modbus:///dev/ttyUSB0?profile=text&width=0", "width"),
    ("socket://10.0.0.7", "socket://HOST:PORT"),
    ("socket://:4001", "socket://HOST:PORT"),
    ("socket://10.0.0.7:port", "socket://HOST:PORT"),
    ("loop://somewhere", "expected loop://"),
    ("dummy://?baudrate=9600", "unknown parameter 'baudrate'"),
])
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_led_bus(url)


def test_does_not_import_the_server_or_flask() -> None:
    code = ("import sys, hardware.leds\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'queue_server', 'flask', 'flask_socketio'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
