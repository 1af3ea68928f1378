"""The kiosk front end: the touchscreen page where citizens take a number and look up a dossier (/kiosk).

The page is static apart from its settings; kiosk.js talks to the REST API and Socket.IO.
Settings come from the address so a kiosk box needs nothing but its browser's start URL:

    /kiosk?kiosk=kiosk-2           which kiosk this is (remembered by the browser; default kiosk-1)
    /kiosk?token=…                 a kiosk device token, for offices that require one (remembered)
    /kiosk?idle=20&idle_step=30    seconds before the ticket screen / other screens return to the start
    /kiosk?idle_result=30          seconds a dossier's status stays on screen
    /kiosk?print_wait=8            seconds to wait for the printer's answer before explaining the delay
    /kiosk?wedge_gap=50            milliseconds: a keyboard-wedge scanner types faster than this per key
"""
from __future__ import annotations

import re

from flask import Blueprint, render_template, request

from queue_server.domain.dossiers import CITIZEN_WORDING
from queue_server.services.printing import FAULT_TEXT

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/kiosk/static")

KIOSK_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
TOKEN = re.compile(r"^[A-Za-z0-9_.~-]{8,200}$")
DEFAULT_KIOSK = "kiosk-1"
# Dates on the kiosk are the office's dates: Việt Nam time (DOMAIN.md).
TIME_ZONE = "Asia/Ho_Chi_Minh"
# name in the address → (default, lowest, highest); seconds, but wedge_gap is in milliseconds
SETTINGS = {"idle": (20, 1, 600), "idle_step": (30, 1, 600), "idle_result": (30, 1, 600),
            "print_wait": (8, 1, 120), "wedge_gap": (50, 10, 500)}


def _number(name: str) -> int:
    default, low, high = SETTINGS[name]
    value = request.args.get(name, "")
    return min(high, max(low, int(value))) if value.isdigit() else default


def _code(value: str | None, pattern: re.Pattern[str]) -> str | None:
    return value if value and pattern.match(value) else None


@bp.get("/kiosk")
def kiosk():  # noqa: ANN201
    settings = {
        "kiosk": _code(request.args.get("kiosk"), KIOSK_CODE),
        "token": _code(request.args.get("token"), TOKEN),
        "default_kiosk": DEFAULT_KIOSK,
        "idle_ticket_s": _number("idle"),
        "idle_step_s": _number("idle_step"),
        "idle_result_s": _number("idle_result"),
        "print_wait_s": _number("print_wait"),
        "wedge_gap_ms": _number("wedge_gap"),
        "time_zone": TIME_ZONE,
        # The server's own words for printer faults, for when the kiosk must explain one itself.
        "faults": {code: {"code": code, "message_vi": vi, "message_en": en} for code, (vi, en) in FAULT_TEXT.items()},
        # A dossier's steps in the citizen's words, in both languages (a scan is looked up in one).
        "statuses": {str(status): words for status, words in CITIZEN_WORDING.items()},
    }
    response = render_template("kiosk/kiosk.html", settings=settings)
    return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
