"""Experiment Explorer: the navigation (Home, then the pages in app_pages/ by their number) and the home page:
what is running, the latest runs, and what to do next. `bash dev.sh app`."""

from pathlib import Path

import streamlit as st

from app_pages.lib.common import page_setup, show_getting_started, store, store_or_stop
from app_pages.lib.tables import formatted
from core.store import queries
from core.views import runs as runsview

PAGES = sorted((Path(__file__).parent / "app_pages").glob("[0-9]*_*.py"))  # numbered as Streamlit orders them


def home() -> None:
    page_setup("Home")
    st.title("Experiment Explorer")
    st.caption("Launch training runs, compare experiments side by side, demo predictions.")
    store_or_stop()  # the fragment below reads the live index itself
    overview()


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
    formats = runsview.column_formats(live, latest["id"].tolist(), metrics)
    shown = ["link", *latest.columns.drop(["name", "link"])]
    st.dataframe(formatted(latest, formats), hide_index=True, column_order=shown, column_config={
        "link": st.column_config.LinkColumn("name", display_text=runsview.LINK_TEXT, help="open the run's page"),
        "created": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
        "id": st.column_config.TextColumn("id", width="medium")})  # fmt: skip
    groups = queries.filter_options(live)["group"]
    st.caption(f"{len(groups)} groups · open **Runs** to search, filter and select runs to compare.")


st.navigation([st.Page(home, title="Home", icon=":material/home:", default=True), *map(st.Page, PAGES)]).run()
