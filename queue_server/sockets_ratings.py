"""Socket.IO handlers for ratings."""
from __future__ import annotations

from .sockets import socketio  # noqa: F401
