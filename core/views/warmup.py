"""Imports the pages will need, done ahead in a background thread once per server process: scipy's
distributions take a second or two to import, which the first comparison (Welch, McNemar) would otherwise
wait for."""

from __future__ import annotations

import importlib
import threading

AHEAD = ("scipy.stats",)  # modules a page imports on first use, slow to import
_started = threading.Event()


def start() -> bool:
    """Import AHEAD in a daemon thread, the first time it is called in this process; True when it started now."""
    if _started.is_set():
        return False
    _started.set()
    threading.Thread(target=_import_all, name="warm-imports", daemon=True).start()
    return True


def _import_all() -> None:
    for name in AHEAD:
        try:
            importlib.import_module(name)
        except ImportError:  # the page that needs it says so when it does
            continue
