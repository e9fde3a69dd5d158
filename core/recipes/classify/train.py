"""The classify recipe's program: check the inputs, train epoch by epoch, then evaluate the best checkpoint.

Reads top to bottom like nanoGPT's train.py: ``prepare`` (dataset and model, before any run folder
exists), ``build_engine``, ``train`` (one epoch is ``run_epoch``; the loop that logs, checkpoints and stops
early is the recipes' shared ``run_epochs``), ``final_evaluation``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from core import runfolder
from core.datasets import ClassificationData, DatasetError, load_dataset
from core.recipes.classify import checkpoint as ckpt
from core.recipes.classify.config import ClassifyConfig
from core.recipes.classify.data import build_train_loader, class_counts
from core.recipes.classify.evaluate import final_split, result_tables, split_metrics
from core.recipes.classify.loop import Engine, evaluate, train_one_epoch
from core.recipes.classify.losses import ClassificationLoss, HierarchicalLoss
from core.recipes.classify.model import Classifier, build_model
from core.recipes.common.backbone import count_parameters
from core.recipes.common.checkpoint import last_logged_step
from core.recipes.common.data import build_eval_loader, build_transform, model_data_config, seed_epoch
from core.recipes.common.device import resolve_amp, resolve_device, resolve_workers
from core.recipes.common.losses import inverse_frequency_weights
from core.recipes.common.optim import LrSchedule, build_optimizer
from core.recipes.common.progress import Progress, load_training_state, run_epochs, training_state
from core.recipes.config import to_dict
from core.recipes.registry import RunContext

__all__ = ["Prepared", "prepare", "resolve_workers", "train"]
from core.tracking import Run


@dataclass
class Prepared:
    """The checked inputs of a run: its dataset, its freshly built model and the device."""

    data: ClassificationData
    model: Classifier
    device: torch.device


# -- inputs -------------------------------------------------------------------------------------------
def prepare(cfg: ClassifyConfig, resuming: bool = False) -> Prepared:
    """Load and check the dataset and build the model, so that bad input fails before a run folder exists.

    When resuming, the weights come from the checkpoint, so pretrained weights are not fetched again.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    data = load_dataset(cfg.dataset, cfg.data_root, seed=cfg.seed)
    for split in ("train", "val"):
        if not data.splits.get(split):
            raise DatasetError(f"dataset {cfg.dataset!r} at {data.root} has no {split} images; add some")
    torch.manual_seed(cfg.seed)  # the initial weights of the heads (and of the backbone without pretraining)
    model = build_model(
        cfg.backbone,
        len(data.classes),
        n_makes=len(data.makes) if cfg.heads == "multi" else 0,
        pretrained=False if resuming else cfg.pretrained,
        dropout=cfg.dropout,
        image_size=cfg.image_size,
    )
    return Prepared(data, model, device)


# -- engine and loaders -------------------------------------------------------------------------------
def build_criterion(cfg: ClassifyConfig, data: ClassificationData) -> HierarchicalLoss:
    """The loss: class-weighted when balance=loss; make loss and consistency term for heads=multi."""
    c2m = torch.tensor(data.class_to_make, dtype=torch.long)
    counts = class_counts(data.splits["train"], len(data.classes))
    weights = inverse_frequency_weights(counts) if cfg.balance == "loss" else None
    make_weights = None
    if cfg.balance == "loss":
        make_weights = inverse_frequency_weights(torch.zeros(len(data.makes)).index_add(0, c2m, counts.float()))
    model_loss = ClassificationLoss(weights, cfg.label_smoothing, cfg.focal_gamma)
    make_loss = ClassificationLoss(make_weights, cfg.label_smoothing, cfg.focal_gamma) if cfg.heads == "multi" else None
    return HierarchicalLoss(model_loss, c2m, make_loss, cfg.make_loss_weight, cfg.consistency_weight)


