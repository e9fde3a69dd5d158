"""Seed groups are runs of one config under one label, never a label over different configs."""

from __future__ import annotations

import math

import pytest

from core.evaluation.seeds import group_runs, seed_groups, summarize_seeds


def test_different_configs_in_one_group_are_not_seeds() -> None:
    labels = {"a": "det", "b": "det", "c": "det"}
    configs = {"a": {"lr": 0.1, "seed": 0}, "b": {"lr": 0.01, "seed": 0}, "c": {"lr": 0.001, "seed": 0}}
    assert seed_groups(labels, configs) == []
    groups = group_runs(labels, configs)
    assert [g.runs for g in groups] == [("a",), ("b",), ("c",)]
    assert all(g.varied == ("lr",) for g in groups)


def test_seeds_of_one_config_are_a_group_with_the_right_n() -> None:
    labels = {"a": "g", "b": "g", "c": "g", "d": "g", "e": None, "f": None}
    configs = {r: {"lr": 0.1, "seed": i, "name": r} for i, r in enumerate("abcef")}
    configs["d"] = {"lr": 0.2, "seed": 0}
    (group,) = seed_groups(labels, configs)
    assert group.runs == ("a", "b", "c") and group.seeds  # e and f: ungrouped, never a seed group


def test_runs_without_a_config_are_never_seeds() -> None:
    assert seed_groups({"a": "g", "b": "g"}, {"a": {}, "b": {}}) == []


def test_summary_of_seeds_matches_a_hand_computation() -> None:
    summary = summarize_seeds([0.80, 0.82, 0.84])
    assert summary["mean"] == pytest.approx(0.82)
    assert summary["std"] == pytest.approx(0.02)
    assert summary["sem"] == pytest.approx(0.02 / 3**0.5)
    assert summary["n"] == 3


def test_divergence_rate_as_the_log_defines_it() -> None:
    from core.evaluation.seeds import divergence_rate

    sgd = [0.80, 0.61, 0.55, 0.70, math.nan]  # LBE08-like: 4 of 5 below 0.75 at epoch 20 (one NaN)
    assert divergence_rate(sgd, below=0.75) == pytest.approx(0.8)
    assert divergence_rate([0.88, 0.87, None], below=0.75) == pytest.approx(1 / 3)  # never reached the epoch
    assert math.isnan(divergence_rate([], below=0.75))
