"""The Lightning logger round-trips hyperparameters, metrics by step, checkpoints and the final status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

lightning = pytest.importorskip("lightning")
import torch  # noqa: E402

from core import runfolder  # noqa: E402
from core.integrations.lightning import ExplorerLogger  # noqa: E402
from core.runfolder import metricslog  # noqa: E402


class Tiny(lightning.LightningModule):
    def __init__(self, lr: float = 0.1, width: int = 4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(width, 1)

    def training_step(self, batch: list[torch.Tensor], index: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=False)
        return loss

    def validation_step(self, batch: list[torch.Tensor], index: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def test_a_lightning_fit_logs_an_explorer_run(tmp_path: Path) -> None:
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(32, 4), torch.randn(32, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=8)
    logger = ExplorerLogger(name="tiny", group="lightning", runs_dir=tmp_path / "runs")
    trainer = lightning.Trainer(
        max_epochs=2, logger=logger, accelerator="cpu", log_every_n_steps=1,
        default_root_dir=tmp_path, enable_progress_bar=False, enable_model_summary=False,
    )
    trainer.fit(Tiny(lr=0.05), loader, loader)
    run_dir = logger.experiment.dir
    records = metricslog.read_records(run_dir)
    train = [(r.step, r.value) for r in records if r.name == "train/loss"]
    assert len(train) == 8 and [s for s, _ in train] == list(range(8))  # 4 batches x 2 epochs, by global step
    assert len([r for r in records if r.name == "val/loss"]) == 2
    assert trainer.callback_metrics["val_loss"].item() == pytest.approx(
        [r.value for r in records if r.name == "val/loss"][-1], rel=1e-6)  # fmt: skip
    assert json.loads((run_dir / runfolder.CONFIG_FILE).read_text()) == {"lr": 0.05, "width": 4}
    assert "artifacts/checkpoints/epoch=1-step=8.ckpt" in runfolder.list_artifacts(run_dir)
    assert not (run_dir / "tiny").exists()  # Lightning's own copies stay in its default_root_dir
    assert json.loads((run_dir / runfolder.STATUS_FILE).read_text())["status"] == "succeeded"