def build_engine(cfg: ClassifyConfig, prep: Prepared) -> Engine:
    """Model on the device, optimizer, loss, precision, schedule and (optionally) the compiled model."""
    device = prep.device
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = prep.model.to(device=device, memory_format=fmt)
    forward = data_parallel(model, device, cfg.freeze != "none")  # DistributedDataParallel under torchrun (gpus=N)
    optimizer = build_optimizer(model, cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.momentum)
    amp_dtype = resolve_amp(cfg.amp, device)
    schedule = LrSchedule(
        cfg.scheduler,
        cfg.lr,
        cfg.epochs,
        cfg.warmup_epochs,
        cfg.min_lr_ratio,
        cfg.lr_step_epochs,
        cfg.lr_gamma,
        cfg.plateau_patience,
    )
    return Engine(
        model=torch.compile(forward) if cfg.compile else forward,
        raw_model=model,
        criterion=build_criterion(cfg, prep.data).to(device),
        optimizer=optimizer,
        scaler=torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16),  # bf16 needs no scaling
        schedule=schedule,
        device=device,
        amp_dtype=amp_dtype,
        channels_last=cfg.channels_last,
    )


def data_parallel(model: torch.nn.Module, device: torch.device, freezes: bool) -> torch.nn.Module:
    """The model wrapped in DistributedDataParallel under torchrun (a launch with gpus=N: the runner joined the
    process group), so gradients are averaged across the processes; the model itself otherwise. ``freezes``:
    some epochs leave the backbone without gradients, which DDP must be told to expect."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return model
    ids = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids, find_unused_parameters=freezes)


def shard(samples: list) -> list:
    """This process's share of the training samples under torchrun: every process gets as many (the few left
    over are dropped), so all take the same number of steps; every sample otherwise. Evaluation is not
    sharded: every process evaluates everything, and rank 0 logs it."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return samples
    rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    return samples[rank : len(samples) // world * world : world]


def eval_loader(cfg: ClassifyConfig, prep: Prepared, split: str) -> DataLoader:
    """The evaluation loader of ``split`` (resize only, twice the training batch)."""
    transform = build_transform("none", cfg.image_size, model_data_config(prep.model.backbone), train=False)
    return build_eval_loader(
        prep.data.splits[split],
        transform,
        batch_size=2 * cfg.batch_size,
        num_workers=resolve_workers(cfg.num_workers, prep.device),
        pin_memory=prep.device.type == "cuda",
    )


def train_loader(cfg: ClassifyConfig, prep: Prepared) -> DataLoader:
    """The training loader with the augmentation preset (and the balanced sampler for balance=sampler)."""
    transform = build_transform(cfg.augment, cfg.image_size, model_data_config(prep.model.backbone), train=True)
    return build_train_loader(
        shard(prep.data.splits["train"]),
        transform,
        n_classes=len(prep.data.classes),
        batch_size=cfg.batch_size,
        num_workers=resolve_workers(cfg.num_workers, prep.device),
        balance_sampler=cfg.balance == "sampler",
        pin_memory=prep.device.type == "cuda",
    )


# -- the run ------------------------------------------------------------------------------------------
def train(cfg: ClassifyConfig, run: Run, ctx: RunContext) -> None:
    """Train ``cfg`` into ``run``: per-epoch metrics and checkpoints, then the end-of-run evaluation."""
    prep: Prepared = ctx.prepared
    engine = build_engine(cfg, prep)
    engine.heartbeat = run.heartbeat  # long epochs must not look like a hung process to the launcher
    loaders = {"train": train_loader(cfg, prep), "val": eval_loader(cfg, prep, "val")}
    if ctx.resume_from is not None:
        progress = restore(engine, ctx.resume_from, run, prep.data)
        ctx.echo(f"resuming {run.id} after epoch {progress.epoch} of {cfg.epochs}")
    else:
        progress = Progress()
        log_run_facts(run, prep, engine)
    folder = run.dir / runfolder.CHECKPOINTS_DIR
    run_epochs(cfg, run, ctx, engine, progress, score="val/top1",
               one_epoch=lambda epoch: run_epoch(engine, loaders, cfg, prep.data, epoch),
               save=lambda metrics, improved: save_checkpoints(folder, cfg, prep.data, engine, progress, metrics,
                                                               improved),
               describe=format_epoch)  # fmt: skip
    final_evaluation(engine, cfg, prep, run, progress, ctx)


def log_run_facts(run: Run, prep: Prepared, engine: Engine) -> None:
    """Once, at step 0: dataset sizes and skipped images, model size."""
    total, _ = count_parameters(engine.raw_model)
    facts = {f"data/{split}_images": len(samples) for split, samples in prep.data.splits.items()}
    facts |= {"data/skipped_images": prep.data.skipped, "data/classes": len(prep.data.classes)}
    facts |= {"data/makes": len(prep.data.makes), "model/parameters": total}
    run.log(facts, step=0)


def run_epoch(
    engine: Engine, loaders: dict[str, DataLoader], cfg: ClassifyConfig, data: ClassificationData, epoch: int
) -> dict[str, float]:
    """Train one epoch, evaluate on val; the epoch's metrics under SPEC names."""
    seed_epoch(loaders["train"], cfg.seed, epoch)
    started = time.perf_counter()
    train_out = train_one_epoch(engine, loaders["train"], epoch, cfg.max_train_batches)
    val_out = evaluate(engine, loaders["val"], cfg.max_eval_batches)
    engine.schedule.observe(val_out.loss)
    metrics = split_metrics(train_out, data.class_to_make, "train") | split_metrics(val_out, data.class_to_make, "val")
    metrics["train/lr"] = train_out.lr
    metrics["train/epoch_seconds"] = time.perf_counter() - started
    metrics["train/images_per_second"] = train_out.n_images / max(train_out.seconds, 1e-9)
    return metrics


def format_epoch(epoch: int, epochs: int, m: dict[str, float]) -> str:
    """One progress line: losses and accuracies (train/val), lr, time, speed."""
    return (
        f"epoch {epoch}/{epochs}  loss {m['train/loss']:.3f}/{m['val/loss']:.3f}  "
        f"top1 {100 * m['train/top1']:.1f}/{100 * m['val/top1']:.1f}%  make {100 * m['val/make_acc']:.1f}%  "
        f"lr {m['train/lr']:.2e}  {m['train/epoch_seconds']:.1f}s  {m['train/images_per_second']:.0f} img/s"
    )


# -- checkpoints and resume ---------------------------------------------------------------------------
def save_checkpoints(
    folder: Path,
    cfg: ClassifyConfig,
    data: ClassificationData,
    engine: Engine,
    progress: Progress,
    metrics: dict[str, float],
    improved: bool,
) -> None:
    """last.pt every epoch (with the training state), best.pt when val top-1 improved (model only)."""
    common: dict[str, Any] = {
        "config": to_dict(cfg),
        "classes": data.classes,
        "makes": data.makes,
        "class_to_make": data.class_to_make,
        "epoch": progress.epoch,
        "metrics": metrics,
        "model": engine.raw_model,
    }
    if improved:
        ckpt.save_checkpoint(folder / ckpt.BEST, ckpt.make_checkpoint(**common))
    training = training_state(engine, progress)
    ckpt.save_checkpoint(folder / ckpt.LAST, ckpt.make_checkpoint(**common, training_state=training))


def restore(engine: Engine, path: Path, run: Run, data: ClassificationData) -> Progress:
    """Load last.pt into the engine; log its epoch's metrics if a stop fell between saving and logging."""
    saved = ckpt.read_checkpoint(path)
    if saved["classes"] != data.classes or saved["class_to_make"] != data.class_to_make:
        raise ckpt.CheckpointError(f"the classes of the dataset changed since {path} was written; cannot resume")
    return load_training_state(engine, saved, run, logged="val/top1")


# -- the end ------------------------------------------------------------------------------------------
def final_evaluation(
    engine: Engine, cfg: ClassifyConfig, prep: Prepared, run: Run, progress: Progress, ctx: RunContext
) -> None:
    """Evaluate the best checkpoint on test (val when there is none); log test/* and the result tables."""
    best = run.dir / runfolder.CHECKPOINTS_DIR / ckpt.BEST
    if best.exists():
        engine.raw_model.load_state_dict(ckpt.read_checkpoint(best)["model"])
    split = final_split(prep.data)
    out = evaluate(engine, eval_loader(cfg, prep, split), cfg.max_eval_batches)
    metrics = split_metrics(out, prep.data.class_to_make, "test")
    metrics |= {"test/checkpoint_epoch": progress.best_epoch, "test/images": out.n_images}
    step = max(progress.epoch, 1)
    if last_logged_step(run.dir, "test/top1") < step:  # a resumed run may have logged them before it stopped
        run.log(metrics, step=step)
    for name, rows in result_tables(out, prep.data, split).items():
        run.log_table(name, rows)
    run.sync()
    top1, make = metrics["test/top1"], metrics["test/make_acc"]
    ctx.echo(
        f"{split} ({out.n_images} images, best epoch {progress.best_epoch}): top1 {_pct(top1)}  make {_pct(make)}  "
        f"top5 {_pct(metrics['test/top5'])}  gap {metrics['test/gap']:.1f} points"
    )


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%" if math.isfinite(share) else "n/a"
