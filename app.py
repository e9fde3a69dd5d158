"""Experiment Explorer home: what is running, the latest runs, and what to do next. `bash dev.sh app`."""

import streamlit as st

from core.store import queries
from pages.lib.common import page_setup, show_getting_started, store

page_setup("Home")
st.title("Experiment Explorer")
st.caption("Launch training runs, compare experiments side by side, demo predictions.")
index = store()
if index is None:
    st.stop()


@st.fragment(run_every=3)
def overview() -> None:
    live = store()
    options = queries.filter_options(live)
    latest = queries.list_runs(live, limit=10)
    if latest.empty:
        show_getting_started(live.root)
        return
    counts = live.rows("SELECT status, count(*) FROM runs GROUP BY status")
    cols = st.columns(len(counts) or 1)
    for col, (status, n) in zip(cols, sorted(counts)):
        col.metric(status, n)
    st.subheader("Latest runs")
    metric_columns = [c for c in latest.columns if "/" in c]
    st.dataframe(latest[["name", "group", "status", "recipe", "created", *metric_columns, "id"]], hide_index=True,
                 column_config={"created": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
                                **{c: st.column_config.NumberColumn(c, format="%.4f") for c in metric_columns}})
    st.caption(f"{len(options['group'])} groups · open **Runs** to search, filter and select runs to compare.")


overview()
