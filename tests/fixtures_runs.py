"""A prepared runs folder for page tests: classify-like runs with curves, tables and predictions."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from core import tracking

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
        correct = [i < int(skill * 12) for i in range(12)]
        rows = []
        for i, path in enumerate(paths):
            truth = models[i % 4]
            pred = truth if correct[i] else models[(i + 1) % 4]
            rows.append({"image": path, "truth": truth, "pred": pred, "correct": correct[i],
                         "truth_make": MODELS[truth], "pred_make": MODELS[pred],
                         "top5": [{"class": pred, "prob": 0.7}]})
        run.log({"test/top1": sum(correct) / 12, "test/make_acc": 0.9}, step=5)
        run.log_table("test/predictions", rows)
        run.log_table("test/per_make", [{"make": m, "correct": 5, "total": 6, "accuracy": skill}
                                        for m in MAKES])
        cells: dict[tuple[str, str], int] = {}
        for r in rows:
            cells[(r["truth_make"], r["pred_make"])] = cells.get((r["truth_make"], r["pred_make"]), 0) + 1
        run.log_table("test/confusion_make", [{"truth": t, "predicted": p, "count": c} for (t, p), c in cells.items()])
        model_cells: dict[tuple[str, str], int] = {}
        for r in rows:
            model_cells[(r["truth"], r["pred"])] = model_cells.get((r["truth"], r["pred"]), 0) + 1
        run.log_table("test/confusion_model",
                      [{"truth": t, "predicted": p, "count": c} for (t, p), c in model_cells.items()])
    return run.id


def prepare(root: Path, images: Path) -> dict[str, str]:
    """Four runs: two seeds of a single-head group and two of a multi-head group."""
    return {
        "single0": log_classify_like(root, images, "single s0", "single", 0, 0.5),
        "single1": log_classify_like(root, images, "single s1", "single", 1, 0.5),
        "multi0": log_classify_like(root, images, "multi s0", "multi", 0, 0.9),
        "multi1": log_classify_like(root, images, "multi s1", "multi", 1, 0.9),
    }
