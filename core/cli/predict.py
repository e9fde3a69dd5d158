"""CLI verb ``explain RUN IMAGE --out PNG``: top-5 printed, Grad-CAM overlay written (the Predict page's code)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core import runfolder
from core.cli.verbs import VERBS, Verb
from core.recipes.classify.choices import CAM_METHODS, CHECKPOINTS
from core.runfolder.paths import runs_dir


def _explain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a finished classify run (id or a unique part of it)")
    p.add_argument("image", help="an image file")
    p.add_argument("--out", required=True, help="where to write the overlay (PNG)")
    p.add_argument("--checkpoint", choices=CHECKPOINTS, default="best")
    p.add_argument("--method", choices=tuple(CAM_METHODS), default="gradcam")
    p.add_argument("--target", default="pred", help="'pred' (default) or a class name or index to explain")
    p.add_argument("--layer", default=None, help="backbone layer (default: chosen automatically)")
    p.add_argument("--opacity", type=float, default=0.5, help="heat map weight in the overlay, 0..1")


def cmd_explain(args: argparse.Namespace) -> int:
    from core.recipes.classify import predict  # torch: only for this verb

    handle = predict.load_run_model(runfolder.resolve_run_dir(runs_dir(), args.run), args.checkpoint)
    target: str | int = args.target
    if target != "pred":
        target = handle.classes.index(target) if target in handle.classes else _index(target, handle.classes)
    result = predict.explain(handle, predict.read_image(args.image), method=args.method, target=target,
                             layer=args.layer, opacity=args.opacity)
    print(f"top-5 models ({handle.run_id}, {args.checkpoint} checkpoint):")
    for name, prob in result.prediction.models:
        print(f"  {prob:7.2%}  {name}")
    print(f"top-5 makes ({result.prediction.make_source}):")
    for name, prob in result.prediction.makes:
        print(f"  {prob:7.2%}  {name}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.overlay.save(out, format="PNG")
    print(f"{args.method} of '{handle.classes[result.target]}' at layer {result.layer} written to {out}")
    return 0


def _index(text: str, classes: list[str]) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--target {text!r} is neither 'pred', a class name nor an index; classes: "
                         f"{', '.join(classes[:10])}{', ...' if len(classes) > 10 else ''}") from None


VERBS.register(Verb("explain", "predict one image with a run's model: top-5 printed, Grad-CAM overlay written",
                    _explain_args, cmd_explain))
