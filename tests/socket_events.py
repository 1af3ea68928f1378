"""What a Socket.IO test client received, one entry per event: the server sends the events of one
action to a room as one `events_published` message, [[name, payload], …]."""
from __future__ import annotations

from queue_server.domain.events import EVENTS_PUBLISHED


def received(client) -> list[dict]:  # noqa: ANN001
    """`client.get_received()` with batches opened: [{"name", "args": [payload]}, …] in arrival order."""
    out = []
    for message in client.get_received():
        if message["name"] == EVENTS_PUBLISHED:
            out.extend({"name": name, "args": [payload]} for name, payload in message["args"][0])
        else:
            out.append({"name": message["name"], "args": message["args"]})
    return out
