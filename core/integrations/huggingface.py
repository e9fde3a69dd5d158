"""A Hugging Face ``transformers`` callback that writes an explorer run: the training arguments (and the model's
config) as the run's config, every log of the Trainer by global step, and the status at the end.

    from core.integrations.huggingface import ExplorerCallback
    Trainer(..., callbacks=[ExplorerCallback(name="vit-small", group="cars")])
"""

from __future__ import annotations

import os
from typing import Any

from transformers import TrainerCallback

from core import tracking
from core.integrations import flat_config, numbers


class ExplorerCallback(TrainerCallback):
    """Logs on the main process only (``state.is_world_process_zero``); ``eval_*`` metrics become ``val/*``."""

    def __init__(self, name: str | None = None, group: str | None = None, tags: tuple[str, ...] = (),
                 runs_dir: str | os.PathLike[str] | None = None) -> None:  # fmt: skip
        self._options = {"name": name, "group": group, "tags": tuple(tags), "runs_dir": runs_dir}
        self.run: tracking.Run | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self.run is not None:
            return
        config = flat_config(args.to_dict())
        if model is not None and hasattr(model, "config") and hasattr(model.config, "to_dict"):
            config.update(flat_config(model.config.to_dict(), "model."))
        self.run = tracking.start(config=config, all_ranks=True, **self._options)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if self.run is None or not logs:
            return
        if "train_runtime" in logs:  # the end-of-training summary: its train_loss is the mean over all steps
            logs = {("loss_mean" if k == "train_loss" else k): v for k, v in logs.items()}
        values = numbers(logs, skip=("epoch", "total_flos"))
        if values:
            self.run.log(values, step=int(state.global_step))
        if state.max_steps:
            self.run.set_progress(int(state.global_step), int(state.max_steps))

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.run is not None:
            self.run.finish("succeeded")
            self.run = None
