"""What every page shares: the cached index (one connection per server process) and error display."""

from __future__ import annotations

import atexit
import time
from collections.abc import Callable

import streamlit as st

from app_pages.lib.auth import require_password
from core.runfolder.paths import runs_dir
from core.store import IndexBusyError, Store
from core.views import warmup

SYNC_EVERY_S = 2.0


def page_setup(title: str) -> None:
    """First call of every page: title, wide layout, and the optional password (deep links included)."""
    st.set_page_config(page_title=f"{title} · Experiment Explorer", layout="wide")
    warmup.start()  # slow imports of later pages, ahead, once per server process
    require_password()


@st.cache_resource(show_spinner=False)
def _open_store(root: str) -> Store:
    index = Store(root)
    atexit.register(index.close)  # close the database cleanly when the server stops
    return index


def store() -> Store | None:
    """The index, brought up to date at most every SYNC_EVERY_S; None (with a message shown) if unavailable."""
    try:
        index = _open_store(str(runs_dir()))
    except IndexBusyError as exc:
        st.error(f"{exc}")
        return None
    if time.monotonic() - _last_sync.get(index.root, 0.0) > SYNC_EVERY_S:
        index.sync()
        _last_sync[index.root] = time.monotonic()
    return index


_last_sync: dict[object, float] = {}
  # per server process, like the cached store itself


def store_or_stop() -> Store:
    """The index for a page's top level; when it is unavailable the page stops there (the message is shown)."""
    index = store()
    if index is None:
        st.stop()
    return index


def show_error(action: Callable[..., object], *args: object) -> bool:
    """Run a button's action; show its error as a toast (the message says what to do), never a traceback.
    Returns whether the action succeeded."""
    try:
        action(*args)
    except (ValueError, LookupError, OSError) as exc:
        st.toast(str(exc), icon="⚠️")
        return False
    return True




def selected_run(key: str = "run_id") -> str | None:
    """The run a page shows: ?run=ID in the address, else the last one chosen in this session."""
    run_id = st.query_params.get("run") or st.session_state.get(key)
    return str(run_id) if run_id else None






def show_getting_started(root: object) -> None:
    """What a new user sees while there are no runs: how to start one, and where runs are read from."""
    st.info(
        "No runs yet. Open **Launch** to train `classify` on the built-in synthetic cars (CPU-sized, a few "
        "minutes), or from a terminal run `python -m core run classify`. Your own scripts can log here too:"
        "\n\n```python\nfrom core import tracking\n"
        "with tracking.start(name=\"baseline\", group=\"heads\", config={\"lr\": 3e-4}) as run:\n"
        "    run.log({\"val/top1\": 0.41}, step=1)\n```\n\n"
        f"Runs are read from `{root}` (set `EXPLORER_RUNS_DIR` to use another folder)."
    )
