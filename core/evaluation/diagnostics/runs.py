"""Checks over a set of runs' final metrics: the same result across many configs, and instability across seeds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.evaluation.diagnostics.findings import (
    DEFAULT_THRESHOLDS,
    MAIN_METRICS,
    Finding,
    Thresholds,
    by_severity,
    display_name,
    format_delta,
    format_value,
    share_units,
    short_name,
)
from core.evaluation.seeds import experiment_key, group_runs


def _config_key(run: str, configs: Mapping[str, Mapping[str, object]] | None) -> str:
    """Runs with equal configs (the seed aside) share a key; without a config every run is its own."""
    key = experiment_key(configs.get(run) or {}) if configs is not None else None
    return f"run:{run}" if key is None else key


def as_shares(
    final: Mapping[str, Mapping[str, float]], declared: Mapping[str, Mapping[str, object]] | None = None
) -> dict[str, dict[str, float]]:
    """Final metrics with every share metric as a fraction, whether it was logged in percent or not (idempotent;
    the scale of a metric is read over all runs together)."""
    values: dict[str, list[float]] = {}
    for metrics in final.values():
        for name in metrics:
            if (value := _value(metrics, name)) is not None:
                values.setdefault(name, []).append(value)
    units = share_units(values, declared)
    return {
        run: {n: v / units[n] for n in metrics if (v := _value(metrics, n)) is not None}
        for run, metrics in final.items()
    }


def find_identical_results(
    final: Mapping[str, Mapping[str, float]],
    configs: Mapping[str, Mapping[str, object]] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[Finding]:
    """The same final top-1 (or mAP) in many runs with different configs: predictions ignoring the settings."""
    final = as_shares(final)
    findings: list[Finding] = []
    reported: set[frozenset[str]] = set()
    for name in MAIN_METRICS:
        by_value: dict[float, list[str]] = {}
        for run, metrics in final.items():
            value = _value(metrics, name)
            if value is not None and math.isfinite(value):
                by_value.setdefault(round(value, thresholds.identical_decimals), []).append(run)
        for value, runs in sorted(by_value.items()):
            distinct = len({_config_key(r, configs) for r in runs})
            if distinct < thresholds.identical_min_runs or frozenset(runs) in reported:
                continue
            reported.add(frozenset(runs))
            message = (
                f"{format_value(name, value, 2)} {display_name(name)} in {len(runs)} runs: the predictions may not "
                "depend on the settings; check whether one class is predicted for everything"
            )
            findings.append(Finding("identical_results", "warning", message, runs=tuple(runs), metric=name))
    return findings


def _value(metrics: Mapping[str, float], name: str) -> float | None:
    """The metric as a float (NaN stays NaN); None when it is missing or not a number."""
    try:
        return float(metrics[name])
    except (KeyError, TypeError, ValueError):
        return None


def _diverged(metrics: Mapping[str, float], name: str, diverged_below: float | None) -> bool:
    """A seed diverged when its main metric or any loss is NaN / inf, or the metric is below diverged_below."""
    value = _value(metrics, name)
    if value is not None and (not math.isfinite(value) or (diverged_below is not None and value < diverged_below)):
        return True
    losses = (_value(metrics, k) for k in metrics if "loss" in short_name(k))
    return any(v is not None and not math.isfinite(v) for v in losses)


def _spread(
    group: str, name: str, runs: list[str], values: list[float], means: dict[str, float], t: Thresholds
) -> Finding | None:
    """seed_instability when a group's seed std is large next to the gap to the nearest other group."""
    if len(values) < 2 or len(set(values)) == 1:
        return None
    mean, std = float(np.mean(values)), float(np.std(values, ddof=1))
    others = {g: abs(mean - m) for g, m in means.items() if g != group}
    varies = f"{display_name(name)} varies by ± {format_delta(name, std)} across {len(values)} seeds of group {group}"
    if others:
        nearest = min(others, key=others.get)
        gap = others[nearest]
        if std < t.seed_std_ratio * gap:
            return None
        ratio = f"{std / gap:.1f}x" if gap > 0 else "larger than"
        detail = f"{ratio} the {format_delta(name, gap)} gap to group {nearest}: single runs cannot rank these groups"
    else:
        if std < t.seed_std_max:
            return None
        detail = (
            f"above {format_delta(name, t.seed_std_max)} (mean {format_value(name, mean)}): "
            "single runs are not reliable"
        )
    message = f"{varies}, {detail}; compare the seed groups' means with a significance test (Welch's t-test)"
    return Finding("seed_instability", "warning", message, runs=tuple(runs), metric=name)


