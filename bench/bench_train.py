"""Benchmark of the classify recipe's training loop against a bare PyTorch loop, same model, data and precision.

The bare loop is what one writes by hand: ``timm.create_model(..., num_classes=C)``, AdamW, cross-entropy,
``zero_grad / backward / step``. Ours is ``core.recipes.classify.loop.train_one_epoch`` with the engine the
recipe builds (dict outputs, float32 loss, per-step lr, logits kept for the epoch metrics). Both run in
this process, alternating, and the table shows medians and the ratio (target >= 0.95):

- the data loader alone (the recipe's train loader: decode + augmentation),
- both loops on batches already in memory (the loop's own overhead),
- both loops fed by the loader (what a run sees),
- with ``--amp --channels-last``: also our loop in fp32 NCHW, to show what bf16 + channels-last buy.

Run from the repository root::

    .venv/bin/python -m bench.bench_train                                    # CPU
    .venv/bin/python -m bench.bench_train --device cuda --amp --channels-last --backbone resnet50 --image-size 224
    .venv/bin/python -m bench.bench_train --quick                            # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable

import timm
import torch
import torch.nn.functional as F

from core.recipes.classify.config import ClassifyConfig
from core.recipes.classify.loop import Engine, train_one_epoch
from core.recipes.classify.train import Prepared, build_engine, prepare, resolve_workers, train_loader

Batches = list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--backbone", default=ClassifyConfig.backbone)
    p.add_argument("--image-size", type=int, default=ClassifyConfig.image_size)
    p.add_argument("--batch-size", type=int, default=ClassifyConfig.batch_size)
    p.add_argument("--num-workers", type=int, default=ClassifyConfig.num_workers)
    p.add_argument("--amp", action="store_true", help="bf16 autocast (both loops)")
    p.add_argument("--channels-last", action="store_true", help="channels-last memory format (both loops)")
    p.add_argument("--batches", type=int, default=30, help="batches per timed pass")
    p.add_argument("--repeats", type=int, default=5, help="timed passes per loop (alternating); medians shown")
    p.add_argument("--quick", action="store_true", help="3 repeats of 8 batches")
    args = p.parse_args()
    if args.quick:
        args.batches, args.repeats = 8, 3
    return args


def build(args: argparse.Namespace, amp: bool, channels_last: bool) -> tuple[ClassifyConfig, Prepared, Engine]:
    """The recipe's engine for the benchmark settings (synthetic-cars, generated on first use)."""
    cfg = ClassifyConfig(
        backbone=args.backbone,
        image_size=args.image_size,
        batch_size=args.batch_size,
        device=args.device,
        amp="bf16" if amp else "off",
        channels_last=channels_last,
        num_workers=args.num_workers,
        warmup_epochs=0,
    )
    prep = prepare(cfg)
    return cfg, prep, build_engine(cfg, prep)


def in_memory(loader: torch.utils.data.DataLoader, n: int) -> Batches:
    batches: Batches = []
    for images, labels, indices in loader:
        batches.append((images, labels, indices))
        if len(batches) == n:
            return batches
    return batches


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_ours(engine: Engine, batches: Batches | torch.utils.data.DataLoader, n: int) -> float:
    """Images per second of train_one_epoch over n batches."""
    sync(engine.device)
    out = train_one_epoch(engine, batches, epoch=1, max_batches=n)  # ends with a host copy: a full sync
    return out.n_images / out.seconds


