"""The Compare page's sections below the charts: the verdicts of every run against the baseline, the seed
groups and findings of ``core.views.verdicts``, and the sweep's parallel coordinates."""

from __future__ import annotations

import streamlit as st

from app_pages.lib.parallel import parallel_figure
from core.store import Store
from core.views import compare, verdicts


def verdicts_section(index: Store, run_ids: list[str], baseline: str, metric: str, labels: dict[str, str]) -> None:
    """Each run (or seed group) against the baseline's on ``metric``, Holm-corrected together; the real seed
    groups; the findings over the set; accuracies with their 95% Wilson interval."""
    judgement = verdicts.judge(index, run_ids, [metric], baseline)
    st.caption(f"Baseline {labels.get(baseline, baseline)} · {judgement.semantics[metric].direction_text}; "
               "McNemar's test on paired per-sample predictions, Welch's t-test between seed groups, "
               "p-values Holm-corrected over the comparisons below.")
    for verdict in judgement.verdicts:
        (st.success if verdict.significant else st.info)(verdict.sentence, icon="⚖️")
    groups = compare.seed_group_table(judgement, labels)
    if len(groups):
        st.markdown("**Seed groups** (runs whose configs differ only in the seed)")
        st.dataframe(groups, hide_index=True)
    for finding in judgement.findings:
        (st.error if finding.severity == "error" else st.warning)(finding.message)
    intervals = compare.intervals(index, run_ids, labels)
    if len(intervals):
        st.markdown("**Accuracies from per-sample predictions**, with their 95% Wilson interval")
        st.dataframe(intervals)


def sweep_section(index: Store, run_ids: list[str], names: list[str], metrics: list[str],
                  labels: dict[str, str]) -> None:
    """Parallel coordinates over the config keys that differ, coloured by a metric (brightest is best)."""
    colour_by = st.selectbox("Colour by", names, index=names.index(metrics[0]) if metrics else 0,
                             key="compare_parallel")
    axes, left_out = compare.sweep_axes(index, run_ids, colour_by)
    if axes:
        goal = verdicts.semantics_of(index, run_ids, [colour_by])[colour_by].goal
        st.plotly_chart(parallel_figure(axes, goal == "min"), key="parallel")
        st.caption("One line per run across the config keys that differ; drag along an axis to filter.")
    else:
        st.caption(f"Nothing to draw: the runs' configs do not differ, or too few have {colour_by}.")
    if left_out:
        st.caption(f"Left out (no value of {colour_by}): " + ", ".join(labels.get(r, r) for r in left_out))
