"""Checks on a run's curves and on a comparison's final metrics, returned as findings that a page shows next
to the numbers (SPEC.md, "Diagnostics"): ``curves`` diagnoses one run, ``runs`` a set of runs, and
``findings`` holds what both share. The public checks are re-exported here.
"""

from core.evaluation.diagnostics.curves import (
    diagnose_run,
    find_degenerate_predictions,
    find_divergence,
    find_heads_disagree,
    find_overfitting,
    find_stall,
    find_val_loss_rising,
)
from core.evaluation.diagnostics.findings import DEFAULT_THRESHOLDS, KINDS, SEVERITIES, Finding, Thresholds
from core.evaluation.diagnostics.runs import diagnose_runs, find_identical_results, find_seed_instability

__all__ = [
    "DEFAULT_THRESHOLDS",
    "KINDS",
    "SEVERITIES",
    "Finding",
    "Thresholds",
    "diagnose_run",
    "diagnose_runs",
    "find_degenerate_predictions",
    "find_divergence",
    "find_heads_disagree",
    "find_identical_results",
    "find_overfitting",
    "find_seed_instability",
    "find_stall",
    "find_val_loss_rising",
]
