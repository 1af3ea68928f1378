"""The hall display board (/display): the number being called, the counters, the last calls, waiting counts.

The page holds only public information, so it needs no sign-in; board.js reads everything over
Socket.IO (a snapshot on connect, then events). Settings come from the address, so a TV box needs
nothing but its browser's start URL:

    /display                        the whole board of the default office
    /display?token=…                a display device token: the board it was issued for (some counters or
                                    services). Remembered by the browser; `?token=` with no value forgets it
    /display?office=CODE            the whole board of another office, on a multi-office installation
    /display?hold=6                 seconds a new call stays highlighted (1–60)
    /display?voice=clips            how calls are heard: `clips` (the server's recorded clips, the default),
                                    `browser` (the browser's Vietnamese voice), `chime` or `off`; a failing
                                    engine falls back to the next. Remembered; `?voice=` forgets it
"""
from __future__ import annotations

import re

from flask import Blueprint, render_template, request

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display/static")

OFFICE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_TOKEN = 200          # longer tokens are refused by the server anyway
HOLD_S = (6, 1, 60)      # default, lowest, highest
VOICE_ENGINES = ("clips", "browser", "chime", "off")


def _hold() -> float:
    default, low, high = HOLD_S
    try:
        value = float(request.args.get("hold", ""))
    except ValueError:
        return default
    return min(high, max(low, value)) if value == value else default   # NaN is not a duration


def _voice() -> str | None:
    """None: keep what the browser remembers (also for a value we do not know); "": forget it."""
    value = request.args.get("voice")
    if value is None:
        return None
    value = value.strip().lower()
    return value if value in VOICE_ENGINES or value == "" else None


@bp.get("/display")
def board():  # noqa: ANN201
    token = request.args.get("token")
    office = request.args.get("office", "")
    settings = {
        # None: keep what the browser remembers; "": forget it; otherwise use (and remember) this one. A
        # malformed token is passed on as typed, so the server refuses it and the staff see why.
        "token": None if token is None else token.strip()[:MAX_TOKEN],
        "office": office if OFFICE_CODE.match(office) else None,
        "hold_s": _hold(),
        "voice": _voice(),
    }
    response = render_template("display/board.html", settings=settings)
    return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
