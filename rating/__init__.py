"""The rating tablet at a counter (/rate/<counter>): the officer's name and photo while idle, and after each
visit the question about the officer's attitude, with the office's levels.

The page is bound to its counter by a rating device token (kind "rating", issued with the counter's
number), given once in the address and then remembered by the browser:

    /rate/3?token=…            the tablet of counter 3; `?token=` with no value forgets the token
    /rate/3?thanks=5           seconds the thanks (or a refusal) stays before the page returns to idle
    /rate/3?ask=120            seconds the question waits for a touch before the page returns to idle

rate.js reads the counter's state over the REST API (/api/v1/rating/state) and hears over Socket.IO when
the counter finishes a visit; the device token is what the server checks, not this address.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

bp = Blueprint("rating", __name__, template_folder="templates", static_folder="static",
               static_url_path="/rating/static")

MAX_TOKEN = 200          # longer tokens are refused by the server anyway
# name in the address → (default, lowest, highest), in seconds
SETTINGS = {"thanks": (5, 1, 60), "ask": (120, 5, 1800)}


def _seconds(name: str) -> int:
    default, low, high = SETTINGS[name]
    value = request.args.get(name, "")
    return min(high, max(low, int(value))) if value.isdigit() else default


@bp.get("/rate/<int:counter>")
def rate(counter: int):  # noqa: ANN201
    if not 1 <= counter <= 999:
        abort(404)
    token = request.args.get("token")
    settings = {
        "counter": counter,
        # None: keep what the browser remembers; "": forget it; otherwise use (and remember) this one. A
        # malformed token is passed on as typed, so the server refuses it and the staff see why.
        "token": None if token is None else token.strip()[:MAX_TOKEN],
        "thanks_s": _seconds("thanks"),
        "ask_s": _seconds("ask"),
    }
    response = render_template("rating/rate.html", settings=settings)
    return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
