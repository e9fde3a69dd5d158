"""The reid recipe end to end on a tiny synthetic-spots set and a tiny timm model: the per-epoch and test
metrics, the tables and embeddings the Gallery reads, checkpoints, resume, and errors before a run exists.

Runs are one or two epochs of a few batches at 32 px, so each takes seconds on two CPU cores.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import timm
import torch

from core.datasets import DatasetError, generate_synthetic_spots
from core.recipes.common.backbone import PretrainedWeightsError
from core.recipes.reid import checkpoint as ckpt
from core.recipes.reid.embeddings import load_embeddings
from core.recipes.runner import ResumeError, RunFailedError, resume_run, run_recipe
from core.store import Store, queries

EPOCH_METRICS = ["train/loss", "train/lr", "val/mAP", "val/mAP_identity", "val/rank1", "val/rank5"]
TEST_METRICS = [f"test/{m}{s}" for m in ("mAP", "mAP_identity", "rank1", "rank5")
                for s in ("", "@flip", "@qe", "@rerank", "@all")]  # fmt: skip


@pytest.fixture(scope="module")
def spots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 individuals with 6 to 12 images of 32 px."""
    folder = tmp_path_factory.mktemp("spots") / "spots"
    return generate_synthetic_spots(folder, n_individuals=6, min_images=6, max_images=12, image_size=32)


def tiny(root: Path, *extra: str) -> list[str]:
    """Overrides of a short run of a tiny model on the tiny set (later keys in ``extra`` win)."""
    base = {"data_root": str(root), "backbone": "test_resnet", "image_size": "32", "batch_size": "8", "epochs": "1",
            "max_train_batches": "2", "warmup_epochs": "0", "device": "cpu", "embedding_size": "16",
            "head_width": "32"}  # fmt: skip
    base |= dict(item.split("=", 1) for item in extra)
    return [f"{k}={v}" for k, v in base.items()]


def record(run_id: str) -> dict:
    with Store(in_memory=True) as store:
        store.sync()
        return queries.run_record(store, run_id)


def quiet(line: str) -> None:
    """Progress lines are not needed here."""


def assert_trained(rec: dict, epochs: int = 1, gem: bool = True) -> None:
    assert rec["status"] == "succeeded", rec["status_record"]
    for name in EPOCH_METRICS + (["train/gem_p"] if gem else []):
        assert [step for step, _ in rec["metrics"][name]] == list(range(1, epochs + 1)), name
    for name in TEST_METRICS:
        ((step, value),) = rec["metrics"][name]
        assert step == epochs and 0.0 <= value <= 1.0, name
    assert {"test/queries", "test/per_identity"} <= set(rec["tables"])
    assert {"artifacts/embeddings/test.npz", "artifacts/embeddings/val.npz", "checkpoints/best.pt"} <= set(
        rec["artifacts"])  # fmt: skip


def test_a_tiny_run_logs_the_protocol_metrics_tables_and_embeddings(spots: Path, runs_root: Path) -> None:
    run_id = run_recipe("reid", tiny(spots, "epochs=2"), echo=quiet)
    rec = record(run_id)
    assert_trained(rec, epochs=2)
    assert rec["metrics"]["data/identities"] == [[0, 6.0]] and rec["metrics"]["data/skipped_images"] == [[0, 0.0]]
    row = rec["tables"]["test/queries"][0]
    assert Path(row["image"]).is_file() and len(row["top"]) == 10 and 0.0 <= row["ap"] <= 1.0
    assert {"image", "identity", "distance", "similarity", "correct"} == set(row["top"][0])
    saved = load_embeddings(runs_root / run_id / "artifacts" / "embeddings" / "test.npz")
    assert saved.embeddings.shape == saved.flipped.shape == (len(saved.labels), 16)
    assert np.allclose(np.linalg.norm(saved.embeddings, axis=1), 1.0, atol=1e-4)
    assert rec["metrics"]["test/images"][0][1] == len(saved.labels) and set(saved.names) <= set(saved.identities)
    model, meta = ckpt.load_checkpoint(runs_root / run_id / "checkpoints" / "best.pt")
    assert meta["identities"] == sorted(saved.identities.tolist()) and model(torch.randn(2, 3, 32, 32)).shape == (2, 16)