def find_seed_instability(
    final: Mapping[str, Mapping[str, float]],
    groups: Mapping[str, str | None],
    *,
    metric: str | None = None,
    diverged_below: float | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Finding]:
    """Seed groups whose spread is large next to the differences between groups, or with diverged seeds.

    Args:
        final: run id -> final metrics.
        groups: run id -> group name; a run not listed, or listed with an empty group, is a group of its own.
            With ``configs``, only runs of one config (the seed aside) within a group are seeds of each other
            (core.evaluation.seeds); without, the caller vouches that each group holds seeds of one config.
        metric: the main metric; default the first of :data:`MAIN_METRICS` that any run has.
        diverged_below: a seed whose main metric is below this also counts as diverged (the re-ID log's
            "divergence rate below 0.75 mAP").
        thresholds: see :class:`Thresholds`.
        configs: run id -> config.
    """
    name = metric or next((m for m in MAIN_METRICS if any(m in f for f in final.values())), None)
    if name is None:
        return []
    if diverged_below is not None:  # given in the metric's own scale, like the values logged
        unit = share_units({name: [v for f in final.values() if (v := _value(f, name)) is not None]})[name]
        diverged_below /= unit
    final = as_shares(final)
    members = _seed_members(final, groups, configs)
    diverged = {r for r in final if _diverged(final[r], name, diverged_below)}
    healthy = {
        g: [r for r in rs if r not in diverged and _value(final[r], name) is not None] for g, rs in members.items()
    }
    means = {  # only seed groups: a single run has no mean to rank against
        g: float(np.mean([float(final[r][name]) for r in rs]))
        for g, rs in healthy.items()
        if rs and len(members[g]) > 1
    }
    findings: list[Finding | None] = []
    for group, runs in members.items():
        if len(runs) < 2:
            continue
        findings.append(_divergence_rate(group, name, runs, [r for r in runs if r in diverged], diverged_below))
        values = [float(final[r][name]) for r in healthy[group]]  # all numbers: _value checked them
        findings.append(_spread(group, name, healthy[group], values, means, thresholds))
    return by_severity(findings)


def _seed_members(final: Mapping[str, Mapping[str, float]], groups: Mapping[str, str | None],
                  configs: Mapping[str, Mapping[str, Any]] | None) -> dict[str, list[str]]:  # fmt: skip
    """Group -> its runs; with configs only real seed groups (core.evaluation.seeds), other runs on their own."""
    if configs is not None:
        groups = {run: g.label for g in group_runs(dict(groups), configs) if g.seeds for run in g.runs}
    members: dict[str, list[str]] = {}
    for run in final:
        members.setdefault(groups.get(run) or run, []).append(run)
    return members


def _divergence_rate(group: str, name: str, runs: list[str], bad: list[str], below: float | None) -> Finding | None:
    if not bad:
        return None
    criterion = "NaN loss or metric" + ("" if below is None else f", or {name} below {format_value(name, below)}")
    message = (
        f"{len(bad)} of {len(runs)} seeds of group {group} diverged ({', '.join(bad)}; {criterion}): a "
        f"divergence rate of {len(bad) / len(runs):.0%} that the group's mean hides; report it alongside"
    )
    return Finding("seed_instability", "warning", message, runs=tuple(bad), metric=name)


def diagnose_runs(
    final: Mapping[str, Mapping[str, float]],
    groups: Mapping[str, str | None] | None = None,
    *,
    configs: Mapping[str, Mapping[str, object]] | None = None,
    metric: str | None = None,
    diverged_below: float | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    declared: Mapping[str, Mapping[str, object]] | None = None,
) -> list[Finding]:
    """Every check over several runs' final metrics, most severe first.

    Args:
        final: run id -> {metric name: final value}, e.g. {"r1": {"test/top1": 0.3484}}.
        groups: run id -> seed-group name ("" or None: no group); without it seed stability is not checked.
        configs: run id -> config; runs with equal configs (the seed aside) count once towards identical results
            and only they are seeds of each other (without configs every run has its own config for identical
            results, and the groups are taken as seed groups).
        metric: main metric for seed stability (see :func:`find_seed_instability`).
        diverged_below: see :func:`find_seed_instability`.
        thresholds: see :class:`Thresholds`.
        declared: metric definitions the runs declared (name -> {"goal", "scale"}), see core.evaluation.semantics.
    """
    final = as_shares(final, declared)
    findings: list[Finding | None] = [*find_identical_results(final, configs, thresholds)]
    if groups:
        findings += find_seed_instability(
            final, groups, metric=metric, diverged_below=diverged_below, thresholds=thresholds, configs=configs
        )
    return by_severity(findings)
