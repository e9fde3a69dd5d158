"""A PyTorch Lightning logger that writes an explorer run: hyperparameters as the config, metrics by step,
checkpoints as run files, and the run's status when training ends.

    from core.integrations.lightning import ExplorerLogger
    trainer = lightning.Trainer(logger=ExplorerLogger(name="yolo-s", group="detector"))
"""

from __future__ import annotations

import os
from argparse import Namespace
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from core import tracking
from core.integrations import flat_config, numbers

_FINAL = {"success": "succeeded", "finished": "succeeded", "failed": "failed", "aborted": "cancelled"}


class ExplorerLogger(Logger):
    """Logs a Lightning run into EXPLORER_RUNS_DIR (or ``runs_dir``); only rank 0 writes, as Lightning asks.

    Args:
        name, group, tags, notes: as ``tracking.start``.
        runs_dir: the folder of run folders.
        log_checkpoints: copy the checkpoints Lightning saves (best and last) into the run's artifacts.
    """

    def __init__(self, name: str | None = None, group: str | None = None, tags: tuple[str, ...] = (),
                 notes: str = "", runs_dir: str | os.PathLike[str] | None = None,
                 log_checkpoints: bool = True) -> None:  # fmt: skip
        super().__init__()
        self._options = {"name": name, "group": group, "tags": tuple(tags), "notes": notes, "runs_dir": runs_dir}
        self._log_checkpoints = log_checkpoints
        self._run: tracking.Run | None = None

    @property
    def name(self) -> str:
        return self._options["name"] or "lightning"

    @property
    def version(self) -> str:
        return self.experiment.id

    @property
    def save_dir(self) -> str | None:
        return None  # Lightning keeps its own checkpoints under default_root_dir; the run gets copies

    @property
    @rank_zero_experiment
    def experiment(self) -> tracking.Run:
        """The explorer run, started on first use."""
        if self._run is None:
            self._run = tracking.start(**self._options)
        return self._run

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        values = vars(params) if isinstance(params, Namespace) else dict(params)
        self.experiment.update_config(flat_config(values))

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        values = numbers(metrics, skip=("epoch",))
        if values:
            self.experiment.log(values, step=step)

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        if not self._log_checkpoints:
            return
        for attribute in ("best_model_path", "last_model_path"):
            path = getattr(checkpoint_callback, attribute, "")
            if path and Path(path).is_file():
                self.experiment.log_file(path, f"checkpoints/{Path(path).name}")

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._run is not None:
            self._run.finish(_FINAL.get(status, "succeeded"), error=None if status != "failed" else "training failed")
