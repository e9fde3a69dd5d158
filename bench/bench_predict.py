"""Prediction + Grad-CAM of one 224 px image with a ResNet-50 (timm, random weights): our ``predict.explain``
against the plain pytorch_grad_cam call on the same model, in one run; and the cost of a cached model.

    .venv/bin/python bench/bench_predict.py [--device cuda] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import tracking
from core.recipes.classify import predict
from core.recipes.classify.checkpoint import make_checkpoint, save_checkpoint
from core.recipes.classify.config import ClassifyConfig
from core.recipes.classify.model import LogitsOnly, build_model
from core.recipes.config import to_dict


def make_run(root: Path, n_classes: int = 196, n_makes: int = 49) -> Path:
    """A run folder whose best checkpoint is a ResNet-50 classifier at 224 px (random weights)."""
    cfg = ClassifyConfig(backbone="resnet50", image_size=224, heads="single")
    model = build_model("resnet50", n_classes, n_makes=0, image_size=224)
    classes = [f"model-{i}" for i in range(n_classes)]
    makes = [f"make-{i}" for i in range(n_makes)]
    run = tracking.start(name="bench", runs_dir=root)
    checkpoint = make_checkpoint(model=model, config=to_dict(cfg), classes=classes, makes=makes,
                                 class_to_make=[i % n_makes for i in range(n_classes)], epoch=1, metrics={})
    save_checkpoint(run.dir / "checkpoints" / "best.pt", checkpoint)
    run.finish()
    return run.dir


def timed(fn: Callable[[], object], repeats: int, sync: Callable[[], object]) -> float:
    return timed_pair(fn, lambda: None, repeats, sync)[0]


def timed_pair(a: Callable[[], object], b: Callable[[], object], repeats: int,
               sync: Callable[[], object]) -> tuple[float, float]:
    """Medians of a and b, run alternately (a shared machine's load then weighs on both alike)."""
    for _ in range(3):
        a()
        b()
    sync()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((a, samples[0]), (b, samples[1])):
            t0 = time.perf_counter()
            fn()
            sync()
            out.append(time.perf_counter() - t0)
    return statistics.median(samples[0]), statistics.median(samples[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (224, 224, 3), dtype=np.uint8))
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = make_run(Path(tmp))
        t0 = time.perf_counter()
        handle = predict.load_run_model(run_dir, "best", device)
        load_s = time.perf_counter() - t0
        cache = {("bench", "best"): handle}
        lookup_s = timed(lambda: cache[("bench", "best")], 1000, lambda: None)

        plain_model = LogitsOnly(handle.model)
        layer = dict(handle.model.backbone.named_modules())[handle.layers[-1]]

        def plain() -> None:  # what a user writes with pytorch_grad_cam directly: preprocess, predict, explain
            x = handle.transform(image).unsqueeze(0).to(device)
            with torch.inference_mode():
                target = int(plain_model(x).argmax())
            with GradCAM(model=plain_model, target_layers=[layer]) as cam:
                cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])

        ours_s, plain_s = timed_pair(lambda: predict.explain(handle, image, method="gradcam"), plain,
                                     args.repeats, sync)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    print(f"ResNet-50, 224 px, 196 classes, device {name}, torch {torch.__version__}, median of {args.repeats}")
    print(f"{'measure':<58} {'ms':>9} {'ratio':>8}")
    print(f"{'plain pytorch_grad_cam: preprocess + predict + GradCAM (peer)':<58} {plain_s * 1e3:>9.2f} {1.0:>8.3f}")
    print(f"{'ours: explain() = preprocess + top-5 + GradCAM + overlay':<58} {ours_s * 1e3:>9.2f} "
          f"{ours_s / plain_s:>8.3f}")
    print(f"{'model load from checkpoint (first time)':<58} {load_s * 1e3:>9.2f}")
    print(f"{'model from the cache (every later time)':<58} {lookup_s * 1e3:>9.5f}")


if __name__ == "__main__":
    main()
