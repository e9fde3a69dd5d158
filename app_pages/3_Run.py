"""Run: status, progress and ETA, findings, live curves (raw under smoothed), clone / resume / tags / report,
then the sections the run has data for: results with 95% intervals, the confusion matrix with its images,
predictions, system metrics, config and notes, console."""

import streamlit as st

from app_pages.lib import run_parts, run_tables
from app_pages.lib.address import follow_address, keep_address
from app_pages.lib.common import page_setup, selected_run, store_or_stop
from core.views import run as runview

page_setup("Run")
index = store_or_stop()
current = selected_run()
if current is not None and not runview.exists(index, current, sync=True):
    run_parts.no_run(index, current)
choices, labels = runview.run_choices(index, current)
if not labels:
    st.title("Run")
    st.info("No runs yet: launch one on the Launch page.")
    st.stop()
follow_address("run_pick", "run", choices, current)
run_id = st.selectbox("Run", choices, format_func=lambda r: labels.get(r, r), key="run_pick",
                      on_change=keep_address, args=("run_pick", "run"))
st.session_state["run_id"] = run_id
st.query_params["run"] = run_id
view = runview.overview(index, run_id, findings=False)  # the header below shows the findings
live = st.fragment(run_every=2) if view.live else lambda draw: draw  # a finished run needs no refresh
live(run_parts.header)(run_id)
run_parts.actions(index, view)

names = runview.sections(index, run_id)
tabs = st.tabs(names, key="tab", on_change="rerun", bind="query-params")
draw = {
    "Results": lambda: run_parts.results(index, run_id),
    "Confusion": lambda: run_tables.confusion(index, run_id),
    "Predictions": lambda: run_tables.predictions(index, run_id),
    "System": lambda: run_parts.system(index, run_id),
    "Config & notes": lambda: run_parts.config_and_notes(index, view),
    "Console": lambda: live(run_parts.console)(index, run_id),
}
for name, tab in zip(names, tabs):
    with tab:
        if tab.open:
            draw[name]()
