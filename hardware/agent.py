"""The hardware agent on a kiosk box: receives print jobs over Socket.IO, prints, acknowledges.

    python -m hardware.agent --server http://10.0.0.2:5000 --kiosk kiosk-1 --token TOKEN \
        --printer tcp://192.168.1.50:9100

At a counter, it also (or only) forwards a USB rating keypad's presses to the server, which rates
the counter's last visit; the token for that is a rating device token of that counter:

    python -m hardware.agent --server http://10.0.0.2:5000 --token RATING_DEVICE_TOKEN \
        --rating-keypad 'evdev:///dev/input/by-id/usb-…-event-kbd?map=1:very_satisfied,2:satisfied,3:unsatisfied'

Every option also comes from the environment (MOTCUA_SERVER, MOTCUA_KIOSK, MOTCUA_AGENT_TOKEN,
MOTCUA_PRINTER, MOTCUA_PRINTER_PROFILE, MOTCUA_AGENT_STATE, MOTCUA_RATING_KEYPAD, MOTCUA_RATING_TOKEN).
The agent reconnects by itself with backoff, reports the printer's state on change and on a poll,
and prints each job once.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import queue
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__":
    # Run as the agent: python-socketio imports the redis package whenever it is installed (the
    # server needs it for MESSAGE_QUEUE_URL), 6 MB of the agent's memory for a client it never makes.
    # Imported into another program, the module leaves that program's imports alone.
    sys.modules.setdefault("redis", None)

import socketio

from .escpos_output import PrinterProfile
from .journal import FAILED, PRINTED, PRINTING, UNCERTAIN, Journal
from .leds import CounterLedDisplays, open_led_bus
from .printer import EscposTicketPrinter, PaperOut, PrinterError, PrinterOffline, TicketPrinter
from .rating_keypad import Choice, KeypadError, RatingKeypad, open_rating_keypad
from .scanners import BarcodeReader, ScannerError, open_reader
from .slip import Slip

log = logging.getLogger("motcua.agent")


@dataclass
class AgentSettings:
    server: str
    kiosk: str | None          # None: no kiosk printer here (a counter's rating keypad alone)
    token: str
    printer: str
    profile: dict
    state_dir: Path
    poll_s: float = 15.0
    preview_dir: Path | None = None
    scanner: str | None = None
    leds: str | None = None
    rating_keypad: str | None = None
    rating_token: str | None = None   # the counter's rating device token; --token when absent


class Agent:
    """Owns the Socket.IO connection, a print worker thread and a printer status poller (when it serves
    a kiosk's printer), and the readers of the devices plugged into its box."""

    def __init__(self, settings: AgentSettings, printer: TicketPrinter | None, journal: Journal | None,
                 scanner: BarcodeReader | None = None, leds: CounterLedDisplays | None = None,
                 keypad: RatingKeypad | None = None) -> None:
        if settings.kiosk is not None and (printer is None or journal is None):
            raise ValueError("an agent serving a kiosk needs its printer and journal")
        self.settings = settings
        self.printer = printer if settings.kiosk is not None else None
        self.journal = journal if settings.kiosk is not None else None
        self.scanner = scanner
        self.leds = leds
        self.keypad = keypad
        self.last_rating: dict | None = None     # the server's answer to the last keypad press
        self._led_updates: queue.Queue[tuple[int, str | None] | None] = queue.Queue()
        self.jobs: queue.Queue[dict | None] = queue.Queue()
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=10,
                                   handle_sigint=False)
        self._stop = threading.Event()
        self._poll_now = threading.Event()
        self._threads: list[threading.Thread] = []
        self._handlers = {"print_job_created": self._on_job}
        if leds is not None:
            self._handlers.update(ticket_called=self._on_called, counter_changed=self._on_counter)
        self.sio.on("connect", self._on_connect)
        for name, handler in self._handlers.items():
            self.sio.on(name, handler)
        self.sio.on("events_published", self._on_events)

    # lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        printing = self.journal is not None
        for job_id in self.journal.interrupted() if self.journal is not None else []:
            # The process died while these bytes were going out: never print them again blindly.
            log.warning("job %s was interrupted by a crash; reporting it as uncertain", job_id)
            self.journal.mark(job_id, UNCERTAIN, "uncertain", "agent stopped while printing")
        for target in (*([self._work, self._poll] if printing else []),
                       *([self._drive_leds] if self.leds is not None else [])):
            thread = threading.Thread(target=target, daemon=True, name=f"agent-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        if self.scanner is not None:
            self.scanner.start(self.forward_scan, lambda err: log.warning("scanner: %s", err))
        if self.keypad is not None:
            self.keypad.start(self.forward_rating, self._keypad_error)
        auth = {"token": self.settings.token}
        if self.settings.kiosk is not None:
            auth["agent_for"] = self.settings.kiosk
        self.sio.connect(self.settings.server, auth=auth, transports=["websocket"], wait_timeout=10, retry=True)

    def stop(self) -> None:
        self._stop.set()
        if self.scanner is not None:
            self.scanner.stop()
        if self.keypad is not None:
            self.keypad.stop()
        self._poll_now.set()
        self.jobs.put(None)
        self._led_updates.put(None)
        self.sio.disconnect()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.printer is not None:
            self.printer.close()
        if self.journal is not None:
            self.journal.close()
        if self.leds is not None:
            self.leds.close()

    def wait(self) -> None:
        self._stop.wait()

    # socket handlers ---------------------------------------------------------------
    def _on_connect(self) -> None:
        if self.journal is None:
            log.info("connected to %s (no kiosk printer here)", self.settings.server)
            return
        log.info("connected to %s as the agent of %s", self.settings.server, self.settings.kiosk)
        self._poll_now.set()
        threading.Thread(target=self._flush_results, daemon=True).start()

    def _on_events(self, items: object) -> None:
        """What one action published arrives as one message, [[name, payload], …] in order."""
        for item in items if isinstance(items, list) else []:
            if isinstance(item, list) and len(item) == 2 and item[0] in self._handlers:
                self._handlers[item[0]](item[1])

    def _on_job(self, payload: dict) -> None:
        job = payload.get("job") if isinstance(payload, dict) else None
        if isinstance(job, dict) and isinstance(job.get("id"), int):
            self.jobs.put(job)

    def forward_scan(self, text: str) -> None:
        """A scan goes to the server, which shows the dossier on this kiosk's page."""
        if not self.sio.connected:
            log.warning("a scan arrived while the server is unreachable; it was dropped")
            return
        try:
            self.sio.emit("scan", {"text": text})
        except socketio.exceptions.SocketIOError as exc:
            log.warning("scan not delivered: %s", exc)

    # rating keypad -------------------------------------------------------------------
    def forward_rating(self, choice: Choice) -> None:
        """A key on the counter's rating keypad: the server rates the counter's last visit with it."""
        if not self.sio.connected:
            log.warning("a rating key (%s) was pressed while the server is unreachable; it was dropped", choice)
            return
        body = {"token": self.settings.rating_token or self.settings.token, **choice.event()}
        try:
            self.sio.emit("rating_key", body, callback=self._rated)
        except socketio.exceptions.SocketIOError as exc:
            log.warning("rating key not delivered: %s", exc)

    def _rated(self, answer: object = None) -> None:
        self.last_rating = answer if isinstance(answer, dict) else {"ok": False}
        if self.last_rating.get("ok"):
            rating = self.last_rating.get("rating") or {}
            log.info("rated %s: %s", (rating.get("ticket") or {}).get("number"), rating.get("level"))
        else:
            error = self.last_rating.get("error") or {}
            log.info("rating key refused: %s (%s)", error.get("code"), error.get("message_en"))

    def _keypad_error(self, error: KeypadError) -> None:
        log.warning("rating keypad: %s", error)

    # counter LED displays ------------------------------------------------------------
    def _on_called(self, payload: dict) -> None:
        address = payload.get("led_address") if isinstance(payload, dict) else None
        number = (payload.get("ticket") or {}).get("number") if isinstance(payload, dict) else None
        if isinstance(address, int) and isinstance(number, str):
            self._led_updates.put((address, number))

    def _on_counter(self, payload: dict) -> None:
        if isinstance(payload, dict) and isinstance(payload.get("led_address"), int) and payload.get("current") is None:
            self._led_updates.put((payload["led_address"], None))

    def _drive_leds(self) -> None:
        """Writes go out one by one on their own thread: a slow RS485 line never holds up printing."""
        while not self._stop.is_set():
            update = self._led_updates.get()
            if update is None or self.leds is None:
                return
            address, number = update
            if number is None:
                self.leds.clear_safely(address)
            else:
                self.leds.show_safely(address, number)

    # printing ----------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            job = self.jobs.get()
            if job is None:
                return
            try:
                self.handle(job)
            except Exception:  # noqa: BLE001 - one bad job must not stop the worker
                log.exception("job %s could not be handled", job.get("id"))
            if self.jobs.empty():
                _give_back_memory()

    def handle(self, job: dict) -> str:
        """Prints one job at most once and reports its result; returns the final state."""
        job_id = job["id"]
        state = self.journal.state(job_id)
        if state in (PRINTED, UNCERTAIN):
            self._report(job_id)          # the server missed our answer: say it again, print nothing
            return state
        if state == PRINTING:
            self.journal.mark(job_id, UNCERTAIN, "uncertain", "agent stopped while printing")
            self._report(job_id)
            return UNCERTAIN
        try:
            slip = Slip.from_dict(job["slip"])
        except (KeyError, TypeError, ValueError) as exc:
            self.journal.mark(job_id, FAILED, "bad_job", str(exc)[:300])
            self._report(job_id)
            return FAILED
        self.journal.mark(job_id, PRINTING)
        try:
            self.printer.print_slip(slip)
        except PaperOut as exc:
            self.journal.mark(job_id, FAILED, "paper_out", str(exc)[:300])
        except PrinterOffline as exc:
            self.journal.mark(job_id, FAILED, "offline", str(exc)[:300])
        except PrinterError as exc:
            self.journal.mark(job_id, FAILED, "error", str(exc)[:300])
        else:
            self.journal.mark(job_id, PRINTED)
        final = self.journal.state(job_id)
        if final == FAILED:
            self._poll_now.set()          # let the server know why, so it can retry when it clears
        self._report(job_id)
        return final

    def _report(self, job_id: int) -> None:
        for row in self.journal.unreported():
            if row[0] == job_id:
                self._send_result(*row)

    def _send_result(self, job_id: int, state: str, error_code: str | None, error: str | None) -> bool:
        try:
            answer = self.sio.call("print_result", {"job_id": job_id, "status": state, "error_code": error_code,
                                                    "error": error}, timeout=10)
        except (socketio.exceptions.SocketIOError, TimeoutError) as exc:
            log.info("result of job %s not delivered yet (%s); will resend", job_id, exc)
            return False
        if isinstance(answer, dict) and (answer.get("ok") or "No such print job" in str(answer.get("error"))):
            self.journal.mark_reported(job_id, state)
            return True
        return False

    def _flush_results(self) -> None:
        for row in self.journal.unreported():
            if not self._send_result(*row):
                return
        self.journal.prune()

    # printer status ----------------------------------------------------------------
    def _poll(self) -> None:
        while not self._stop.is_set():
            self._poll_now.wait(self.settings.poll_s)
            self._poll_now.clear()
            if self._stop.is_set():
                return
            self.report_status()

    def report_status(self) -> None:
        """Sent on every poll and right after a failure; the server acts only on changes."""
        status = self.printer.status()
        if not self.sio.connected:
            return
        try:
            self.sio.call("printer_status", {"online": status.online, "paper": status.paper,
                                             "detail": status.detail}, timeout=10)
        except (socketio.exceptions.SocketIOError, TimeoutError) as exc:
            log.info("printer status not delivered (%s)", exc)


def _give_back_memory() -> None:
    """Rendering a slip leaves megabytes of freed heap with glibc; hand them back to the system
    when the queue is idle, so a kiosk box that prints all day stays small."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def settings_from(argv: list[str] | None = None) -> AgentSettings:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m hardware.agent", description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=env.get("MOTCUA_SERVER", "http://127.0.0.1:5000"))
    parser.add_argument("--kiosk", default=env.get("MOTCUA_KIOSK"))
    parser.add_argument("--token", default=env.get("MOTCUA_AGENT_TOKEN"))
    parser.add_argument("--printer", default=env.get("MOTCUA_PRINTER", "dummy://"),
                        help="usb://VID:PID, serial:///dev/ttyUSB0?baudrate=19200, tcp://host:9100, file:///path, "
                             "dummy://")
    parser.add_argument("--profile", default=env.get("MOTCUA_PRINTER_PROFILE", "{}"),
                        help='printer profile as JSON, e.g. {"paper_width_px": 384, "image_impl": "graphics"}')
    parser.add_argument("--state-dir", default=env.get("MOTCUA_AGENT_STATE", "var/agent"))
    parser.add_argument("--preview-dir", default=env.get("MOTCUA_PREVIEW_DIR"),
                        help="also write a PNG of each printed slip here (file:// printers)")
    parser.add_argument("--poll", type=float, default=float(env.get("MOTCUA_AGENT_POLL_S", "15")))
    parser.add_argument("--leds", default=env.get("MOTCUA_LEDS"),
                        help="counter LED displays on RS485: modbus:///dev/ttyUSB0?baudrate=9600 (addresses are set "
                             "per counter on the server)")
    parser.add_argument("--scanner", default=env.get("MOTCUA_SCANNER"),
                        help="evdev:///dev/input/by-id/…-event-kbd or serial:///dev/ttyACM0?baudrate=9600")
    parser.add_argument("--rating-keypad", default=env.get("MOTCUA_RATING_KEYPAD"),
                        help="a counter's USB rating keypad: evdev:///dev/input/by-id/…-event-kbd"
                             "?map=1:very_satisfied,2:satisfied,3:unsatisfied (without map: keys 1–5 are the "
                             "office's levels, best first)")
    parser.add_argument("--rating-token", default=env.get("MOTCUA_RATING_TOKEN"),
                        help="the rating device token of the keypad's counter (--token when absent)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or MOTCUA_AGENT_TOKEN) is required")
    if not args.kiosk and not args.rating_keypad:
        parser.error("--kiosk (or MOTCUA_KIOSK) is required, unless the agent only serves a --rating-keypad")
    try:
        profile = json.loads(args.profile)
    except json.JSONDecodeError as exc:
        parser.error(f"--profile is not JSON: {exc}")
    return AgentSettings(server=args.server, kiosk=args.kiosk, token=args.token, printer=args.printer,
                         profile=profile, state_dir=Path(args.state_dir), poll_s=args.poll,
                         preview_dir=Path(args.preview_dir) if args.preview_dir else None, scanner=args.scanner,
                         leds=args.leds, rating_keypad=args.rating_keypad, rating_token=args.rating_token)


def main(argv: list[str] | None = None) -> None:
    # force: importing python-escpos already configured the root logger at WARNING.
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(message)s",
                        force=True)
    settings = settings_from(argv)
    printer = journal = None
    if settings.kiosk is not None:
        printer = EscposTicketPrinter(settings.printer, PrinterProfile.from_dict(settings.profile),
                                      preview_dir=settings.preview_dir)
        journal = Journal(settings.state_dir / f"journal-{settings.kiosk}.db")
    scanner = None
    if settings.scanner:
        try:
            scanner = open_reader(settings.scanner)
        except (ValueError, ScannerError) as exc:
            raise SystemExit(f"scanner {settings.scanner}: {exc}") from exc
    leds = None
    if settings.leds:
        try:
            leds = open_led_bus(settings.leds)
        except ValueError as exc:
            raise SystemExit(f"leds {settings.leds}: {exc}") from exc
    keypad = None
    if settings.rating_keypad:
        try:
            keypad = open_rating_keypad(settings.rating_keypad)
        except (ValueError, KeypadError) as exc:
            raise SystemExit(f"rating keypad {settings.rating_keypad}: {exc}") from exc
    agent = Agent(settings, printer, journal, scanner, leds, keypad)
    connecting = True

    def on_signal(*_: object) -> None:
        agent._stop.set()
        if connecting:        # still retrying to reach the server: leave at once
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("connecting to %s (retrying until it answers)", settings.server)
    try:
        agent.start()
    except SystemExit:
        agent.stop()
        return
    connecting = False
    agent.wait()
    agent.stop()


if __name__ == "__main__":
    main()
