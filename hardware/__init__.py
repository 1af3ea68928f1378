"""Devices of a Một Cửa hall behind small Protocols: ticket printers (ESC/POS) for now.

Never imports queue_server or Flask: the hardware agent runs on the kiosk, the server elsewhere;
they share only plain data (hardware.slip).

python-escpos creates a new temporary folder for its capabilities pickle on every import unless
ESCPOS_CAPABILITIES_PICKLE_DIR names an existing folder (and crashes if it names a missing one).
A kiosk that runs for months must not litter /tmp, so the folder is settled here, before any
module of this package imports escpos.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _settle_escpos_cache() -> None:
    """The configured folder if it exists or can be made, else one under the user's cache dir."""
    configured = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    candidates = [Path(configured)] if configured else []
    candidates += [Path(cache_home) / "motcua" / "escpos", Path(tempfile.gettempdir()) / f"motcua-escpos-{os.getuid()}"]
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(folder)
        return


_settle_escpos_cache()
