"""Where a run stands between epochs, shared by the recipes: the epoch loop (train, validate, checkpoint, log,
stop early), the early-stopping bookkeeping on the recipe's validation score (val top-1 for classify, val mAP
for reid; higher is better), and the training state that ``last.pt`` holds so that a stopped run resumes where
it was."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from core.recipes.common.backbone import set_frozen_for_epoch
from core.recipes.common.checkpoint import last_logged_step
from core.recipes.common.loop import Engine
from core.recipes.registry import RunContext
from core.tracking import Run

LEGACY_BEST = ("best_top1", "best_map")  # the best score's name in last.pt files written before this class
PARTS = ("optimizer", "scaler", "schedule")  # the engine's parts whose state resuming needs (and the loss's)


@dataclass
class Progress:
    """The last completed epoch, the best validation score so far and when it was reached, and the epochs
    since it last improved."""

    epoch: int = 0
    best: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0

    def update(self, epoch: int, score: float) -> bool:
        """Record a finished epoch; True when its score is the best so far."""
        self.epoch = epoch
        if score > self.best:
            self.best, self.best_epoch, self.bad_epochs = score, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> Progress:
        """From last.pt's ``progress``, also as written before the recipes shared this class."""
        fields = {k: v for k, v in saved.items() if k not in LEGACY_BEST}
        fields.setdefault("best", next((saved[name] for name in LEGACY_BEST if name in saved), -1.0))
        return cls(**fields)


def training_state(engine: Engine, progress: Progress) -> dict[str, Any]:
    """What last.pt holds besides the model: the optimizer, AMP scaler and schedule, the loss's own parameters
    (ArcFace's proxies; nothing for cross-entropy) and the progress."""
    state = {part: getattr(engine, part).state_dict() for part in PARTS}
    criterion = {k: v.detach().cpu() for k, v in engine.criterion.state_dict().items()}
    return {**state, **({"criterion": criterion} if criterion else {}), "progress": asdict(progress)}


def load_training_state(engine: Engine, saved: dict[str, Any], run: Run, logged: str) -> Progress:
    """Load last.pt (``saved``) into ``engine`` and return its progress; log its epoch's metrics when a stop fell
    between writing the checkpoint and logging them (``logged``: a metric that every epoch logs)."""
    engine.raw_model.load_state_dict(saved["model"])
    training = saved["training"]
    if "criterion" in training:
        engine.criterion.load_state_dict(training["criterion"])
    for part in PARTS:
        getattr(engine, part).load_state_dict(training[part])
    progress = Progress.from_saved(training["progress"])
    if last_logged_step(run.dir, logged) < progress.epoch:
        run.log(saved["metrics"], step=progress.epoch)
    return progress


def run_epochs(cfg: Any, run: Run, ctx: RunContext, engine: Engine, progress: Progress, *, score: str,
               one_epoch: Callable[[int], dict[str, float]], save: Callable[[dict[str, float], bool], None],
               describe: Callable[[int, int, dict[str, float]], str]) -> None:  # fmt: skip
    """Epochs after ``progress.epoch`` up to ``cfg.epochs``: unfreeze on schedule, ``one_epoch`` (its metrics),
    keep the best ``score`` (a NaN counts as no improvement), ``save`` the checkpoints, then log (after the
    checkpoint: a resume never logs an epoch twice), and stop after ``cfg.early_stop_patience`` epochs without
    a better score."""
    for epoch in range(progress.epoch + 1, cfg.epochs + 1):
        set_frozen_for_epoch(engine.raw_model, cfg.freeze, cfg.unfreeze_epoch, epoch, ctx.echo)
        metrics = one_epoch(epoch)
        value = metrics[score]
        improved = progress.update(epoch, value if math.isfinite(value) else -1.0)
        save(metrics, improved)
        run.log(metrics, step=epoch)
        run.sync()
        run.set_progress(epoch, cfg.epochs)
        ctx.echo(describe(epoch, cfg.epochs, metrics))
        if cfg.early_stop_patience and progress.bad_epochs >= cfg.early_stop_patience:
            ctx.echo(f"early stop: {score} has not improved for {progress.bad_epochs} epochs")
            return
