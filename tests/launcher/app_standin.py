"""A stand-in for the app in the fault tests: what its pages do every few seconds, in a loop: resume the queue
(settle dead runs, start a scheduler if runs wait) and bring the index up to date.

    python -m tests.launcher.app_standin RUNS_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from core import launcher
from core.store import Store

EVERY_S = 0.3


def main(root: Path) -> None:
    store: Store | None = None
    while True:
        try:
            launcher.reconcile_and_start_scheduler(root)
        except Exception as exc:  # what a page would show; the next rerun tries again
            print(f"{time.time():.3f} resuming the queue: {type(exc).__name__}: {exc}", flush=True)
        try:
            store = store or Store(root)  # a full disk may keep it from opening: the next rerun tries again
            store.sync()
        except Exception as exc:
            print(f"{time.time():.3f} syncing the index: {type(exc).__name__}: {exc}", flush=True)
        time.sleep(EVERY_S)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
