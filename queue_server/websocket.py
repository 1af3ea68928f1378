"""The server side of RFC 6455 for Engine.IO under gevent's WSGI server.

Engine.IO hands each websocket to a driver: `Driver(handler, server)(environ, start_response)`, then
`send()`, `wait()` and `close()` from its reader loop and its writer greenlet. The driver it ships
with (simple-websocket) runs a reader greenlet of its own beside the request's, duplicates the
socket and parses every frame through wsproto; with 1,000 boards connected that cost the process
about 20 KB and a sizeable share of each event's CPU per board. This one answers the handshake, then
lets the HTTP request end: gevent's handler, its parsed headers and its 8 KB read buffer are freed,
and the connection lives on in a socket of its own, read by one shallow greenlet. What Engine.IO sends
to a client is written to its socket at once, from the greenlet that sends it, instead of through a
queue and a writer greenlet per client; only a client too slow to take it gets a greenlet, while its
backlog drains. It frames what it sends itself and never negotiates an extension: compression would
cost a zlib state per board and a deflate per board per event, for small JSON on a local network.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable

import engineio.socket
import gevent
from engineio import exceptions, packet

log = logging.getLogger(__name__)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
NORMAL, PROTOCOL_ERROR, INVALID_DATA, TOO_BIG = 1000, 1002, 1007, 1009
BACKLOG_LIMIT = 4 * 1024 * 1024   # bytes a client may leave unread before it is dropped


class Closed(Exception):
    """The connection ended: the peer closed it, broke the protocol (`code`), or the socket failed."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(reason or "closed")
        self.code = code


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode("ascii")


def valid_key(key: str) -> bool:
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (binascii.Error, UnicodeEncodeError):
        return False


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (a server never masks)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def _already_read(rfile, sock: socket.socket) -> bytes:  # noqa: ANN001
    """What gevent's reader holds beyond the handshake (a client may send before our 101 reaches it),
    looked at without waiting: with a zero timeout, an empty buffer reads nothing."""
    timeout = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        return rfile.peek(1)
    except OSError:
        return b""
    finally:
        sock.settimeout(timeout)


