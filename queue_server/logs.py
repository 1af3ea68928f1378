"""Log lines: readable text by default; with LOG_FORMAT=json one JSON object per line, for journald,
Loki or any collector that indexes fields."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = ("office", "counter", "ticket", "device", "job")   # passed as `extra=` where a line concerns one


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "msg": record.getMessage(),
                 "pid": record.process}
        entry.update({key: getattr(record, key) for key in FIELDS if hasattr(record, key)})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT is {fmt!r}: it must be one of {', '.join(FORMATS)}")


def configure(level: str, fmt: str) -> None:
    """Like logging.basicConfig: does nothing if the process has set up its logging already."""
    check(fmt)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if fmt == "json" else logging.Formatter(TEXT))
    logging.basicConfig(level=level, handlers=[handler])
