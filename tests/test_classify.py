"""The classify recipe end to end on a tiny dataset and a tiny timm model: every option value trains a step.

Each run reads back through the index (core.store) the way the app does. Runs are one epoch of one
batch at 32 px, so the whole file stays within seconds per test on two CPU cores.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import timm
import torch

from core.cli.main import main as cli_main
from core.datasets import DatasetError
from core.recipes import ConfigError
from core.recipes.classify import checkpoint as ckpt
from core.recipes.classify import model as model_module
from core.recipes.classify import train as train_module
from core.recipes.classify.model import PretrainedWeightsError
from core.recipes.runner import ResumeError, RunFailedError, resume_run, run_recipe
from core.runfolder import metricslog
from core.store import Store, queries

from .conftest import run_cli

SPLIT_METRICS = [f"{split}/{name}" for split in ("train", "val") for name in ("loss", "top1", "top5", "make_acc")]
EPOCH_METRICS = [*SPLIT_METRICS, "train/lr", "train/epoch_seconds", "train/images_per_second"]
TEST_METRICS = ["test/loss", "test/top1", "test/top5", "test/make_acc", "test/gap"]
TABLES = [
    "test/per_make",
    "test/per_model",
    "test/confusion_model",
    "test/confusion_make",
    "test/top_confused",
    "test/predictions",
]


def tiny(root: Path, *extra: str) -> list[str]:
    """Overrides of a one-batch run of a tiny model on the tiny set (later keys in ``extra`` win)."""
    base = {
        "data_root": str(root),
        "backbone": "test_resnet",
        "image_size": "32",
        "batch_size": "8",
        "epochs": "1",
        "max_train_batches": "1",
        "max_eval_batches": "1",
        "warmup_epochs": "0",
        "device": "cpu",
    }
    base |= dict(item.split("=", 1) for item in extra)
    return [f"{k}={v}" for k, v in base.items()]


def record(run_id: str) -> dict:
    """The run as `python -m core show --json` prints it, read through the index."""
    with Store(in_memory=True) as store:
        store.sync()
        return queries.run_record(store, run_id)


def quiet(line: str) -> None:
    """Progress lines are not needed in tests."""


def assert_trained(rec: dict, *, epochs: int = 1, multi: bool = False) -> None:
    assert rec["status"] == "succeeded", rec["status_record"]
    names = EPOCH_METRICS + (["val/make_head_acc", "val/head_agreement"] if multi else [])
    for name in names:
        assert [step for step, _ in rec["metrics"][name]] == list(range(1, epochs + 1)), name
    assert all(v is not None and v == v for _, v in rec["metrics"]["train/loss"]), "train loss is not finite"
    last = rec["metrics"]["test/top1"][-1][0]
    for name in TEST_METRICS + (["test/make_head_acc", "test/head_agreement"] if multi else []):
        assert rec["metrics"][name][-1][0] == last
    assert rec["metrics"]["data/skipped_images"] == [[0, 0.0]]
    for table in TABLES:
        assert rec["tables"].get(table), table
    assert {"checkpoints/last.pt", "checkpoints/best.pt"} <= set(rec["artifacts"])


OPTION_VALUES = [
    *[[f"scheduler={s}", "epochs=2", "warmup_epochs=1"] for s in ("cosine", "onecycle", "step", "plateau", "none")],
    *[[f"optimizer={o}"] for o in ("adamw", "adam", "sgd")],
    *[[f"augment={a}"] for a in ("none", "light", "strong")],
    *[[f"balance={b}"] for b in ("none", "loss", "sampler")],
    ["heads=single"],
    ["freeze=backbone"],
    ["freeze=backbone", "unfreeze_epoch=1", "epochs=2"],
    ["focal_gamma=2"],
    ["label_smoothing=0"],
    ["label_smoothing=0.3", "balance=loss", "focal_gamma=1"],
    ["amp=bf16"],
    ["amp=off", "channels_last=false"],
    ["channels_last=true"],
    ["dropout=0.5"],
    ["num_workers=1"],
]


@pytest.mark.parametrize("options", OPTION_VALUES, ids=lambda o: " ".join(o))
def test_every_option_value_trains(tiny_cars: Path, options: list[str]) -> None:
    run_id = run_recipe("classify", tiny(tiny_cars, *options), echo=quiet)
    epochs = int(dict(o.split("=") for o in options).get("epochs", 1))
    assert_trained(record(run_id), epochs=epochs)


@pytest.mark.parametrize("consistency", ["0", "0.5"])
def test_multi_head_logs_make_head_accuracy_and_agreement(tiny_cars: Path, consistency: str) -> None:
    overrides = tiny(tiny_cars, "heads=multi", f"consistency_weight={consistency}", "make_loss_weight=1")
    rec = record(run_recipe("classify", overrides, echo=quiet))
    assert_trained(rec, multi=True)
    ((_, agreement),) = rec["metrics"]["val/head_agreement"]
    assert 0.0 <= agreement <= 1.0
    assert all("make_head" in row for row in rec["tables"]["test/predictions"])


def test_tables_have_the_public_shapes(tiny_cars: Path) -> None:
    rec = record(run_recipe("classify", tiny(tiny_cars, "max_eval_batches=0"), echo=quiet))
    per_make = rec["tables"]["test/per_make"]
    assert set(per_make[0]) == {"make", "correct", "total", "accuracy"}
    assert sum(r["total"] for r in per_make) == rec["metrics"]["test/images"][0][1]
    cells = rec["tables"]["test/confusion_make"]
    assert set(cells[0]) >= {"truth", "predicted", "count"} and all(c["count"] > 0 for c in cells)
    assert sum(c["count"] for c in cells) == sum(r["total"] for r in per_make)
    row = rec["tables"]["test/predictions"][0]
    assert Path(row["image"]).is_file() and row["truth"] and len(row["top5"]) == 5
    probs = [p["prob"] for p in row["top5"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert row["pred"] == row["top5"][0]["class"]
    assert row["correct"] == (row["truth"] == row["pred"])


def test_compile_path_wraps_the_model(tiny_cars: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_compile(module: torch.nn.Module) -> torch.nn.Module:
        calls.append(module)
        return module  # real compilation needs minutes of C++ builds on a CPU

    monkeypatch.setattr(torch, "compile", fake_compile)
    assert_trained(record(run_recipe("classify", tiny(tiny_cars, "compile=true"), echo=quiet)))
    assert len(calls) == 1


def test_early_stop_ends_the_run_when_val_top1_stalls(tiny_cars: Path) -> None:
    # a frozen backbone and a negligible lr: val top-1 cannot improve after epoch 1
    overrides = tiny(tiny_cars, "epochs=5", "early_stop_patience=1", "freeze=backbone", "lr=1e-8", "scheduler=none")
    rec = record(run_recipe("classify", overrides, echo=quiet))
    assert [s for s, _ in rec["metrics"]["val/top1"]] == [1, 2]
    assert rec["metrics"]["test/top1"][0][0] == 2 and rec["metrics"]["test/checkpoint_epoch"] == [[2, 1.0]]


def test_checkpoint_loads_with_weights_only_and_rebuilds_the_model(tiny_cars: Path, runs_root: Path) -> None:
    run_id = run_recipe("classify", tiny(tiny_cars, "heads=multi"), echo=quiet)
    path = runs_root / run_id / "checkpoints" / "last.pt"
    raw = torch.load(path, weights_only=True)
    assert raw["recipe"] == "classify" and raw["recipe_version"] == ckpt.RECIPE_VERSION and raw["epoch"] == 1
    assert raw["config"]["backbone"] == "test_resnet" and "optimizer" in raw["training"]
    model, meta = ckpt.load_checkpoint(path)
    assert meta["classes"] == raw["classes"] and len(meta["makes"]) == 3 and "model" not in meta
    for key, value in model.state_dict().items():
        assert torch.equal(value, raw["model"][key]), key
    out = model(torch.randn(2, 3, 32, 32))
    assert out["logits"].shape == (2, 6) and out["make_logits"].shape == (2, 3)


def test_checkpoint_errors_are_clear(tmp_path: Path, tiny_cars: Path, runs_root: Path) -> None:
    with pytest.raises(ckpt.CheckpointError, match="no checkpoint at"):
        ckpt.load_checkpoint(tmp_path / "missing.pt")
    run_id = run_recipe("classify", tiny(tiny_cars), echo=quiet)
    saved = torch.load(runs_root / run_id / "checkpoints" / "best.pt", weights_only=True)
    saved["recipe_version"] = ckpt.RECIPE_VERSION + 1
    torch.save(saved, tmp_path / "future.pt")
    with pytest.raises(ckpt.CheckpointError, match=f"version {ckpt.RECIPE_VERSION + 1}.*retrain"):
        ckpt.load_checkpoint(tmp_path / "future.pt")


class Stop(Exception):
    """Raised from the progress callback to stop a run after an epoch, as a crash would."""


def stop_after(epoch: int) -> Callable[[str], None]:
    def echo(line: str) -> None:
        if line.startswith(f"epoch {epoch}/"):
            raise Stop(f"stopped after epoch {epoch}")

    return echo


def drop_step(run_dir: Path, step: int) -> None:
    """Remove the records of ``step`` from the metrics log: a crash between checkpoint and log."""
    path = run_dir / metricslog.METRICS_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(line for line in lines if not line.startswith(f"{step}\t".encode())))


@pytest.mark.parametrize("lost_log", [False, True], ids=["clean-stop", "crash-before-log"])
def test_resume_continues_at_the_next_epoch_without_duplicates(
    tiny_cars: Path, runs_root: Path, lost_log: bool
) -> None:
    overrides = tiny(tiny_cars, "epochs=3")
    with pytest.raises(RunFailedError, match="stopped after epoch 2") as info:
        run_recipe("classify", overrides, echo=stop_after(2))
    run_id = info.value.run_id
    assert record(run_id)["status"] == "failed"
    if lost_log:
        drop_step(runs_root / run_id, 2)
    lines: list[str] = []
    assert resume_run(run_id, echo=lines.append) == run_id
    assert lines[0].startswith(f"resuming {run_id} after epoch 2") and lines[1].startswith("epoch 3/3")
    assert_trained(record(run_id), epochs=3)
    with pytest.raises(ResumeError, match="already succeeded"):
        resume_run(run_id)


def test_resume_without_a_checkpoint_says_so(tiny_cars: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object) -> None:
        raise RuntimeError("out of memory in the first epoch")

    monkeypatch.setattr(train_module, "run_epoch", crash)
    with pytest.raises(RunFailedError, match="out of memory in the first epoch") as info:
        run_recipe("classify", tiny(tiny_cars), echo=quiet)
    assert record(info.value.run_id)["status_record"]["error"] == "RuntimeError: out of memory in the first epoch"
    with pytest.raises(ResumeError, match="nothing to resume"):
        resume_run(info.value.run_id)


def test_pretrained_true_offline_is_a_clear_error_and_creates_nothing(
    tiny_cars: Path, runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = timm.create_model

    def offline(name: str, pretrained: bool = False, **kwargs: object) -> torch.nn.Module:
        if pretrained:
            raise OSError("[Errno -2] Name or service not known: huggingface.co")
        return real(name, pretrained=False, **kwargs)

    monkeypatch.setattr(timm, "create_model", offline)
    with pytest.raises(PretrainedWeightsError, match="pretrained=false") as info:
        run_recipe("classify", tiny(tiny_cars, "pretrained=true"), echo=quiet)
    assert "Traceback" not in str(info.value)
    assert list(runs_root.iterdir()) == []


def test_pretrained_from_a_local_file_and_from_an_earlier_run(tiny_cars: Path, tmp_path: Path, runs_root: Path) -> None:
    donor = model_module.build_model("test_resnet", 6)
    torch.save(donor.backbone.state_dict(), tmp_path / "backbone.pth")
    first = run_recipe("classify", tiny(tiny_cars, f"pretrained={tmp_path / 'backbone.pth'}"), echo=quiet)
    assert record(first)["status"] == "succeeded"
    best = runs_root / first / "checkpoints" / "best.pt"
    assert record(run_recipe("classify", tiny(tiny_cars, f"pretrained={best}"), echo=quiet))["status"] == "succeeded"
    torch.save({"unrelated": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(PretrainedWeightsError, match="does not fit backbone"):
        run_recipe("classify", tiny(tiny_cars, f"pretrained={tmp_path / 'other.pth'}"), echo=quiet)


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        (["dataset=imagefolder", "data_root=/no/such/folder"], DatasetError, "/no/such/folder"),
        (["dataset=imagefolder"], DatasetError, "data_root"),
        (["backbone=resnet_nope"], ValueError, "unknown timm backbone"),
        (["lr=fast"], ConfigError, "lr"),
        (["device=cuda:7"], ConfigError, "device"),
    ],
)
def test_bad_input_fails_before_a_run_folder_exists(
    tiny_cars: Path, runs_root: Path, overrides: list[str], error: type, words: str
) -> None:
    args = tiny(tiny_cars, *overrides)
    if not any(o.startswith("data_root=") for o in overrides):
        args = [a for a in args if not a.startswith("data_root=")]
    with pytest.raises(error, match=words):
        run_recipe("classify", args, echo=quiet)
    assert list(runs_root.iterdir()) == []


def test_cli_run_prints_progress_and_ends_with_the_run_id(tiny_cars: Path, runs_root: Path) -> None:
    done = run_cli("run", "classify", "--name", "smoke", *tiny(tiny_cars, "epochs=2"), "--group", "g")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("epoch 1/2") and lines[1].startswith("epoch 2/2")
    run_id = lines[-1]
    meta = json.loads((runs_root / run_id / "meta.json").read_text())
    assert (meta["name"], meta["group"], meta["recipe"]) == ("smoke", "g", "classify")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["run", "classify", "lr=fast"], "lr='fast'"),
        (["run", "classify", "epohcs=3"], "did you mean 'epochs'"),
        (["run", "nope"], "unknown recipe 'nope'"),
        (["run", "classify", "dataset=imagefolder", "data_root=/no/such"], "/no/such"),
        (["resume", "nope"], "no run 'nope'"),
        (["data", "imagefolder"], "--root"),
    ],
)
def test_cli_errors_are_one_line(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err


def test_cli_data_and_recipes(
    tiny_cars: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tiny_cars.parent))
    assert cli_main(["data", "synthetic-cars"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(tiny_cars)
    assert cli_main(["recipes"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("classify:") and "  backbone=mobilenetv3_small_100" in out and "scheduler=cosine" in out
    assert cli_main(["recipes", "--json"]) == 0
    entry = next(e for e in json.loads(capsys.readouterr().out) if e["name"] == "classify")
    assert {f["name"] for f in entry["fields"]} >= {"dataset", "backbone", "pretrained", "heads", "freeze"}


def test_a_queued_run_trains_in_the_folder_the_launcher_made(tiny_cars: Path, runs_root: Path) -> None:
    from core import launcher, runfolder

    run_id = launcher.launch("classify", tiny(tiny_cars), labels=launcher.RunLabels(name="queued"), start=False)
    assert run_recipe("classify", [], run_id=run_id, echo=quiet) == run_id
    rec = record(run_id)
    assert_trained(rec)
    assert rec["name"] == "queued" and rec["config"]["backbone"] == "test_resnet"
    assert [p.name for p in runfolder.iter_run_dirs(runs_root)] == [run_id]


def test_a_queued_run_with_a_broken_config_is_marked_failed(tiny_cars: Path, runs_root: Path) -> None:
    from core import launcher

    run_id = launcher.launch("classify", tiny(tiny_cars), start=False)
    config = runs_root / run_id / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "epochs": "many"}))
    with pytest.raises(ConfigError, match="epochs"):
        run_recipe("classify", [], run_id=run_id, echo=quiet)
    rec = record(run_id)
    assert rec["status"] == "failed" and "ConfigError: epochs" in rec["status_record"]["error"]
