"""Imports the pages will need, done ahead in a background thread once per server process: scipy's
distributions take a second or two to import, which the first comparison (Welch, McNemar) would otherwise
wait for. The thread waits ``DELAY_S`` first: importing holds Python's lock, and the first page the server
draws would wait for it instead (a cold home page took 0.7 s longer, bench/RESULTS.md)."""

from __future__ import annotations

import importlib
import os
import threading
import time

AHEAD = ("scipy.stats",)  # modules a page imports on first use, slow to import
DELAY_S = 4.0  # after the first page has been drawn; a page that needs them sooner imports them itself
DELAY_ENV = "EXPLORER_WARMUP_DELAY_S"  # overrides DELAY_S (its test sets a shorter one)
_started = threading.Event()


def start() -> bool:
    """Import AHEAD in a daemon thread, the first time it is called in this process; True when it started now."""
    if _started.is_set():
        return False
    _started.set()
    threading.Thread(target=_import_all, name="warm-imports", daemon=True).start()
    return True


def _delay_s() -> float:
    try:
        return max(0.0, float(os.environ.get(DELAY_ENV, DELAY_S)))
    except ValueError:
        return DELAY_S


def _import_all() -> None:
    time.sleep(_delay_s())
    for name in AHEAD:
        try:
            importlib.import_module(name)
        except ImportError:  # the page that needs it says so when it does
            continue
