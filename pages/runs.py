"""Runs: every run in the index with its status and latest key metrics; what to do when there are none."""

from __future__ import annotations

import streamlit as st

from core.store import queries
from pages.common import store

st.title("Runs")


@st.fragment(run_every=5)
def runs_table() -> None:
    index = store()
    if index is None:
        return
    frame = queries.list_runs(index)
    if frame.empty:
        st.info(
            "No runs yet. Train one from a terminal with `python -m core run classify` "
            "(built-in synthetic cars, CPU-sized), or log from your own script:\n\n"
            "```python\nfrom core import tracking\n"
            "with tracking.start(name=\"baseline\", group=\"heads\", config={\"lr\": 3e-4}) as run:\n"
            "    run.log({\"val/top1\": 0.41}, step=1)\n```\n\n"
            f"Runs are read from `{index.root}` (set `EXPLORER_RUNS_DIR` to use another folder)."
        )
        return
    frame["progress"] = frame["progress_done"] / frame["progress_total"]
    metric_columns = [c for c in frame.columns if "/" in c]
    st.caption(f"{len(frame)} runs in `{index.root}`")
    st.dataframe(
        frame[["name", "group", "status", "progress", "recipe", "created", "duration_s", *metric_columns, "id"]],
        hide_index=True,
        column_config={
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
            "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
            "duration_s": st.column_config.NumberColumn("duration (s)", format="%.0f"),
            **{c: st.column_config.NumberColumn(c, format="%.4f") for c in metric_columns},
        },
    )


runs_table()
