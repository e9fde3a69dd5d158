"""Runs: every run with live status and progress, the metric and config columns you choose (remembered),
warnings and tags; search, filter and sort (kept in the address, so a view can be shared); select runs to
compare, open or tag."""

from __future__ import annotations

import streamlit as st

from app_pages.lib.common import page_setup, show_getting_started, store, store_or_stop
from app_pages.lib.runs_parts import findings_cache, runs_table, selection_actions
from core.store import queries
from core.views import runs as runsview

page_setup("Runs")
st.title("Runs")
index = store_or_stop()

options = queries.filter_options(index)
offered = runsview.column_choices(index)
top = st.columns([3, 2, 2, 2, 2])
search = top[0].text_input("Search", placeholder="name, id, group or tag", key="runs_search", bind="query-params")
status = top[1].multiselect("Status", options["status"], key="runs_status", bind="query-params")
group = top[2].multiselect("Group", options["group"], key="runs_group", bind="query-params")
recipe = top[3].multiselect("Recipe", options["recipe"], key="runs_recipe", bind="query-params")
tag = top[4].multiselect("Tag", options["tag"], key="runs_tag", bind="query-params",
                         help="add tags to runs below the table, or on a run's page")
order = st.columns([5, 3, 2, 1])
columns = order[0].multiselect(
    "Columns", offered, default=runsview.chosen_columns(index.root, offered, queries.key_metrics(index, limit=5)),
    key="runs_columns", bind="query-params", help="any metric logged, or config key; remembered for the next visit",
    on_change=lambda: runsview.remember_columns(index.root, st.session_state["runs_columns"]))
sort = order[1].selectbox("Sort by", runsview.sort_options(columns), key="runs_sort", bind="query-params")
descending = order[2].toggle("Descending", value=True, key="runs_desc", bind="query-params")
page = order[3].number_input("Page", min_value=1, value=1, step=1, key="runs_page", bind="query-params")


@st.fragment(run_every=3)
def live_runs() -> None:
    live = store()
    frame, total = runsview.runs_page(live, metrics=columns, page=page, search=search, status=status, group=group,
                                      recipe=recipe, tag=tag, sort=sort, descending=descending,
                                      cache=findings_cache(str(live.root)))
    if total == 0:
        if not options["status"]:
            show_getting_started(live.root)
        else:
            st.warning("No run matches these filters.")
        return
    st.caption(f"{total} runs · page {page} of {runsview.page_count(total)} · `{live.root}`")
    chosen = runs_table(frame, columns, runsview.column_formats(live, frame["id"].tolist(), columns))
    if len(chosen) >= 2:
        st.session_state["compare_ids"] = chosen  # what Compare opens with
    selection_actions(live, frame, chosen, options["tag"])


live_runs()
