"""What a metric means, in one place: which way is better and on what scale it was logged, so that every
page, verdict and diagnostic reads the numbers as the person who logged them meant them.

A metric's goal (``max``: higher is better, ``min``: lower is better, ``None``: neither, as for a learning
rate) and scale (``fraction`` 0-1, ``percent`` 0-100, or ``unbounded``) are inferred from its name and from the
values logged, unless the run declared them at log time (``run.define_metric("test/KL", goal="min")``, stored
in the run folder's ``metric_defs.json``). The values are never rescaled: a percent metric stays in percent, and
thresholds are converted into the metric's own scale instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Goal = Literal["max", "min"] | None
Scale = Literal["fraction", "percent", "unbounded"]
GOALS = ("max", "min")
SCALES = ("fraction", "percent", "unbounded")
DEFS_FILE = "metric_defs.json"

# Words in the last part of a name (split on "/", "_", "-", "." and case changes) that mean lower is better.
LOWER_IS_BETTER = frozenset({
    "loss", "kl", "error", "err", "errors", "eer", "fid", "mse", "mae", "rmse", "nll", "perplexity", "ppl",
    "wer", "cer", "distance", "dist", "gap", "seconds", "time", "latency", "divergence", "ece",
})  # fmt: skip
NO_DIRECTION = frozenset({"lr", "epoch", "step", "steps", "p", "gem", "momentum", "temperature", "wd"})
# The training process's CPU, memory and GPU use (core/recipes/system_metrics.py): measurements of the machine,
# not results, so neither direction is better (100% CPU is not "best") and none is a share.
RESOURCE_PREFIX = "system/"
# Words that make a metric a share: an accuracy, a retrieval rate, an agreement; and top-k, rank-k, mAP@k...
SHARE_WORDS = frozenset({
    "acc", "accuracy", "map", "recall", "precision", "f1", "agreement", "iou", "miou", "dice", "auc", "ap",
})  # fmt: skip
SHARE_PATTERN = re.compile(r"^(top|rank|map|ap|recall|precision|r|hit|hits|ndcg)\d+$")


@dataclass(frozen=True)
class Semantics:
    """How to read one metric.

    Attributes:
        name: the metric's name (``split/name``).
        goal: ``"max"``, ``"min"`` or None (no better direction: a learning rate).
        scale: ``"fraction"``, ``"percent"`` or ``"unbounded"``.
    """

    name: str
    goal: Goal = "max"
    scale: Scale = "unbounded"

    @property
    def unit(self) -> float:
        """The value of "everything" on this scale: 1 for a fraction, 100 for percent, 1 otherwise."""
        return 100.0 if self.scale == "percent" else 1.0

    @property
    def is_share(self) -> bool:
        return self.scale in ("fraction", "percent")

    def to_share(self, value: float) -> float:
        """The value as a share in [0, 1] for a fraction or percent metric; unchanged otherwise."""
        return value / self.unit

    def in_scale(self, share: float) -> float:
        """A threshold given as a share (0.02 = 2 points) in this metric's own scale (2.0 for percent)."""
        return share * self.unit

    def better(self, a: float, b: float) -> int:
        """1 when ``a`` is better than ``b``, -1 when worse, 0 when equal or the metric has no direction."""
        if self.goal is None or a == b or not (math.isfinite(a) and math.isfinite(b)):
            return 0
        return 1 if (a > b) == (self.goal == "max") else -1

    def best(self, values: Iterable[float]) -> float | None:
        """The best finite value, or None (no finite value, or no direction)."""
        finite = [v for v in values if math.isfinite(v)]
        if self.goal is None or not finite:
            return None
        return max(finite) if self.goal == "max" else min(finite)

    def format(self, value: float | None, digits: int = 2) -> str:
        """'34.84%' for a share (fraction or percent, as logged), '0.3121' otherwise; '—' for a missing value."""
        if value is None or not math.isfinite(value):
            return "—" if value is None or math.isnan(value) else str(value)
        if self.is_share:
            return f"{self.to_share(value) * 100:.{digits}f}%"
        return f"{value:.4g}"

    def format_delta(self, delta: float | None, digits: int = 2) -> str:
        """A difference: '+1.20 pts' (percentage points) for a share, '+0.013' otherwise."""
        if delta is None or not math.isfinite(delta):
            return "—"
        if self.is_share:
            return f"{self.to_share(delta) * 100:+.{digits}f} pts"
        return f"{delta:+.4g}"

    @property
    def direction_text(self) -> str:
        return {"max": "higher is better", "min": "lower is better"}.get(self.goal or "", "no better direction")


