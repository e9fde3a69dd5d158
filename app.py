"""Experiment Explorer home: what is running, the latest runs, and what to do next. `bash dev.sh app`."""

import streamlit as st

from core.store import queries
from core.views import runs as runsview
from pages.lib.common import page_setup, show_getting_started, store, store_or_stop

page_setup("Home")
st.title("Experiment Explorer")
st.caption("Launch training runs, compare experiments side by side, demo predictions.")
store_or_stop()  # the fragment below reads the live index itself


@st.fragment(run_every=3)
def overview() -> None:
    live = store()
    latest, metrics = runsview.latest_runs(live, limit=10)
    if latest.empty:
        show_getting_started(live.root)
        return
    counts = queries.status_counts(live)
    for col, (status, n) in zip(st.columns(len(counts) or 1), counts):
        col.metric(status, n)
    st.subheader("Latest runs")
    st.dataframe(latest, hide_index=True,
                 column_config={"created": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
                                **{c: st.column_config.NumberColumn(c, format="%.4f") for c in metrics}})
    groups = queries.filter_options(live)["group"]
    st.caption(f"{len(groups)} groups · open **Runs** to search, filter and select runs to compare.")


overview()
