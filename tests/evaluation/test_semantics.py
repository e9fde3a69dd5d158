"""Metric semantics: direction and scale inferred from names and values, declarations win, formatting."""

from __future__ import annotations

import math

import pytest

from core.evaluation.semantics import Semantics, check_definition, infer_goal, infer_scale, resolve


@pytest.mark.parametrize(
    ("name", "goal"),
    [
        ("train/loss", "min"), ("val/loss", "min"), ("test/KL", "min"), ("val/error", "min"),
        ("val/top1", "max"), ("val/mAP", "max"), ("val/head_agreement", "max"), ("train/lr", None),
        ("train/epoch_seconds", "min"), ("train/images_per_second", "max"), ("val/box_loss", "min"),
        ("system/cpu_percent", None), ("system/gpu_utilization_percent", None), ("system/ram_gb", None),
    ],
)  # fmt: skip
def test_direction_from_the_name(name: str, goal: str | None) -> None:
    assert infer_goal(name) == goal


def test_scale_from_the_values_logged() -> None:
    assert infer_scale("test/top1", [34.84, 35.1]) == "percent"
    assert infer_scale("test/top1", [0.3484, 0.351]) == "fraction"
    assert infer_scale("val/mAP", [0.71]) == "fraction"
    assert infer_scale("val/loss", [2.3]) == "unbounded"
    assert infer_scale("test/top1", [340.0]) == "unbounded"  # not a share at all
    assert infer_scale("test/top3", [52.1]) == "percent" and infer_scale("val/rank10", [0.9]) == "fraction"
    assert infer_scale("val/mAP@5", [0.7]) == "fraction" and infer_scale("test/AP50", [61.0]) == "percent"
    assert infer_scale("train/gem_p", [3.0]) == "unbounded" and infer_scale("val/epoch", [3.0]) == "unbounded"
    assert infer_scale("system/gpu_memory_percent", [41.0]) == "unbounded"  # a measurement, not an accuracy


def test_a_declaration_wins_over_the_name() -> None:
    assert resolve("test/KL", [0.1], {"goal": "max"}).goal == "max"
    assert resolve("val/score", [0.5], {"scale": "percent"}).scale == "percent"
    with pytest.raises(ValueError, match="'max'"):
        check_definition("x", goal="lower")


def test_percent_and_fraction_read_alike() -> None:
    percent, fraction = Semantics("t/top1", "max", "percent"), Semantics("t/top1", "max", "fraction")
    assert percent.format(34.84) == fraction.format(0.3484) == "34.84%"
    assert percent.format_delta(1.2) == fraction.format_delta(0.012) == "+1.20 pts"
    assert percent.in_scale(0.02) == pytest.approx(2.0) and fraction.in_scale(0.02) == pytest.approx(0.02)


def test_better_and_best_follow_the_goal() -> None:
    loss = Semantics("val/loss", "min")
    assert loss.better(0.5, 0.7) == 1 and loss.better(0.7, 0.5) == -1 and loss.better(0.5, 0.5) == 0
    assert loss.best([0.7, 0.5, math.nan]) == 0.5
    assert Semantics("train/lr", None).best([0.1, 0.2]) is None
