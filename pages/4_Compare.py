"""Compare: curves overlaid, a summary with deltas against a baseline, the config diff, per-make accuracy
side by side, seed groups as mean ± std, whether a difference is significant, and a sweep's parallel coordinates."""

import streamlit as st

from core.store import queries
from core.views import compare
from pages.lib.charts import bands_figure, curves_figure, parallel_figure
from pages.lib.common import page_setup, store_or_stop
from pages.lib.tables import highlight

page_setup("Compare")
st.title("Compare")
index = store_or_stop()
labels = compare.run_labels(index)
wanted = [r for r in st.session_state.get("compare_ids", []) if r in labels]
run_ids = st.multiselect("Runs", list(labels), default=wanted, format_func=labels.get, key="compare_pick")
if len(run_ids) < 2:
    st.info("Choose at least two runs here, or select them on the Runs page and press Compare.")
    st.stop()
st.session_state["compare_ids"] = run_ids
names = queries.metric_names(index, run_ids)
controls = st.columns([3, 2, 1, 1, 2])
metrics = controls[0].multiselect("Metrics", names, default=compare.default_metrics(names), key="compare_metrics")
baseline = controls[1].selectbox("Baseline", run_ids, format_func=labels.get, key="compare_baseline")
x_axis = controls[2].radio("x-axis", ["step", "time"], key="compare_x")
log_y = controls[3].toggle("log scale", key="compare_log")
smoothing = controls[4].slider("Smoothing", 0.0, 0.95, 0.0, 0.05, key="compare_smooth")
by_group = st.toggle("Aggregate seed groups (mean ± std)", key="compare_groups")

chart_cols = st.columns(2)
charts = compare.charts(index, run_ids, metrics, smoothing=smoothing, x_axis=x_axis, by_group=by_group)
for i, (metric, part) in enumerate(charts.items()):
    figure = bands_figure(part, metric) if by_group else curves_figure(part, x_axis, labels, metric, log_y)
    chart_cols[i % 2].plotly_chart(figure, key=f"{'band' if by_group else 'curve'}_{metric}")

st.subheader("Summary")
shown, best = compare.summary_cells(compare.summary(index, run_ids, metrics, baseline))
st.table(highlight(shown, best))
st.caption(f"Δ against the baseline {labels[baseline]}; the best value of each metric is highlighted.")
for finding in compare.findings(index, run_ids):
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
tests = compare.significance(index, run_ids, baseline, metrics)
if tests.welch:
    st.dataframe(tests.seeds.drop(columns="values"), hide_index=True)
    pick = st.columns(2)
    group_a = pick[0].selectbox("Group A", tests.seeds["group"], key="welch_a")
    group_b = pick[1].selectbox("Group B", tests.seeds["group"], index=1, key="welch_b")
    if group_a != group_b:
        try:
            st.markdown(compare.welch_of_groups(tests.seeds, group_a, group_b, tests.metric).sentence)
        except ValueError as exc:
            st.caption(str(exc))
if tests.mcnemar is not None:
    st.markdown(f"**{labels[baseline]} vs {labels[tests.other]}:** {tests.mcnemar.sentence}")
elif tests.hint:
    st.caption("For a significance test, compare two runs with test predictions (McNemar), or two groups of "
               "at least two seeds each (Welch's t-test).")
