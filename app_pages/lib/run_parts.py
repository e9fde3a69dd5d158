"""The Run page's sections: a wrong link's answer, the live header with its curves, the actions (clone, resume,
tags, report), and the tabs but those over the predictions (in ``run_tables``)."""

from __future__ import annotations

import streamlit as st

from app_pages.lib.charts import bars_option, curves_option
from app_pages.lib.common import show_error, store
from app_pages.lib.echarts import show
from app_pages.lib.tables import share_column
from core import launcher
from core.runfolder import status as runstatus
from core.store import Store
from core.views import reports
from core.views import run as runview


def header(run_id: str) -> None:
    """Title, status, progress, error and findings, then the curves (raw under smoothed)."""
    view = runview.overview(store(), run_id)
    st.title(view.name)
    st.caption(f"`{view.id}`" + (" · tags: " + ", ".join(view.tags) if view.tags else ""))
    for col, (label, value, help_text) in zip(st.columns(4), runview.header_metrics(view)):
        col.metric(label, value, help=help_text)
    if view.progress is not None and view.status == "running":
        st.progress(view.progress, text=f"{view.progress:.0%}")
    if view.error:
        st.error(view.error)
    for finding in view.findings:
        (st.error if finding.severity == "error" else st.warning)(finding.message)
    smoothing = st.slider("Smoothing", 0.0, 0.95, runview.default_smoothing(store(), run_id), 0.05, key="run_smooth",
                          help="exponential moving average, as TensorBoard's; the raw line stays beneath")
    charts(runview.curve_charts(store(), run_id, smoothing=smoothing), "No metrics logged yet.")


def charts(found: list, empty: str, x: str = "step") -> None:
    if not found:
        st.caption(empty)
    columns = st.columns(2)
    for i, (title, part) in enumerate(found):
        show(columns[i % 2], curves_option(part, x, {}, title), key=f"curve_{title}")


def actions(index: Store, view: runview.RunOverview) -> None:
    """Clone into the Launch form, resume a stopped run, edit the tags, download the report."""
    row = st.columns([1, 1, 3, 2])
    row[0].page_link("app_pages/2_Launch.py", label="Clone", icon=":material/content_copy:",
                     query_params={"clone": view.id}, help="open the Launch form filled with this run's config")
    row[1].button("Resume", key="run_resume", disabled=view.status not in runstatus.RESUMABLE,
                  on_click=show_error, args=(launcher.resume, view.id),
                  help="queue a cancelled, crashed or failed run again from its last checkpoint")
    tags_key = f"tags_{view.id}"
    row[2].multiselect("Tags", sorted(set(view.tags)), default=view.tags, key=tags_key, accept_new_options=True,
                       placeholder="add a tag", on_change=lambda: show_error(
                           runview.save_tags, index, view.id, st.session_state[tags_key]))
    row[3].download_button("Report (markdown)", lambda: reports.markdown_report(index, [view.id]),
                           file_name=f"{view.id}.md", mime="text/markdown", icon=":material/download:")


def results(index: Store, run_id: str) -> None:
    st.dataframe(runview.results_table(index, run_id), hide_index=True)
    per_make = runview.per_make(index, run_id)
    if not per_make.empty:
        show(st, bars_option(per_make.sort_values("make"), "make", "accuracy", "Accuracy per make"), "per_make_bars")
        st.dataframe(per_make, hide_index=True, column_config={"accuracy": share_column("accuracy")})


def system(index: Store, run_id: str) -> None:
    charts(runview.curve_charts(index, run_id, system=True), "No system metrics logged.", x=runview.SYSTEM_X)


def config_and_notes(index: Store, view: runview.RunOverview) -> None:
    st.markdown(f"**Changes:** {view.changes or '—'}  \n**Reason:** {view.reason or '—'}")
    st.dataframe(runview.config_rows(view.config), hide_index=True, width="content")
    key = f"notes_{view.id}"
    st.text_area("Notes", value=view.notes, key=key, height=140)

    def save() -> None:  # reads what is on screen now, not what the box held when the page was drawn
        if show_error(runview.save_notes, index, view.id, st.session_state[key]):
            st.toast("Notes saved.", icon="✅")

    st.button("Save notes", on_click=save, key="save_notes")


def console(index: Store, run_id: str) -> None:
    st.code(runview.console_tail(index, run_id) or "(no console output)", language="text")


def no_run(index: Store, run_id: str) -> None:
    """What a link to a run that does not exist shows (whatever the text: it is never read as a path): what
    is wrong and the ways on. Stops the page."""
    st.title("Run")
    st.error(f"No run `{run_id[:80]}` in `{index.root}`: the link is wrong, or the run was deleted.")
    columns = st.columns(3)
    columns[0].page_link("app_pages/1_Runs.py", label="Find it on Runs", icon=":material/list:")
    columns[1].page_link("app_pages/4_Compare.py", label="Compare runs", icon=":material/compare_arrows:")
    columns[2].page_link("app_pages/2_Launch.py", label="Launch a run", icon=":material/rocket_launch:")
    st.stop()
