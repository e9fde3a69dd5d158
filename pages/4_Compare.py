"""Compare: curves overlaid, a summary with deltas against a baseline, the config diff, per-make accuracy
side by side, seed groups as mean ± std, whether a difference is significant, and a sweep's parallel coordinates."""

from __future__ import annotations

import streamlit as st

from core.evaluation import diagnostics
from core.store import queries
from core.views import compare
from pages.lib.charts import bands_figure, curves_figure, parallel_figure
from pages.lib.common import page_setup, store

page_setup("Compare")
st.title("Compare")
index = store()
if index is None:
    st.stop()
recent, _ = queries.find_runs(index, metrics=[], limit=500)
labels = dict(zip(recent["id"], recent["name"] + " (" + recent["id"].str[-6:] + ")"))
wanted = [r for r in st.session_state.get("compare_ids", []) if r in labels]
run_ids = st.multiselect("Runs", list(labels), default=wanted, format_func=labels.get, key="compare_pick")
if len(run_ids) < 2:
    st.info("Choose at least two runs here, or select them on the Runs page and press Compare.")
    st.stop()
st.session_state["compare_ids"] = run_ids
names = queries.metric_names(index, run_ids)
controls = st.columns([3, 2, 1, 1, 2])
metrics = controls[0].multiselect("Metrics", names, default=[m for m in ("val/top1", "val/loss", "val/make_acc",
                                                                           "val/mAP") if m in names][:3] or names[:2],
                                  key="compare_metrics")
baseline = controls[1].selectbox("Baseline", run_ids, format_func=labels.get, key="compare_baseline")
x_axis = controls[2].radio("x-axis", ["step", "time"], key="compare_x")
log_y = controls[3].toggle("log scale", key="compare_log")
smoothing = controls[4].slider("Smoothing", 0.0, 0.95, 0.0, 0.05, key="compare_smooth")
by_group = st.toggle("Aggregate seed groups (mean ± std)", key="compare_groups")

points = queries.curves_many(index, run_ids, metrics)
meta = queries.runs_meta(index, run_ids).set_index("id")
groups = meta["group"].to_dict()
chart_cols = st.columns(2)
for i, metric in enumerate(metrics):
    part = points[points["name"] == metric].copy()
    if part.empty:
        continue
    if by_group:
        chart_cols[i % 2].plotly_chart(bands_figure(compare.group_bands(part, groups), metric), key=f"band_{metric}")
        continue
    part["value"] = part.groupby("run_id")["value"].transform(lambda v: compare.smooth(v, smoothing))
    part["series"] = part["run_id"]
    if x_axis == "time":
        part["time"] = part["time"] - part.groupby("run_id")["time"].transform("min")
    chart_cols[i % 2].plotly_chart(curves_figure(part, x_axis, labels, metric, log_y), key=f"curve_{metric}")

st.subheader("Summary")
table = compare.summary(index, run_ids, metrics, baseline)
best_columns = [c for c in table.columns if c.startswith("best:")]
shown = table.drop(columns=best_columns).set_index("name")
st.table(
    shown.style.format(precision=4, na_rep="—").apply(
        lambda col: ["font-weight: bold; background-color: #e6f4ea" if b else "" for b in
                     table[f"best:{col.name}"]] if f"best:{col.name}" in table else [""] * len(col), axis=0),
)
st.caption(f"Δ against the baseline {labels[baseline]}; the best value of each metric is highlighted.")
for finding in diagnostics.diagnose_runs(
    {r: dict(zip(g["name"], g["last_value"])) for r, g in queries.final_metrics(index, run_ids).groupby("run_id")},
    groups,
):
    st.warning(finding.message)

st.subheader("Config differences")
differences = compare.config_differences(index, run_ids)
if differences.empty:
    st.caption("The configs are identical.")
else:
    st.dataframe(differences)

st.subheader("Sweep: parallel coordinates")
colour_by = st.selectbox("Colour by", names, index=names.index(metrics[0]) if metrics else 0, key="compare_parallel")
axes, left_out = compare.sweep_axes(index, run_ids, colour_by)
if axes:
    st.plotly_chart(parallel_figure(axes, compare.lower_is_better(colour_by)), key="parallel")
    st.caption("One line per run across the config keys that differ; drag along an axis to filter.")
else:
    st.caption(f"Nothing to draw: the runs' configs do not differ, or too few have {colour_by}.")
if left_out:
    st.caption(f"Left out (no value of {colour_by}): " + ", ".join(labels[r] for r in left_out))

st.subheader("Per-make accuracy")
per_make = compare.per_make(index, run_ids)
if per_make.empty:
    st.caption("None of these runs logged test/per_make.")
else:
    st.dataframe(per_make.rename(columns=labels).style.format(precision=3, na_rep="—"))

st.subheader("Is the difference real?")
main_metric = metrics[0] if metrics else "val/top1"
seed_table = compare.seed_groups(index, run_ids, main_metric)
if len(seed_table) >= 2 and (seed_table["n"] >= 2).sum() >= 2:
    st.dataframe(seed_table.drop(columns="values"), hide_index=True)
    pick = st.columns(2)
    group_a = pick[0].selectbox("Group A", seed_table["group"], key="welch_a")
    group_b = pick[1].selectbox("Group B", seed_table["group"], index=1, key="welch_b")
    if group_a != group_b:
        try:
            st.markdown(compare.welch_of_groups(seed_table, group_a, group_b, main_metric).sentence)
        except ValueError as exc:
            st.caption(str(exc))
other = next((r for r in run_ids if r != baseline), None)
result = compare.mcnemar_of_runs(index, baseline, other) if other else None
if result is not None:
    st.markdown(f"**{labels[baseline]} vs {labels[other]}:** {result.sentence}")
elif seed_table.empty or (seed_table["n"] < 2).all():
    st.caption("For a significance test, compare two runs with test predictions (McNemar), or two groups of "
               "at least two seeds each (Welch's t-test).")
