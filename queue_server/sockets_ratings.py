"""Socket.IO handlers for ratings: a USB rating keypad at a counter, through the hardware agent.

    emit("rating_key", {"token": RATING_DEVICE_TOKEN, "level": "satisfied"})   # or {"position": 2}
    → ack {"ok": true, "rating": {…}} or {"ok": false, "error": {"code", "message_vi", "message_en"}}

The press rates the counter's pending visit (its latest finished, unrated ticket within the window)
with channel "keypad"; the public `ticket_rated` event then tells the counter's tablet to say thanks.
The token travels with each press rather than being remembered per connection: a revoked device stops
rating at once, and the handler needs nothing from the connect handler.
"""
from __future__ import annotations

from flask import current_app

from .domain import errors as de
from .sockets import socketio

MAX_TOKEN = 200


def _error(code: str, vi: str, en: str) -> dict:
    return {"ok": False, "error": {"code": code, "message_vi": vi, "message_en": en}}


def on_rating_key(data=None):  # noqa: ANN001, ANN201
    if not isinstance(data, dict):
        return _error("invalid_input", "Dữ liệu không hợp lệ.", "Invalid data.")
    token, level, position = data.get("token"), data.get("level"), data.get("position")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
        return _error("device_token_required", "Cần mã thiết bị đánh giá của quầy.",
                      "A rating device token is required.")
    if not (isinstance(level, str) and 0 < len(level) <= 32) and not (
            isinstance(position, int) and not isinstance(position, bool) and 1 <= position <= 9):
        return _error("unknown_level", "Cần mức đánh giá (level) hoặc vị trí phím (position 1–9).",
                      "A rating level (level) or key position (position 1–9) is needed.")
    services = current_app.extensions["motcua"]
    try:
        principal = services.auth.principal_from_token(token)
        rating = services.ratings.rate_pending(
            principal, level=level if isinstance(level, str) else None,
            position=position if not isinstance(level, str) else None)
    except de.DomainError as exc:
        return _error(exc.code, exc.message_vi, exc.message_en)
    return {"ok": True, "rating": rating}


def register() -> None:
    """Called by sockets.init_app for every app, as its own handlers are."""
    socketio.on("rating_key")(on_rating_key)
