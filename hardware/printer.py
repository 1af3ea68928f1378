"""The ticket printer role and its ESC/POS implementation.

The agent knows only `TicketPrinter`: print a slip, ask for the status, close. It must never hang
on a printer (a citizen is standing at the kiosk), so every wait is bounded by the transport's
time limits, and every failure is one of three exceptions the agent can act on: PaperOut (call
staff), PrinterOffline (not reachable or not answering), PrinterError (anything else).
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from .escpos_decode import decode
from .escpos_output import PrinterProfile, encode_slip
from .fonts import FontSet
from .slip import Slip
from .transports import (
    DummyTransport,
    FileTransport,
    Transport,
    TransportError,
    TransportTimeout,
    TransportUnavailable,
    open_transport,
)

log = logging.getLogger(__name__)

Paper = Literal["ok", "near_end", "out"]

DLE_EOT = b"\x10\x04"
# Every DLE EOT answer has bits 1 and 4 set and bits 0 and 7 clear: anything else on the line
# (XON/XOFF, automatic status back, noise) is not the answer.
_STATUS_FIXED_MASK, _STATUS_FIXED_BITS = 0x93, 0x12


class PrinterError(Exception):
    """The printer could not print the slip."""


class PrinterOffline(PrinterError):
    """Not reachable, not answering, or reporting itself offline (cover open, error)."""


class PaperOut(PrinterError):
    """The printer says it has no paper; nothing was sent."""


@dataclass(frozen=True)
class PrinterStatus:
    """online/paper None mean "cannot tell" (files, dummies, printers that never answer)."""
    online: bool | None
    paper: Paper | None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PrintResult:
    slip_id: str
    bytes_sent: int
    duration_ms: float
    status: PrinterStatus               # as checked just before sending (paper "near_end": warn staff)
    preview: Path | None = None


class TicketPrinter(Protocol):
    def print_slip(self, slip: Slip) -> PrintResult: ...

    def status(self) -> PrinterStatus: ...

    def close(self) -> None: ...


def parse_paper(status_byte: int) -> Paper:
    """DLE EOT 4 (roll paper sensor): bits 5–6 paper end, bits 2–3 near end."""
    if status_byte & 0x60:
        return "out"
    if status_byte & 0x0C:
        return "near_end"
    return "ok"


def offline_causes(status_byte: int) -> list[str]:
    """DLE EOT 2 (offline cause)."""
    causes = []
    if status_byte & 0x04:
        causes.append("cover open")
    if status_byte & 0x08:
        causes.append("paper being fed by the FEED button")
    if status_byte & 0x20:
        causes.append("printing stopped: paper end")
    if status_byte & 0x40:
        causes.append("error")
    return causes


class EscposTicketPrinter:
    """An ESC/POS printer behind a URL (see transports). Slips are encoded before the printer is
    touched, so a slip that cannot be rendered never leaves half a ticket on paper.

    With `preview_dir`, each printed slip is also decoded back from the bytes sent and saved as
    `<preview_dir>/<slip id>.png`: with a file:// printer that is the way to see tickets without
    paper; with a real printer it shows what the printer was asked to print.
    """

    def __init__(self, url: str, profile: PrinterProfile | None = None,
                 preview_dir: str | os.PathLike[str] | None = None, fonts: FontSet | None = None) -> None:
        self.url = url
        self.profile = profile or PrinterProfile()
        self.transport: Transport = open_transport(url)     # ValueError on a bad URL, before any I/O
        self.preview_dir = Path(preview_dir) if preview_dir is not None else None
        self.fonts = fonts
        self._lock = threading.Lock()

    # public ----------------------------------------------------------------------------------------
    def print_slip(self, slip: Slip) -> PrintResult:
        data = encode_slip(slip, self.profile, self.fonts)
        started = time.perf_counter()
        with self._lock:
            try:
                self.transport.open()
                status = self._query() if self.transport.can_query else self._unqueried()
                if status.paper == "out":
                    raise PaperOut(f"{self.transport.url}: out of paper; nothing was sent")
                if status.online is False:
                    raise PrinterOffline(f"{self.transport.url}: {status.detail}; nothing was sent")
                self.transport.write(data)
            except (TransportUnavailable, TransportTimeout) as exc:
                self._reset()
                raise PrinterOffline(str(exc)) from exc
            except TransportError as exc:
                self._reset()
                raise PrinterError(str(exc)) from exc
            except PrinterError:
                self._reset()
                raise
            self._finish()
        duration = (time.perf_counter() - started) * 1000
        return PrintResult(slip.id, len(data), round(duration, 1), status, self._write_preview(slip, data))

    def status(self) -> PrinterStatus:
        """Never raises for I/O: an unreachable printer is reported offline, with the reason."""
        if not self.transport.can_query:
            return self._unqueried()
        with self._lock:
            try:
                self.transport.open()
                status = self._query()
            except TransportError as exc:
                self._reset()
                return PrinterStatus(False, None, str(exc))
            self._finish()
            return status

    def close(self) -> None:
        with self._lock:
            self.transport.close()

    # status ----------------------------------------------------------------------------------------
    def _unqueried(self) -> PrinterStatus:
        if isinstance(self.transport, FileTransport | DummyTransport):
            return PrinterStatus(True, None, "a file printer has no status to report")
        return PrinterStatus(None, None, "status unknown: status queries are switched off (status=0)")

    def _status_byte(self, n: int) -> int | None:
        """Sends DLE EOT n and waits (status_timeout) for a well-formed answer byte."""
        self.transport.drain()
        self.transport.write(DLE_EOT + bytes([n]))
        deadline = time.monotonic() + self.transport.status_timeout
        while (left := deadline - time.monotonic()) > 0:
            chunk = self.transport.read(1, left)
            if not chunk:
                return None
            if chunk[0] & _STATUS_FIXED_MASK == _STATUS_FIXED_BITS:
                return chunk[0]
        return None

    def _query(self) -> PrinterStatus:
        printer = self._status_byte(1)
        if printer is None:
            return PrinterStatus(False, None, f"no answer to a status query within {self.transport.status_timeout:g} s "
                                              "(a printer that never answers needs status=0 in its URL)")
        paper_byte = self._status_byte(4)
        paper = parse_paper(paper_byte) if paper_byte is not None else None
        if not printer & 0x08:
            return PrinterStatus(True, paper, "paper near end" if paper == "near_end" else "")
        cause = self._status_byte(2)
        causes = offline_causes(cause) if cause is not None else []
        return PrinterStatus(False, paper, "offline: " + (", ".join(causes) or "reason not reported"))

    # sessions and previews ---------------------------------------------------------------------------
    def _finish(self) -> None:
        if not self.transport.keep_open:
            self.transport.close()

    def _reset(self) -> None:
        """After a failure the pipe is in an unknown state: the next operation starts afresh."""
        try:
            self.transport.close()
        except Exception:  # closing a broken pipe must not hide the original error
            log.debug("closing %s after an error failed", self.transport.url, exc_info=True)

    def _write_preview(self, slip: Slip, data: bytes) -> Path | None:
        if self.preview_dir is None:
            return None
        try:
            codepage = "cp1258" if self.profile.text_mode and self.profile.codepage_number is None else "cp437"
            image = decode(data, default_codepage=codepage).preview(width=self.profile.paper_width_px)
            self.preview_dir.mkdir(parents=True, exist_ok=True)
            target = self.preview_dir / f"{slip.id}.png"
            fd, tmp = tempfile.mkstemp(prefix=f".{slip.id}.", suffix=".png", dir=self.preview_dir)
            with os.fdopen(fd, "wb") as f:
                image.save(f, format="PNG")
            os.replace(tmp, target)       # a viewer never sees half a file
            return target
        except Exception:  # the slip is printed; a preview problem must not turn that into a failure
            log.warning("could not write the preview of slip %s", slip.id, exc_info=True)
            return None
