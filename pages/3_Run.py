"""Run: status, progress and ETA, config and reasons, live curves, console tail, per-make accuracy, the
confusion matrix with its images, sample predictions, diagnostics, notes and the report."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core.store import queries
from core.views import reports
from core.views import run as runview
from pages.lib.charts import bars_figure, curves_figure, heatmap_figure
from pages.lib.common import page_setup, selected_run, show_error, store

page_setup("Run")
index = store()
if index is None:
    st.stop()
recent, _ = queries.find_runs(index, metrics=[], limit=200)
if recent.empty:
    st.title("Run")
    st.info("No runs yet: launch one on the Launch page.")
    st.stop()
# No status in the label: the live header below refreshes it, the picker is drawn once per page run.
labels = dict(zip(recent["id"], recent["name"] + " · " + recent["id"].str[-6:]))
current = selected_run()
choices = list(labels) if current in labels or current is None else [current, *labels]
run_id = st.selectbox("Run", choices, index=choices.index(current) if current in choices else 0,
                      format_func=lambda r: labels.get(r, r), key="run_pick")
st.session_state["run_id"] = run_id


@st.fragment(run_every=2)
def live_header() -> None:
    view = runview.overview(store(), run_id)
    st.title(view.name)
    cols = st.columns(4)
    cols[0].metric("Status", "stale" if view.stale else view.status,
                   help="stale: the process is alive but has not reported progress for a minute")
    cols[1].metric("Recipe", view.recipe)
    cols[2].metric("Group", view.group or "—")
    cols[3].metric("ETA", str(dt.timedelta(seconds=round(view.eta_s))) if view.eta_s else "—")
    if view.progress is not None and view.status == "running":
        st.progress(view.progress, text=f"{view.progress:.0%}")
    if view.error:
        st.error(view.error)
    for finding in view.findings:
        (st.error if finding.severity == "error" else st.warning)(finding.message)
    points = runview.curves(store(), run_id)
    if points.empty:
        st.caption("No metrics logged yet.")
        return
    points["series"] = points["name"]
    groups = [("Loss", ["train/loss", "val/loss"]), ("Top-1", ["train/top1", "val/top1"]),
              ("Top-5", ["train/top5", "val/top5"]), ("Make accuracy", ["train/make_acc", "val/make_acc",
                                                                        "val/make_head_acc", "val/head_agreement"]),
              ("Learning rate", ["train/lr"]), ("mAP / rank-1", ["val/mAP", "val/rank1"])]
    charts = [(t, points[points["name"].isin(names)]) for t, names in groups]
    charts = [(t, p) for t, p in charts if not p.empty]
    columns = st.columns(2)
    for i, (title, part) in enumerate(charts):
        columns[i % 2].plotly_chart(curves_figure(part, "step", {}, title), key=f"curve_{title}")


live_header()
view = runview.overview(index, run_id, findings=False)  # the live header above shows the findings
tabs = st.tabs(["Results", "Confusion", "Predictions", "Config & notes", "Console"])

with tabs[0]:
    per_make = runview.per_make(index, run_id)
    if per_make.empty:
        st.caption("No per-make accuracy yet: it is logged by the end-of-run evaluation (test/per_make).")
    else:
        st.plotly_chart(bars_figure(per_make.sort_values("make"), "make", "accuracy", "Accuracy per make"))
        st.dataframe(per_make, hide_index=True, column_config={
            "accuracy": st.column_config.ProgressColumn("accuracy", min_value=0.0, max_value=1.0, format="%.3f")})
    results = queries.final_metrics(index, [run_id])
    st.dataframe(results[results["name"].str.startswith("test/")][["name", "last_value"]], hide_index=True)

with tabs[1]:
    level = st.radio("Level", ["make", "model"], horizontal=True, key="confusion_level")
    cells = runview.confusion(index, run_id, level)
    if cells.empty:
        st.caption("No confusion matrix yet (logged at the end of a classify run).")
    else:
        names = sorted(set(cells["truth"]) | set(cells["predicted"]))
        st.plotly_chart(heatmap_figure(cells, names, f"Confusion ({level} level)"), key="confusion_chart")
        pairs = cells[cells["truth"] != cells["predicted"]].sort_values("count", ascending=False).head(15)
        st.markdown("**Most confused pairs** (choose one to see its images)")
        event = st.dataframe(pairs, hide_index=True, on_select="rerun", selection_mode="single-row",
                             key="confused_pairs")
        if event.selection.rows:
            pair = pairs.iloc[event.selection.rows[0]]
            preds = runview.predictions(index, run_id)
            column = "truth" if level == "model" else "truth_make"
            predicted = "pred" if level == "model" else "pred_make"
            if column in preds:
                hits = preds[(preds[column] == pair["truth"]) & (preds[predicted] == pair["predicted"])]
                st.image(hits["image"].head(12).tolist(), width=128,
                         caption=[f"{t} → {p}" for t, p in zip(hits[column].head(12), hits[predicted].head(12))])

with tabs[2]:
    preds = runview.predictions(index, run_id)
    if preds.empty:
        st.caption("No predictions table yet.")
    else:
        show = st.radio("Show", ["misclassified", "all"], horizontal=True, key="pred_filter")
        sample = preds[~preds["correct"].astype(bool)] if show == "misclassified" else preds
        st.dataframe(sample.head(200), hide_index=True)

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

