"""The server's WebSocket (RFC 6455) under gunicorn + gevent, spoken to byte by byte over a real socket."""
from __future__ import annotations

import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from queue_server.websocket import accept_key, frame, unmask
from tests.server_process import ServerProcess

KEY = "dGhlIHNhbXBsZSBub25jZQ=="     # RFC 6455's own example


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("ws")).running() as proc:
        yield proc


def handshake(server: ServerProcess, headers: str = "", key: str = KEY, version: str = "13", *,
              then: bytes = b"", receive_buffer: int | None = None) -> tuple[socket.socket, bytes]:
    """Sends the upgrade request (and `then` right after it), returns the socket and the response head."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: {version}\r\n"
                  f"Sec-WebSocket-Key: {key}\r\n{headers}\r\n").encode() + then)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    second = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", first, second | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, second | 126, n)
    else:
        head = struct.pack("!BBQ", first, second | 127, n)
    return head + (mask + unmask(payload, mask) if masked else payload)


def send(sock: socket.socket, opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> None:
    sock.sendall(client_frame(opcode, payload, fin=fin, masked=masked))


def receive(sock: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data
    b0, b1 = exactly(2)
    assert b0 & 0x80 and not b0 & 0x70 and not b1 & 0x80      # whole, no extension bits, never masked
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", exactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", exactly(8))[0]
    return b0 & 0x0F, exactly(n)


def opened(server: ServerProcess, **kwargs: str) -> socket.socket:
    sock, head = handshake(server, **kwargs)
    assert head.startswith(b"HTTP/1.1 101 "), head
    opcode, payload = receive(sock)
    assert opcode == 0x1 and payload.startswith(b"0{")           # Engine.IO's open packet
    return sock


def closing_code(sock: socket.socket) -> int:
    while True:
        opcode, payload = receive(sock)
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0]


def test_the_encoding_helpers() -> None:
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="      # RFC 6455, section 1.3
    assert frame(0x1, b"Hello") == b"\x81\x05Hello"                 # RFC 6455, section 5.7
    assert frame(0x2, b"x" * 256)[:4] == b"\x82\x7e\x01\x00"
    assert frame(0x2, b"x" * 65536)[:10] == b"\x82\x7f" + (65536).to_bytes(8, "big")
    assert unmask(b"\x7f\x9f\x4d\x51\x58", b"\x37\xfa\x21\x3d") == b"Hello"


def test_a_handshake_is_accepted_without_compression_and_socket_io_answers(server: ServerProcess) -> None:
    sock, head = handshake(server, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert b"sec-websocket-extensions" not in head.lower()
    opcode, payload = receive(sock)
    assert opcode == 0x1 and json.loads(payload[1:])["pingInterval"] == 25000
    send(sock, 0x1, b"4", fin=False)                                 # Socket.IO connect, in two fragments
    send(sock, 0x0, b"0{}")
    answers = sorted(receive(sock)[1][:14] for _ in range(2))       # the snapshot is sent from the handler
    assert answers[0].startswith(b"40{") and answers[1] == b'42["snapshot",'
    send(sock, 0x9, b"are you there")                                # a ping is answered in kind
    assert receive(sock) == (0xA, b"are you there")
    send(sock, 0x8, struct.pack("!H", 1000))                         # a close is answered and the socket ends
    assert closing_code(sock) == 1000
    assert sock.recv(10) == b""


@pytest.mark.parametrize("version,key", [("8", KEY), ("13", "short"), ("13", "not base64 at all!")])
def test_a_bad_handshake_is_refused_with_400(server: ServerProcess, version: str, key: str) -> None:
    sock, head = handshake(server, key=key, version=version)
    assert head.startswith(b"HTTP/1.1 400 ")
    sock.close()
    opened(server).close()                                           # and the server goes on


def test_an_unmasked_frame_is_a_protocol_error(server: ServerProcess) -> None:
    sock = opened(server)
    send(sock, 0x1, b"40{}", masked=False)
    assert closing_code(sock) == 1002


def test_reserved_bits_and_unknown_opcodes_are_protocol_errors(server: ServerProcess) -> None:
    sock = opened(server)
    send(sock, 0x40 | 0x1, b"40{}")                                  # RSV1: compression nobody agreed to
    assert closing_code(sock) == 1002
    sock = opened(server)
    send(sock, 0x3, b"?")
    assert closing_code(sock) == 1002
    sock = opened(server)
    send(sock, 0x0, b"lonely continuation")
    assert closing_code(sock) == 1002


def test_a_message_over_the_size_limit_is_refused_before_it_is_read(server: ServerProcess) -> None:
    sock = opened(server)
    sock.sendall(struct.pack("!BBQ", 0x81, 0x80 | 127, 50_000_000) + os.urandom(4))   # announced, never sent
    assert closing_code(sock) == 1009


def test_text_that_is_not_utf8_is_refused(server: ServerProcess) -> None:
    sock = opened(server)
    send(sock, 0x1, b"42[\xff\xfe]")
    assert closing_code(sock) == 1007


def test_a_client_that_vanishes_leaves_nothing_behind(server: ServerProcess) -> None:
    for _ in range(20):
        sock = opened(server)
        send(sock, 0x1, b"40{}", fin=False)                          # half a message, then gone
        sock.close()
    sock = opened(server)                                            # still serving
    send(sock, 0x1, b"40{}")
    assert {receive(sock)[1][:3] for _ in range(2)} == {b"40{", b"42["}
    log = Path(server.var_dir / f"server-{server.port}.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def test_a_frame_sent_along_with_the_handshake_is_not_lost(server: ServerProcess) -> None:
    """A client that does not wait for the 101 before its first frame: gevent has already read that frame."""
    sock, head = handshake(server, then=client_frame(0x1, b"40{}"))
    assert head.startswith(b"HTTP/1.1 101 ")
    assert receive(sock)[1].startswith(b"0{")
    assert {receive(sock)[1][:3] for _ in range(2)} == {b"40{", b"42["}


@pytest.fixture(scope="module")
def quick_pings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("pings"),
                       extra_env={"PING_INTERVAL_S": "0.5", "PING_TIMEOUT_S": "1"}).running() as proc:
        yield proc


def test_pings_keep_coming_while_they_are_answered(quick_pings: ServerProcess) -> None:
    sock = opened(quick_pings)
    send(sock, 0x1, b"40{}")
    pings, started = 0, time.monotonic()
    while time.monotonic() - started < 3:
        opcode, payload = receive(sock)
        assert opcode == 0x1
        if payload == b"2":
            pings += 1
            send(sock, 0x1, b"3")
    assert pings >= 4                                                # one each half second, cycle after cycle
    send(sock, 0x1, b'42["resync"]')
    answer = b"2"
    while answer == b"2":
        answer = receive(sock)[1]
    assert answer.startswith(b'42["snapshot",')                     # and the session is alive


def test_a_client_that_stops_answering_pings_is_dropped(quick_pings: ServerProcess) -> None:
    sock = opened(quick_pings)
    send(sock, 0x1, b"40{}")
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        while time.monotonic() - started < 10:
            opcode, _ = receive(sock)
            if opcode == 0x8:
                raise ConnectionError("closed by the server")
    assert time.monotonic() - started < 5                            # interval 0.5 s + timeout 1 s, and a sweep


def slow_reader(server: ServerProcess) -> socket.socket:
    sock, head = handshake(server, receive_buffer=4096)             # a small window: the server must wait
    assert head.startswith(b"HTTP/1.1 101 ")
    assert receive(sock)[1].startswith(b"0{")
    send(sock, 0x1, b"40{}")
    return sock


def test_a_client_that_reads_slowly_gets_everything_in_order(server: ServerProcess) -> None:
    """Snapshots asked for faster than they are read pile up at the server and go out in order."""
    sock = slow_reader(server)
    asked = 1500               # ≈ 3.6 MB of snapshots: the kernel's buffers hold ≈ 2.3 MB, the rest waits in order
    for _ in range(asked):
        send(sock, 0x1, b'42["resync"]')
    snapshots = 0
    while snapshots < asked + 1:                                     # the connect's own, then each asked
        opcode, payload = receive(sock)
        if payload.startswith(b'42["snapshot",'):
            assert json.loads(payload[2:])[1]["office"]["code"] == "demo"   # whole, not interleaved
            snapshots += 1
    assert snapshots == asked + 1


def test_a_client_that_stops_reading_is_dropped_once_4_mb_wait_for_it(server: ServerProcess) -> None:
    """Asks for snapshots (2.3 KB each) and never reads: once the kernel's buffers and 4 MB of backlog
    are full, the server shuts the connection, and what is sent next is refused."""
    sock = slow_reader(server)
    deadline = time.monotonic() + 60
    asked = 0
    with pytest.raises(OSError):                                     # reset or broken pipe
        while time.monotonic() < deadline:
            send(sock, 0x1, b'42["resync"]')
            asked += 1
            time.sleep(0.001)
    assert asked * 2300 > 4_000_000                                  # not before the backlog was full
    opened(server).close()                                           # and the server goes on