def name_words(name: str) -> list[str]:
    """'val/make_head_acc' -> ['make', 'head', 'acc']; 'test/KL' -> ['kl']; 'val/mAP@5' -> ['map', '5']."""
    last = name.rsplit("/", 1)[-1]
    return [w.lower() for w in re.split(r"[_\-.@\s]+", last) if w]


def infer_goal(name: str) -> Goal:
    """Lower is better for losses, errors, distances and times; no direction for a learning rate or the machine's
    resource use (``system/*``); else higher."""
    if name.startswith(RESOURCE_PREFIX):
        return None
    words = name_words(name)
    joined = "_".join(words)
    if any(w in LOWER_IS_BETTER for w in words) or joined.endswith("loss"):
        return "min"
    if words and all(w in NO_DIRECTION for w in words):
        return None
    return "max"


def infer_scale(name: str, values: Iterable[float] = ()) -> Scale:
    """A share (accuracy, mAP, rank-k, agreement...) is ``percent`` when any finite value logged exceeds 1 and
    none exceeds 100, else ``fraction``; any other metric is ``unbounded``."""
    words = name_words(name)
    if not any(w in SHARE_WORDS or SHARE_PATTERN.match(w) for w in words) or infer_goal(name) != "max":
        return "unbounded"
    finite = [abs(v) for v in values if math.isfinite(v)]
    if finite and max(finite) > 1 + 1e-9:
        return "percent" if max(finite) <= 100 + 1e-9 else "unbounded"
    return "fraction"


def resolve(name: str, values: Iterable[float] = (), declared: Mapping[str, object] | None = None) -> Semantics:
    """The semantics of ``name``: what the run declared (``{"goal": "min", "scale": "percent"}``), the rest
    inferred from the name and the values logged."""
    declared = declared or {}
    values = list(values)
    goal = declared.get("goal", infer_goal(name))
    scale = declared.get("scale") or infer_scale(name, values)
    return Semantics(name, goal if goal in GOALS else None, scale if scale in SCALES else "unbounded")  # type: ignore[arg-type]


def resolve_many(
    values: Mapping[str, Iterable[float]], declared: Mapping[str, Mapping[str, object]] | None = None
) -> dict[str, Semantics]:
    """Semantics of several metrics at once: name -> the values logged for it (over all runs compared, so that
    runs logging the same metric read it the same way)."""
    declared = declared or {}
    return {name: resolve(name, vals, declared.get(name)) for name, vals in values.items()}


def check_definition(name: str, goal: object = None, scale: object = None) -> dict[str, str]:
    """A ``define_metric`` record, checked: ``{"goal": "min"}`` and/or ``{"scale": "percent"}``.

    Raises:
        ValueError: a goal or scale that is not one of the known ones, naming them.
    """
    record: dict[str, str] = {}
    if goal is not None:
        if goal not in GOALS:
            raise ValueError(f"goal of {name!r} must be 'max' (higher is better) or 'min' (lower), got {goal!r}")
        record["goal"] = str(goal)
    if scale is not None:
        if scale not in SCALES:
            raise ValueError(f"scale of {name!r} must be one of {', '.join(SCALES)}, got {scale!r}")
        record["scale"] = str(scale)
    return record