def bare_loop(
    model: torch.nn.Module, opt: torch.optim.Optimizer, device: torch.device, amp: bool, channels_last: bool
) -> Callable[[Batches | torch.utils.data.DataLoader, int], float]:
    """The hand-written loop, returning a timer over n batches (images per second)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def run(batches: Batches | torch.utils.data.DataLoader, n: int) -> float:
        model.train()
        sync(device)
        started, seen = time.perf_counter(), 0
        for i, (images, labels, _) in enumerate(batches):
            if i == n:
                break
            images = images.to(device, non_blocking=True, memory_format=fmt)
            labels = labels.to(device, non_blocking=True)
            autocast = torch.autocast(device.type, dtype=torch.bfloat16) if amp else contextlib.nullcontext()
            with autocast:
                loss = F.cross_entropy(model(images), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += labels.shape[0]
        sync(device)
        return seen / (time.perf_counter() - started)

    return run


def bare_for(cfg: ClassifyConfig, prep: Prepared) -> Callable[[Batches | torch.utils.data.DataLoader, int], float]:
    torch.manual_seed(0)
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = timm.create_model(cfg.backbone, num_classes=len(prep.data.classes)).to(prep.device, memory_format=fmt)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    return bare_loop(model, opt, prep.device, cfg.amp == "bf16", cfg.channels_last)


def alternate(timers: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Median images/s of each timer, run in turns after one untimed warm-up each.

    The order rotates from one round to the next, so no timer always runs right after the same other one
    (a loader pass leaves the allocator and the caches in another state than a training pass).
    """
    for timer in timers.values():
        timer()
    names = list(timers)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(timers[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def data_loader_rate(loader: torch.utils.data.DataLoader, n: int) -> float:
    started, seen = time.perf_counter(), 0
    for i, (_, labels, _) in enumerate(loader):
        if i == n:
            break
        seen += labels.shape[0]
    return seen / (time.perf_counter() - started)


def main() -> None:
    args = parse_args()
    cfg, prep, engine = build(args, args.amp, args.channels_last)
    loader = train_loader(cfg, prep)
    batches = in_memory(loader, args.batches)
    bare = bare_for(cfg, prep)
    n = args.batches
    rates = alternate(
        {
            "loader": lambda: data_loader_rate(loader, n),
            "bare/memory": lambda: bare(batches, n),
            "ours/memory": lambda: time_ours(engine, batches, n),
            "bare/loader": lambda: bare(loader, n),
            "ours/loader": lambda: time_ours(engine, loader, n),
        },
        args.repeats,
    )
    if args.amp or args.channels_last:
        _, _, plain = build(args, amp=False, channels_last=False)
        rates |= {
            f"{k} fp32 NCHW": v
            for k, v in alternate({"ours/memory": lambda: time_ours(plain, batches, n)}, args.repeats).items()
        }
    print_table(args, cfg, prep, rates)


def print_table(args: argparse.Namespace, cfg: ClassifyConfig, prep: Prepared, rates: dict[str, float]) -> None:
    precision = f"{'bf16' if args.amp else 'fp32'}{' channels-last' if args.channels_last else ''}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    workers = resolve_workers(args.num_workers, prep.device)
    print(
        f"\nclassify training loop: {cfg.backbone} @ {cfg.image_size}px, batch {cfg.batch_size}, {precision}, "
        f"{prep.device} ({_device_name(prep.device)}), torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{workers} workers, {args.repeats}x{args.batches} batches, load average {load:.2f}\n"
    )
    print("| what | bare PyTorch img/s | ours img/s | ours / bare |")
    print("|---|---:|---:|---:|")
    print(f"| data loader alone (decode + augment) | | {rates['loader']:.0f} | |")
    for where, label in (("memory", "training loop, batches in memory"), ("loader", "training loop fed by the loader")):
        bare, ours = rates[f"bare/{where}"], rates[f"ours/{where}"]
        print(f"| {label} | {bare:.0f} | {ours:.0f} | {ours / bare:.3f} |")
    if "ours/memory fp32 NCHW" in rates:
        base = rates["ours/memory fp32 NCHW"]
        print(
            f"| ours, {precision} vs fp32 NCHW (batches in memory) | {base:.0f} (fp32 NCHW) | "
            f"{rates['ours/memory']:.0f} | {rates['ours/memory'] / base:.2f}x |"
        )


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
