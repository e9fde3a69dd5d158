"""Compare: curves overlaid (or seed groups as mean ± std), a summary in each metric's units with deltas
against a baseline, verdicts of every run against it, the config diff, a sweep's parallel coordinates and
per-make accuracy side by side. The address keeps the runs, baseline and metrics, so it can be shared."""

import streamlit as st

from app_pages.lib.address import follow_address, follow_address_list, keep_address, keep_address_list
from app_pages.lib.charts import bands_option, curves_option
from app_pages.lib.common import page_setup, store_or_stop
from app_pages.lib.compare_parts import sweep_section, verdicts_section
from app_pages.lib.echarts import show
from app_pages.lib.tables import highlight
from core.store import queries
from core.views import compare, verdicts

page_setup("Compare")
st.title("Compare")
index = store_or_stop()
labels = compare.run_labels(index)
follow_address_list("compare_pick", "runs", list(labels), st.session_state.get("compare_ids", []))
run_ids = st.multiselect("Runs", list(labels), format_func=labels.get, key="compare_pick",
                         on_change=keep_address_list, args=("compare_pick", "runs"))
if len(run_ids) < 2:
    st.info("Choose at least two runs here, or select them on the Runs page and press Compare.")
    st.stop()
st.session_state["compare_ids"] = run_ids
st.query_params["runs"] = ",".join(run_ids)
names = queries.metric_names(index, run_ids)
controls = st.columns([3, 2, 1, 1, 2])
follow_address_list("compare_metrics", "metrics", names, compare.default_metrics(index, run_ids))
metrics = controls[0].multiselect("Metrics", names, key="compare_metrics", on_change=keep_address_list,
                                  args=("compare_metrics", "metrics"))
follow_address("compare_baseline", "baseline", run_ids)
baseline = controls[1].selectbox("Baseline", run_ids, format_func=labels.get, key="compare_baseline",
                                 on_change=keep_address, args=("compare_baseline", "baseline"))
st.query_params.update(metrics=",".join(metrics), baseline=baseline)
x_axis = controls[2].radio("x-axis", ["step", "time"], key="compare_x")
log_y = controls[3].toggle("log scale", key="compare_log")
smoothing = controls[4].slider("Smoothing", 0.0, 0.95, 0.0, 0.05, key="compare_smooth")
by_group = st.toggle("Aggregate seed groups (mean ± std)", key="compare_groups",
                     help="runs whose configs differ only in the seed, within a group, drawn as one band")

chart_cols = st.columns(2)
charts = compare.charts(index, run_ids, metrics, smoothing=smoothing, x_axis=x_axis, by_group=by_group)
for i, (metric, part) in enumerate(charts.items()):
    option = bands_option(part, metric, labels) if by_group else curves_option(part, x_axis, labels, metric, log_y)
    show(chart_cols[i % 2], option, key=f"{'band' if by_group else 'curve'}_{metric}")
if log_y and not by_group and (hidden := compare.hidden_on_log(charts)):
    st.caption("On the log scale, values at or below zero are left out of: " + ", ".join(hidden))

st.subheader("Summary")
semantics = verdicts.semantics_of(index, run_ids, metrics)
shown, best = compare.summary_cells(compare.summary(index, run_ids, metrics, baseline, semantics), semantics)
st.table(highlight(shown, best))
st.caption(f"Δ against the baseline {labels[baseline]} (shares in points, Δ% relative); the best value of each "
           "metric is highlighted by its direction (lower for a loss), none when the values tie.")

st.subheader("Is the difference real?")
if names:
    metric = st.selectbox("Verdicts on", metrics or names, key="compare_verdict_metric")
    verdicts_section(index, run_ids, baseline, metric, labels)

st.subheader("Config differences")
differences = compare.config_differences(index, run_ids)
if differences.empty:
    st.caption("The configs are identical.")
else:
    st.dataframe(differences)

st.subheader("Sweep: parallel coordinates")
if names and st.toggle("Draw the sweep's parallel coordinates", key="compare_sweep"):
    sweep_section(index, run_ids, names, metrics, labels)

st.subheader("Per-make accuracy")
per_make = compare.per_make(index, run_ids, labels)
if per_make.empty:
    st.caption("None of these runs logged test/per_make.")
else:
    st.dataframe(per_make)
