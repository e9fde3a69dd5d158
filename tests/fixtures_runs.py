"""A prepared runs folder for page tests: classify-like runs with curves, tables and predictions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image

from core import tracking
from core.evaluation.confusion import top_confused_pairs

MAKES = ["audi", "bmw"]
MODELS = {"audi-a": "audi", "audi-b": "audi", "bmw-a": "bmw", "bmw-b": "bmw"}


def _images(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"img{i}.png"
        if not path.exists():
            Image.new("RGB", (32, 32), (i * 20 % 255, 80, 160)).save(path)
        paths.append(str(path))
    return paths


def log_classify_like(root: Path, images: Path, name: str, group: str, seed: int, skill: float) -> str:
    """A finished run that logged what the classify recipe logs; ``skill`` in (0, 1) sets its accuracy."""
    paths = _images(images, 12)
    models = list(MODELS)
    config = {"backbone": "resnet18", "lr": 0.001 if group == "single" else 0.0003, "heads": group, "seed": seed}
    with tracking.start(name=name, group=group, config=config, recipe="classify", runs_dir=root,
                        changes=f"{group} head", reason="does a make head help?") as run:
        for epoch in range(1, 6):
            top1 = skill * epoch / 5 + seed * 0.01
            run.log({"train/loss": 2.0 / epoch, "val/loss": 2.2 / epoch, "train/top1": min(1.0, top1 + 0.05),
                     "val/top1": top1, "val/make_acc": min(1.0, top1 + 0.1), "train/lr": 0.001 / epoch,
                     "train/epoch_seconds": 3.0}, step=epoch)
            run.set_progress(epoch, 5)
        correct = [i < int(skill * 12) + seed for i in range(12)]  # seeds differ at test too (a Welch test needs it)
        rows = []
        for i, path in enumerate(paths):
            truth = models[i % 4]
            pred = truth if correct[i] else models[(i + 1) % 4]
            rows.append({"image": path, "truth": truth, "pred": pred, "correct": correct[i],
                         "truth_make": MODELS[truth], "pred_make": MODELS[pred],
                         "top5": [{"class": pred, "prob": 0.7}]})
        make_acc = sum(r["truth_make"] == r["pred_make"] for r in rows) / 12
        run.log({"test/top1": sum(correct) / 12, "test/make_acc": make_acc}, step=5)
        run.log_table("test/predictions", rows)
        run.log_table("test/per_make", [{"make": m, "correct": 5, "total": 6, "accuracy": skill}
                                        for m in MAKES])
        for level, (truth, pred, names) in {"make": ("truth_make", "pred_make", MAKES),
                                            "model": ("truth", "pred", models)}.items():  # fmt: skip
            cm = np.zeros((len(names), len(names)), dtype=np.int64)
            for r in rows:
                cm[names.index(r[truth]), names.index(r[pred])] += 1
            run.log_table(f"test/confusion_{level}", [
                {"truth": names[t], "predicted": names[p], "count": int(cm[t, p]), "truth_index": int(t),
                 "predicted_index": int(p)} for t, p in zip(*cm.nonzero())])  # fmt: skip
            suffix = "_make" if level == "make" else ""
            run.log_table(f"test/top_confused{suffix}", top_confused_pairs(cm, names, k=20))
    return run.id


def prepare(root: Path, images: Path) -> dict[str, str]:
    """Four runs: two seeds of a single-head group and two of a multi-head group."""
    return {
        "single0": log_classify_like(root, images, "single s0", "single", 0, 0.5),
        "single1": log_classify_like(root, images, "single s1", "single", 1, 0.5),
        "multi0": log_classify_like(root, images, "multi s0", "multi", 0, 0.9),
        "multi1": log_classify_like(root, images, "multi s1", "multi", 1, 0.9),
    }


def prepare_other_projects(root: Path) -> dict[str, str | list[str]]:
    """Runs other projects log through core.tracking: a detector (steps in the tens of thousands, mAP in
    percent, system metrics, no per-sample tables) and a sweep of three variants whose test top-1 ties."""
    with tracking.start(name="detector", group="detection", config={"lr": 0.001, "model": "yolo"},
                        runs_dir=root) as det:  # fmt: skip
        for step in range(0, 100_001, 500):
            det.log({"train/loss": 3 * math.exp(-step / 30_000) + 0.1 + 0.05 * math.sin(step),
                     "val/mAP": 50 * (1 - math.exp(-step / 20_000)), "system/cpu_percent": 50 + step % 7,
                     "system/ram_gb": 3.2}, step=step)  # fmt: skip
        det.log({"test/mAP": 48.3}, step=100_000)
    sweep = []
    for i in range(3):
        with tracking.start(name=f"combo_{i}", group="dm-sweep", config={"variant": i}, runs_dir=root) as run:
            for epoch in range(1, 4):
                run.log({"train/KL": 1.0 / epoch + i / 10, "val/top1": 30.0 + epoch}, step=epoch)
            run.log({"test/top1": 34.84, "test/KL": 0.3}, step=3)
        sweep.append(run.id)
    return {"detector": det.id, "sweep": sweep}