@pytest.mark.parametrize(
    "options",
    [
        ["loss=cosface", "scheduler=plateau"],
        ["loss=subcenter-arcface", "sub_centers=2", "optimizer=sgd"],
        ["loss=triplet", "miner=semihard", "images_per_identity=2"],
        ["loss=triplet", "miner=batch-hard", "images_per_identity=4"],
        ["focal_gamma=2", "balance=loss", "label_smoothing=0.1", "augment=strong"],
        ["balance=sampler", "images_per_identity=2", "pooling=avg", "bn_neck=false", "head_layers=0"],
        ["freeze=backbone", "unfreeze_epoch=1", "epochs=2", "backbone_lr_ratio=0.1", "head_layers=2", "dropout=0.2"],
    ],
    ids=lambda o: " ".join(o),
)
def test_option_values_train(spots: Path, options: list[str]) -> None:
    run_id = run_recipe("reid", tiny(spots, "max_train_batches=1", *options), echo=quiet)
    values = dict(o.split("=") for o in options)
    assert_trained(record(run_id), epochs=int(values.get("epochs", 1)), gem=values.get("pooling") != "avg")


class Stop(Exception):
    """Raised from the progress callback to stop a run after an epoch, as a crash would."""


def stop_after(epoch: int) -> Callable[[str], None]:
    def echo(line: str) -> None:
        if line.startswith(f"epoch {epoch}/"):
            raise Stop(f"stopped after epoch {epoch}")

    return echo


def test_resume_continues_from_the_checkpoint_with_the_loss_proxies(spots: Path, runs_root: Path) -> None:
    with pytest.raises(RunFailedError, match="stopped after epoch 1") as info:
        run_recipe("reid", tiny(spots, "epochs=2"), echo=stop_after(1))
    run_id = info.value.run_id
    last = ckpt.read_checkpoint(runs_root / run_id / "checkpoints" / "last.pt")
    assert last["epoch"] == 1 and "loss.W" in last["training"]["criterion"]
    lines: list[str] = []
    assert resume_run(run_id, echo=lines.append) == run_id
    assert lines[0].startswith(f"resuming {run_id} after epoch 1") and lines[1].startswith("epoch 2/2")
    assert_trained(record(run_id), epochs=2)
    with pytest.raises(ResumeError, match="already succeeded"):
        resume_run(run_id)


def test_pretrained_true_offline_is_a_clear_error_and_creates_nothing(
    spots: Path, runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = timm.create_model

    def offline(name: str, pretrained: bool = False, **kwargs: object) -> torch.nn.Module:
        if pretrained:
            raise OSError("[Errno -2] Name or service not known: huggingface.co")
        return real(name, pretrained=False, **kwargs)

    monkeypatch.setattr(timm, "create_model", offline)
    with pytest.raises(PretrainedWeightsError, match="pretrained=false"):
        run_recipe("reid", tiny(spots, "pretrained=true"), echo=quiet)
    assert list(runs_root.iterdir()) == []


def test_a_val_split_without_queries_fails_before_a_run_folder_exists(tmp_path: Path, runs_root: Path) -> None:
    from PIL import Image

    lines = []
    for k in range(3):
        for i in range(3):
            Image.new("RGB", (16, 16), (60 * k, 40 * i, 0)).save(tmp_path / f"{k}_{i}.png")
            lines.append(f"{k}_{i}.png,ind{k},{'val' if i == 0 else 'train'}")
    (tmp_path / "manifest.csv").write_text("\n".join(lines))
    with pytest.raises(DatasetError, match="no identity with two images"):
        run_recipe("reid", tiny(tmp_path, "dataset=csv-manifest"), echo=quiet)
    assert list(runs_root.iterdir()) == []