class GeventWebSocket:
    """Engine.IO's websocket driver interface, for gevent.pywsgi (what `gunicorn -k gevent_pywsgi` runs)."""

    def __init__(self, handler: Callable[[GeventWebSocket], object], server: object) -> None:
        self.app = handler
        self.max_message = getattr(server, "max_http_buffer_size", 1_000_000)
        self._sock: socket.socket | None = None    # Engine.IO sets its ping timeout on this one
        self._pending = bytearray()                # received, not yet parsed
        self.connected = False
        self._backlog: deque[bytes] = deque()       # written, not yet taken by a slow client
        self._backlog_bytes = 0
        self._drainer: gevent.Greenlet | None = None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "")
        rfile = environ.get("wsgi.input")        # for an upgrade, gevent passes its buffered reader itself
        sock = environ.get("gunicorn.sock") or getattr(getattr(rfile, "raw", None), "_sock", None)
        if environ.get("HTTP_SEC_WEBSOCKET_VERSION") != "13" or not valid_key(key) or sock is None:
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Not a WebSocket version 13 handshake."]
        write = start_response("101 Switching Protocols", [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept_key(key))])
        write(b"")                       # gevent sends the 101 now, and knows the connection is upgraded
        self._pending += _already_read(rfile, sock)
        self._sock = sock.dup()          # gevent closes the request's own socket when the request ends
        rfile.close()                    # frees its buffer, and tells gevent to read no next request
        self.connected = True
        gevent.spawn(self._serve)
        return []

    def _serve(self) -> None:
        session = getattr(self.app, "__self__", None)
        try:
            if isinstance(session, engineio.socket.Socket) and not session.connected:
                self._run_session(session)
            else:                        # an upgrade from long-polling: Engine.IO's own loop
                self.app(self)
        finally:
            self.close()
            self._sock.close()
            # Engine.IO forgets a closed socket right after the request that served it; that request
            # ended at the handshake, so do it here (its periodic sweep would, later).
            if session is not None and session.closed:
                session.server.sockets.pop(session.sid, None)

    def _run_session(self, session: engineio.socket.Socket) -> None:
        """Engine.IO's websocket loop for a fresh websocket (engineio 4.15, Socket._websocket_handler),
        with the session's packets written straight to this socket."""
        server = session.server
        queued = []
        while not session.queue.empty():             # the open packet, queued before the handshake
            queued.append(session.queue.get_nowait())
            session.queue.task_done()
        session.queue = _Hangup(self)
        session.send = lambda pkt: self._send_packet(session, pkt)
        session.connected = session.upgraded = True
        self._sock.settimeout(server.ping_interval + server.ping_timeout)
        for pkt in queued:
            if pkt is not None:
                self.send(pkt.encode())
        while True:
            data = self.wait()
            if data is None:
                break
            try:
                session.receive(packet.Packet(encoded_packet=data))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:  # noqa: BLE001 - as Engine.IO does: log, and end this connection only
                log.exception("websocket session %s failed", session.sid)
                break
        session.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)

    def _send_packet(self, session: engineio.socket.Socket, pkt: packet.Packet) -> None:
        if session.check_ping_timeout():             # as Engine.IO's Socket.send
            try:
                self.send(pkt.encode())
            except OSError:
                pass                                 # gone: the reader ends the session

    # Engine.IO's side -------------------------------------------------------------------------------
    def send(self, message: str | bytes) -> None:
        """Written now if the socket takes it, else kept in order for a drainer. Raises OSError once the
        connection is gone (Engine.IO's own writer, on an upgraded connection, then stops)."""
        if not self.connected:
            raise OSError("websocket closed")
        if isinstance(message, str):
            self._write(TEXT, message.encode("utf-8"))
        else:
            self._write(BINARY, bytes(message))

    def wait(self) -> str | bytes | None:
        """The next message, or None once the connection is closed."""
        try:
            return self._receive()
        except Closed as exc:
            if exc.code is not None:
                self._say_goodbye(exc.code)
        except (OSError, ValueError):    # reset, timed out, or the reader was closed under us
            pass
        self.close()
        return None

    def close(self) -> None:
        if not self.connected:
            return
        self._say_goodbye(NORMAL)

    # the protocol --------------------------------------------------------------------------------------
    def _say_goodbye(self, code: int | None) -> None:
        """Sends a close frame with `code` (none if None, or if frames are still waiting to go out),
        then shuts the socket, which wakes the reader."""
        was_connected, self.connected = self.connected, False
        if was_connected and code is not None and not self._backlog:
            try:
                self._sock.send(frame(CLOSE, struct.pack("!H", code)), 0, timeout=0.0)
            except OSError:
                pass
        try:
            self._sock.shutdown(socket.SHUT_RDWR)    # wakes a reader blocked on this socket
        except (OSError, AttributeError):
            pass

    def _write(self, opcode: int, payload: bytes) -> None:
        data = frame(opcode, payload)
        if not self._backlog:
            try:
                sent = self._sock.send(data, 0, timeout=0.0)
            except BlockingIOError:
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        if self._backlog_bytes + len(data) > BACKLOG_LIMIT:
            self._hang_up()
            raise OSError("the client stopped reading")
        self._backlog.append(data)
        self._backlog_bytes += len(data)
        if self._drainer is None:
            self._drainer = gevent.spawn(self._drain)

    def _drain(self) -> None:
        try:
            while self._backlog:
                self._sock.sendall(self._backlog[0])  # waits, up to the socket's timeout
                self._backlog_bytes -= len(self._backlog.popleft())
        except OSError:
            self._hang_up()
        finally:
            self._drainer = None

    def _hang_up(self) -> None:
        """Drops what a client left unread and closes without a close frame (it would queue behind them)."""
        self._backlog.clear()
        self._backlog_bytes = 0
        self._say_goodbye(None)

    def _read(self, n: int) -> bytes:
        while len(self._pending) < n:
            chunk = self._sock.recv(max(4096, min(n - len(self._pending), 1 << 16)))
            if not chunk:
                raise Closed()
            self._pending += chunk
        data = bytes(self._pending[:n])
        if len(self._pending) == n:
            self._pending = bytearray()  # let a large message's buffer go
        else:
            del self._pending[:n]
        return data

    def _receive(self) -> str | bytes:
        parts: list[bytes] = []
        opcode: int | None = None
        size = 0
        while True:
            b0, b1 = self._read(2)
            fin, op, length = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if b0 & 0x70:
                raise Closed(PROTOCOL_ERROR, "reserved bits set: no extension was agreed")
            if not b1 & 0x80:
                raise Closed(PROTOCOL_ERROR, "a client's frames must be masked")
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            if op >= CLOSE and (length > 125 or not fin):
                raise Closed(PROTOCOL_ERROR, "control frames are short and whole")
            if op < CLOSE and size + length > self.max_message:
                raise Closed(TOO_BIG, "message too big")
            mask = self._read(4)
            payload = unmask(self._read(length), mask)
            if op == PING:
                self._write(PONG, payload)
                continue
            if op == PONG:
                continue
            if op == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else NORMAL
                raise Closed(code if 1000 <= code < 5000 else PROTOCOL_ERROR)
            if op == CONTINUATION:
                if opcode is None:
                    raise Closed(PROTOCOL_ERROR, "continuation without a message")
            elif op in (TEXT, BINARY) and opcode is None:
                opcode = op
            else:
                raise Closed(PROTOCOL_ERROR, f"unexpected opcode {op}")
            parts.append(payload)
            size += length
            if fin:
                data = b"".join(parts)
                if opcode == BINARY:
                    return data
                try:
                    return data.decode("utf-8")
                except UnicodeDecodeError:
                    raise Closed(INVALID_DATA, "text that is not UTF-8") from None


class _Hangup:
    """Stands in for a session's packet queue once packets are written directly: Engine.IO puts None
    in it to end the connection (its writer would then close the websocket), and may wait for it."""

    def __init__(self, ws: GeventWebSocket) -> None:
        self.ws = ws

    def put(self, item: object) -> None:
        if item is None:
            self.ws.close()

    def join(self) -> None:
        pass

    def empty(self) -> bool:
        return True


def ping_by_timers() -> None:
    """Engine.IO waits out each client's ping interval in a greenlet of its own: a sleeping greenlet
    (its stack and frames) per connected board. Here a libev timer does the waiting, and a greenlet
    lives only for the moment a ping is queued. Replaces `engineio.socket.Socket.schedule_ping`
    (engineio 4.15, the gevent server only), keeping its contract: one ping per completed cycle."""
    def schedule_ping(session: engineio.socket.Socket) -> None:
        if session.last_ping:
            session.last_ping = None
            timer = gevent.get_hub().loop.timer(session.server.ping_interval)
            session.ping_timer = timer            # keeps the timer alive until it fires
            timer.start(gevent.spawn, _ping, session)

    engineio.socket.Socket.schedule_ping = schedule_ping


def _ping(session: engineio.socket.Socket) -> None:
    session.ping_timer = None
    if not session.closing and not session.closed:
        session.last_ping = time.time()
        session.send(packet.Packet(packet.PING))
