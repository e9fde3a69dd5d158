"""Runs: every run with live status and progress, key metrics and warnings; search, filter, sort, select."""

from __future__ import annotations

import streamlit as st

from core.store import queries
from core.views import runs as runsview
from pages.lib.common import page_setup, show_getting_started, store, store_or_stop

page_setup("Runs")
st.title("Runs")
index = store_or_stop()

options = queries.filter_options(index)
metrics = queries.key_metrics(index, limit=5)
top = st.columns([3, 2, 2, 2, 2])
search = top[0].text_input("Search", placeholder="name, id, group or tag", key="runs_search")
status = top[1].multiselect("Status", options["status"], key="runs_status")
group = top[2].multiselect("Group", options["group"], key="runs_group")
recipe = top[3].multiselect("Recipe", options["recipe"], key="runs_recipe")
tag = top[4].multiselect("Tag", options["tag"], key="runs_tag")
order = st.columns([2, 1, 1, 4])
sort = order[0].selectbox("Sort by", runsview.sort_options(metrics), key="runs_sort")
descending = order[1].toggle("Descending", value=True, key="runs_desc")
page = order[2].number_input("Page", min_value=1, value=1, step=1, key="runs_page")


@st.fragment(run_every=3)
def runs_table() -> None:
    live = store()
    frame, total = runsview.runs_page(live, metrics=metrics, page=page, search=search, status=status, group=group,
                                      recipe=recipe, tag=tag, sort=sort, descending=descending)
    if total == 0:
        if not options["status"]:
            show_getting_started(live.root)
        else:
            st.warning("No run matches these filters.")
        return
    st.caption(f"{total} runs · page {page} of {runsview.page_count(total)} · `{live.root}`")
    event = st.dataframe(
        frame, hide_index=True, on_select="rerun", selection_mode="multi-row", key="runs_table",
        column_config={
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
            "created": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm"),
            "duration_s": st.column_config.NumberColumn("duration (s)", format="%.0f"),
            **{m: st.column_config.NumberColumn(m, format="%.4f") for m in metrics},
        },
    )
    chosen = frame["id"].iloc[event.selection.rows].tolist() if event.selection.rows else []
    if len(chosen) >= 2:
        st.session_state["compare_ids"] = chosen  # what Compare opens with
    left, right = st.columns(2)
    left.page_link("pages/4_Compare.py", label=f"Compare {len(chosen)} selected", disabled=len(chosen) < 2,
                   icon=":material/compare_arrows:")
    right.page_link("pages/3_Run.py", label="Open selected run", disabled=len(chosen) != 1,
                    query_params={"run": chosen[0]} if len(chosen) == 1 else None, icon=":material/monitoring:")


runs_table()
