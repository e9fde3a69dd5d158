"""The Hugging Face callback round-trips what the Trainer logs, by global step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

transformers = pytest.importorskip("transformers")
import torch  # noqa: E402

from core import runfolder  # noqa: E402
from core.integrations.huggingface import ExplorerCallback  # noqa: E402
from core.runfolder import metricslog  # noqa: E402


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.layer(x)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = torch.nn.functional.cross_entropy(logits, labels)
        return out


def test_a_trainer_run_logs_an_explorer_run(tmp_path: Path) -> None:
    torch.manual_seed(0)
    rows = [{"x": torch.randn(4), "labels": torch.tensor(i % 2)} for i in range(16)]
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "out"), num_train_epochs=2,
                                          per_device_train_batch_size=4, logging_steps=1, eval_strategy="epoch",
                                          save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True,
                                          learning_rate=0.01)  # fmt: skip
    callback = ExplorerCallback(name="tiny-hf", group="hf", runs_dir=tmp_path / "runs")
    trainer = transformers.Trainer(model=Tiny(), args=args, train_dataset=rows, eval_dataset=rows[:8],
                                   callbacks=[callback])  # fmt: skip
    trainer.train()
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    logged = {(r.name, r.step): r.value for r in metricslog.read_records(run_dir)}
    history = trainer.state.log_history
    train_losses = [(h["step"], h["loss"]) for h in history if "loss" in h]
    eval_losses = [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h]
    assert len(train_losses) == 8 and len(eval_losses) == 2
    assert all(logged[("train/loss", s)] == pytest.approx(v) for s, v in train_losses)
    assert all(logged[("val/loss", s)] == pytest.approx(v) for s, v in eval_losses)
    assert logged[("train/loss_mean", 8)] == pytest.approx(sum(v for _, v in train_losses) / 8)
    config = json.loads((run_dir / runfolder.CONFIG_FILE).read_text())
    assert config["learning_rate"] == 0.01 and config["num_train_epochs"] == 2
    assert json.loads((run_dir / runfolder.STATUS_FILE).read_text())["status"] == "succeeded"
