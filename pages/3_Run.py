"""Run: status, progress and ETA, config and reasons, live curves, console tail, per-make accuracy, the
confusion matrix with its images, sample predictions, diagnostics, notes and the report."""

import streamlit as st

from core.views import reports
from core.views import run as runview
from pages.lib.charts import bars_figure, curves_figure, heatmap_figure
from pages.lib.common import page_setup, selected_run, show_error, store, store_or_stop
from pages.lib.tables import share_column

page_setup("Run")
index = store_or_stop()
current = selected_run()
choices, labels = runview.run_choices(index, current)
if not labels:
    st.title("Run")
    st.info("No runs yet: launch one on the Launch page.")
    st.stop()
run_id = st.selectbox("Run", choices, index=choices.index(current) if current in choices else 0,
                      format_func=lambda r: labels.get(r, r), key="run_pick")
st.session_state["run_id"] = run_id


@st.fragment(run_every=2)
def live_header() -> None:
    view = runview.overview(store(), run_id)
    st.title(view.name)
    for col, (label, value, help_text) in zip(st.columns(4), runview.header_metrics(view)):
        col.metric(label, value, help=help_text)
    if view.progress is not None and view.status == "running":
        st.progress(view.progress, text=f"{view.progress:.0%}")
    if view.error:
        st.error(view.error)
    for finding in view.findings:
        (st.error if finding.severity == "error" else st.warning)(finding.message)
    charts = runview.curve_charts(store(), run_id)
    if not charts:
        st.caption("No metrics logged yet.")
    columns = st.columns(2)
    for i, (title, part) in enumerate(charts):
        columns[i % 2].plotly_chart(curves_figure(part, "step", {}, title), key=f"curve_{title}")


live_header()
view = runview.overview(index, run_id, findings=False)  # the live header above shows the findings
preds = runview.predictions(index, run_id)
tabs = st.tabs(["Results", "Confusion", "Predictions", "Config & notes", "Console"])

with tabs[0]:
    per_make = runview.per_make(index, run_id)
    if per_make.empty:
        st.caption("No per-make accuracy yet: it is logged by the end-of-run evaluation (test/per_make).")
    else:
        st.plotly_chart(bars_figure(per_make.sort_values("make"), "make", "accuracy", "Accuracy per make"))
        st.dataframe(per_make, hide_index=True, column_config={"accuracy": share_column("accuracy")})
    st.dataframe(runview.results_table(index, run_id), hide_index=True)

with tabs[1]:
    level = st.radio("Level", ["make", "model"], horizontal=True, key="confusion_level")
    cells = runview.confusion(index, run_id, level)
    if cells.empty:
        st.caption("No confusion matrix yet (logged at the end of a classify run).")
    else:
        st.plotly_chart(heatmap_figure(cells, runview.class_names(cells), f"Confusion ({level} level)"),
                        key="confusion_chart")
        pairs = runview.confused_pairs(index, run_id, level)
        st.markdown("**Most confused pairs** (choose one to see its images)")
        event = st.dataframe(pairs, hide_index=True, on_select="rerun", selection_mode="single-row",
                             key="confused_pairs")
        if event.selection.rows:
            pair = pairs.iloc[event.selection.rows[0]]
            images, captions = runview.pair_images(preds, level, pair["truth"], pair["predicted"])
            if images:
                st.image(images, width=128, caption=captions)

with tabs[2]:
    if preds.empty:
        st.caption("No predictions table yet.")
    else:
        show = st.radio("Show", ["misclassified", "all"], horizontal=True, key="pred_filter")
        st.dataframe(runview.prediction_sample(preds, show), hide_index=True)

with tabs[3]:
    st.markdown(f"**Changes:** {view.changes or '—'}  \n**Reason:** {view.reason or '—'}")
    st.json(view.config, expanded=False)
    notes = st.text_area("Notes", value=view.notes, key=f"notes_{run_id}")
    st.button("Save notes", on_click=show_error, args=(runview.save_notes, index, run_id, notes), key="save_notes")
    st.download_button("Download report (markdown)", reports.markdown_report(index, [run_id]),
                       file_name=f"{run_id}.md", mime="text/markdown")

with tabs[4]:

    @st.fragment(run_every=2)
    def console() -> None:
        st.code(runview.console_tail(store(), run_id) or "(no console output)", language="text")

    console()
