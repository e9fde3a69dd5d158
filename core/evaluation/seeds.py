"""Seed groups: runs of one experiment that differ only in their seed, within a group or sweep.

A group label alone does not make seeds: three detection runs with different configs in one group are three
experiments, shown as such. Keys that do not change the experiment (the seed, the run's name, where it writes,
how many loader workers) are left out when configs are compared; a run that logged no config at all cannot be
shown to repeat another, so it is never a seed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NOT_EXPERIMENT_KEYS = frozenset({
    "seed", "name", "run_name", "notes", "workers", "num_workers", "device", "output_dir", "out_dir",
    "log_every", "log_interval", "resume", "resume_from",
})  # fmt: skip


@dataclass(frozen=True)
class RunGroup:
    """Runs that share a group label, split by experiment.

    Attributes:
        label: the group label, with the differing keys when the label holds several experiments.
        runs: the run ids, in the order given.
        seeds: True when these are two or more runs of one config (a seed group); False for a single run.
        varied: config keys whose values differ between the experiments of this label (empty for one).
    """

    label: str
    runs: tuple[str, ...]
    seeds: bool
    varied: tuple[str, ...] = ()


def experiment_key(config: Mapping[str, Any]) -> str | None:
    """The config without the keys that do not change the experiment, as canonical JSON; None for no config."""
    if not config:
        return None
    kept = {k: v for k, v in config.items() if k not in NOT_EXPERIMENT_KEYS}
    return json.dumps(kept, sort_keys=True, default=str)


def group_runs(labels: Mapping[str, str | None], configs: Mapping[str, Mapping[str, Any]]) -> list[RunGroup]:
    """The experiments among runs: per group label, one entry per distinct config (minus the seed).

    Args:
        labels: run id -> group label (None or "" for an ungrouped run, which is never part of a seed group).
        configs: run id -> config.

    Returns:
        Seed groups (n >= 2) and single runs of grouped labels, in first-seen order; ungrouped runs are left out.
    """
    by_label: dict[str, dict[str | None, list[str]]] = {}
    for run, label in labels.items():
        if not label:
            continue
        key = experiment_key(configs.get(run) or {})
        by_label.setdefault(label, {}).setdefault(key if key is not None else f"run:{run}", []).append(run)
    groups = []
    for label, experiments in by_label.items():
        varied = _varied_keys([configs.get(runs[0]) or {} for runs in experiments.values()])
        for runs in experiments.values():
            name = label if len(experiments) == 1 else f"{label} · " + _describe(configs.get(runs[0]) or {}, varied)
            groups.append(RunGroup(name, tuple(runs), len(runs) >= 2, tuple(varied)))
    return groups


def seed_groups(labels: Mapping[str, str | None], configs: Mapping[str, Mapping[str, Any]]) -> list[RunGroup]:
    """Only the real seed groups of :func:`group_runs`: two or more runs of one config under one label."""
    return [g for g in group_runs(labels, configs) if g.seeds]


def summarize_seeds(values: Sequence[float]) -> dict[str, float | int]:
    """Mean, sample std (ddof 1), standard error of the mean and n of a seed group's finite final values."""
    finite = [float(v) for v in values if math.isfinite(v)]
    n = len(finite)
    if n == 0:
        return {"mean": math.nan, "std": math.nan, "sem": math.nan, "n": 0}
    mean = sum(finite) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in finite) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "sem": std / math.sqrt(n), "n": n}


def _varied_keys(configs: list[Mapping[str, Any]]) -> list[str]:
    keys = sorted({k for c in configs for k in c} - NOT_EXPERIMENT_KEYS)
    return [k for k in keys if len({json.dumps(c.get(k), sort_keys=True, default=str) for c in configs}) > 1]


def _describe(config: Mapping[str, Any], keys: list[str]) -> str:
    return ", ".join(f"{k}={config.get(k)}" for k in keys[:3]) or "no config"


def divergence_rate(values_at_epoch: Sequence[float | None], below: float) -> float:
    """The share of seeds that diverged: below ``below`` at the chosen epoch (as the re-ID log's "divergence rate
    below 0.75 mAP at epoch 20"), a NaN value or a seed that never reached that epoch counting as diverged.

    Args:
        values_at_epoch: each seed's value of the metric at the chosen epoch (None when not logged).
        below: the threshold, in the metric's own scale.
    """
    if not values_at_epoch:
        return math.nan
    failed = [v is None or not math.isfinite(v) or v < below for v in values_at_epoch]
    return sum(failed) / len(failed)
