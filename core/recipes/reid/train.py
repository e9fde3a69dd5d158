"""The reid recipe's program: check the inputs, train epoch by epoch, then evaluate the best checkpoint.

Reads top to bottom like nanoGPT's train.py: ``prepare`` (dataset and model, before any run folder exists),
``build_engine``, ``train`` (``run_epoch`` trains and ranks val; the shared ``run_epochs`` checkpoints, logs
and stops early), and ``final_evaluation`` (the test split plain and with each inference refinement, tables
and embeddings).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from core import runfolder
from core.datasets import ClassificationData, DatasetError, load_dataset
from core.recipes.common.backbone import count_parameters
from core.recipes.common.checkpoint import BEST, LAST, CheckpointError, last_logged_step, save_checkpoint
from core.recipes.common.data import build_eval_loader, build_transform, model_data_config, seed_epoch
from core.recipes.common.device import resolve_amp, resolve_device, resolve_workers
from core.recipes.common.loop import Engine
from core.recipes.common.optim import LrSchedule, build_optimizer
from core.recipes.common.progress import Progress, load_training_state, run_epochs, training_state
from core.recipes.config import to_dict
from core.recipes.registry import RunContext
from core.recipes.reid import checkpoint as ckpt
from core.recipes.reid.config import ReidConfig
from core.recipes.reid.data import build_train_loader, check_sampler
from core.recipes.reid.embeddings import embeddings_file, save_embeddings
from core.recipes.reid.evaluate import identity_rows, query_rows, refinement_metrics, saved_embeddings, split_metrics
from core.recipes.reid.loop import embed, train_one_epoch
from core.recipes.reid.losses import build_criterion
from core.recipes.reid.model import Embedder, build_embedder
from core.recipes.reid.refine import Refinements
from core.tracking import Run


@dataclass
class Prepared:
    """The checked inputs of a run: its dataset, its freshly built model and the device."""

    data: ClassificationData
    model: Embedder
    device: torch.device


# -- inputs -------------------------------------------------------------------------------------------
def check_splits(cfg: ReidConfig, data: ClassificationData) -> None:
    """Train and val images, a query in val (an identity with two images), and batches the sampler can fill."""
    for split in ("train", "val"):
        if not data.splits.get(split):
            raise DatasetError(f"dataset {cfg.dataset!r} at {data.root} has no {split} images; add some")
    labels = [s.label for s in data.splits["val"]]
    if max(labels.count(label) for label in set(labels)) < 2:
        raise DatasetError(
            f"the val split of {cfg.dataset!r} at {data.root} has no identity with two images, so no query has a "
            "match (each val image is a query against the others); give some identities two or more val images"
        )
    if cfg.uses_sampler:
        check_sampler(data.splits["train"], cfg.images_per_identity, cfg.batch_size, f"{cfg.dataset!r} at {data.root}")


def prepare(cfg: ReidConfig, resuming: bool = False) -> Prepared:
    """Load and check the dataset and build the model, so that bad input fails before a run folder exists.

    When resuming, the weights come from the checkpoint, so pretrained weights are not fetched again.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    data = load_dataset(cfg.dataset, cfg.data_root, seed=cfg.seed)
    check_splits(cfg, data)
    torch.manual_seed(cfg.seed)  # the initial weights of the head (and of the backbone without pretraining)
    return Prepared(data, build_embedder(cfg, pretrained=False if resuming else cfg.pretrained), device)


# -- engine and loaders -------------------------------------------------------------------------------
def build_engine(cfg: ReidConfig, prep: Prepared) -> Engine:
    """Model and loss on the device, one optimizer over both (the backbone at its own lr), precision, schedule."""
    device = prep.device
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = prep.model.to(device=device, memory_format=fmt)
    labels = torch.tensor([s.label for s in prep.data.splits["train"]])
    counts = torch.bincount(labels, minlength=len(prep.data.classes))
    criterion = build_criterion(cfg, len(prep.data.classes), model.embedding_size, counts).to(device)
    scales = {model.backbone: cfg.backbone_lr_ratio} if cfg.backbone_lr_ratio != 1.0 else None
    trained = nn.ModuleDict({"model": model, "criterion": criterion})  # the loss's proxies learn too
    optimizer = build_optimizer(trained, cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.momentum, lr_scales=scales)
    amp_dtype = resolve_amp(cfg.amp, device)
    schedule = LrSchedule(cfg.scheduler, cfg.lr, cfg.epochs, cfg.warmup_epochs, cfg.min_lr_ratio, cfg.lr_step_epochs,
                          cfg.lr_gamma, cfg.plateau_patience)  # fmt: skip
    return Engine(
        model=torch.compile(model) if cfg.compile else model, raw_model=model, criterion=criterion,
        optimizer=optimizer, scaler=torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16),
        schedule=schedule, device=device, amp_dtype=amp_dtype, channels_last=cfg.channels_last,
    )  # fmt: skip


def eval_loader(cfg: ReidConfig, prep: Prepared, split: str) -> DataLoader:
    """The evaluation loader of ``split`` (resize only, twice the training batch)."""
    transform = build_transform("none", cfg.image_size, model_data_config(prep.model.backbone), train=False)
    workers = resolve_workers(cfg.num_workers, prep.device)
    return build_eval_loader(prep.data.splits[split], transform, batch_size=2 * cfg.batch_size, num_workers=workers,
                             pin_memory=prep.device.type == "cuda")  # fmt: skip


def train_loader(cfg: ReidConfig, prep: Prepared) -> DataLoader:
    """The training loader with the augmentation preset, identity-balanced when the config asks for it."""
    transform = build_transform(cfg.augment, cfg.image_size, model_data_config(prep.model.backbone), train=True)
    return build_train_loader(
        prep.data.splits["train"], transform, batch_size=cfg.batch_size,
        num_workers=resolve_workers(cfg.num_workers, prep.device),
        images_per_identity=cfg.images_per_identity if cfg.uses_sampler else None,
        pin_memory=prep.device.type == "cuda",
    )  # fmt: skip


# -- the run ------------------------------------------------------------------------------------------
def train(cfg: ReidConfig, run: Run, ctx: RunContext) -> None:
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
        log_run_facts(run, prep)
    folder = run.dir / runfolder.CHECKPOINTS_DIR
    run_epochs(cfg, run, ctx, engine, progress, score="val/mAP",
               one_epoch=lambda epoch: run_epoch(engine, loaders, cfg, prep.data, epoch),
               save=lambda metrics, improved: save_checkpoints(folder, cfg, prep.data, engine, progress, metrics,
                                                               improved),
               describe=format_epoch)  # fmt: skip
    final_evaluation(engine, cfg, prep, run, progress, ctx)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -1.0


def log_run_facts(run: Run, prep: Prepared) -> None:
    """Once, at step 0: dataset sizes and skipped images, model size."""
    facts = {f"data/{split}_images": len(samples) for split, samples in prep.data.splits.items()}
    facts |= {"data/skipped_images": prep.data.skipped, "data/identities": len(prep.data.classes)}
    facts |= {"model/parameters": count_parameters(prep.model)[0]}
    run.log(facts, step=0)


def run_epoch(engine: Engine, loaders: dict[str, DataLoader], cfg: ReidConfig, data: ClassificationData,
              epoch: int) -> dict[str, float]:  # fmt: skip
    """Train one epoch, embed val and rank it; the epoch's metrics under SPEC names."""
    seed_epoch(loaders["train"], cfg.seed, epoch)
    started = time.perf_counter()
    stats = train_one_epoch(engine, loaders["train"], epoch, cfg.max_train_batches)
    val = saved_embeddings(embed(engine, loaders["val"], cfg.max_eval_batches), data, "val")
    metrics = {"train/loss": stats.loss, "train/lr": stats.lr} | split_metrics(val, "val")
    engine.schedule.observe(1.0 - _finite(metrics["val/mAP"]))  # plateau: "lower is better"
    if (p := engine.raw_model.gem_p) is not None:
        metrics["train/gem_p"] = p
    metrics["train/epoch_seconds"] = time.perf_counter() - started
    metrics["train/images_per_second"] = stats.n_images / max(stats.seconds, 1e-9)
    return metrics


def format_epoch(epoch: int, epochs: int, m: dict[str, float]) -> str:
    """One progress line: loss, val retrieval metrics, GeM p, lr, time, speed."""
    gem = f"  p {m['train/gem_p']:.2f}" if "train/gem_p" in m else ""
    return (
        f"epoch {epoch}/{epochs}  loss {m['train/loss']:.3f}  mAP {_pct(m['val/mAP'])}  "
        f"id-mAP {_pct(m['val/mAP_identity'])}  rank1 {_pct(m['val/rank1'])}{gem}  lr {m['train/lr']:.2e}  "
        f"{m['train/epoch_seconds']:.1f}s  {m['train/images_per_second']:.0f} img/s"
    )


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%" if math.isfinite(share) else "n/a"


# -- checkpoints and resume ---------------------------------------------------------------------------
def save_checkpoints(folder: Path, cfg: ReidConfig, data: ClassificationData, engine: Engine, progress: Progress,
                     metrics: dict[str, float], improved: bool) -> None:  # fmt: skip
    """last.pt every epoch (with the training state and the loss's proxies), best.pt when val mAP improved."""
    common: dict[str, Any] = {"config": to_dict(cfg), "identities": data.classes, "epoch": progress.epoch,
                              "metrics": metrics, "model": engine.raw_model}  # fmt: skip
    if improved:
        save_checkpoint(folder / BEST, ckpt.make_checkpoint(**common))
    save_checkpoint(folder / LAST, ckpt.make_checkpoint(**common, training_state=training_state(engine, progress)))


def restore(engine: Engine, path: Path, run: Run, data: ClassificationData) -> Progress:
    """Load last.pt into the engine; log its epoch's metrics if a stop fell between saving and logging."""
    saved = ckpt.read_checkpoint(path)
    if saved["identities"] != data.classes:
        raise CheckpointError(f"the identities of the dataset changed since {path} was written; cannot resume")
    return load_training_state(engine, saved, run, logged="val/mAP")


# -- the end ------------------------------------------------------------------------------------------
def final_evaluation(engine: Engine, cfg: ReidConfig, prep: Prepared, run: Run, progress: Progress,
                     ctx: RunContext) -> None:  # fmt: skip
    """Embed the test split (val when there is none) with the best checkpoint; log test/* plain and with each
    refinement, the per-query and per-identity tables, and save the embeddings of val and test."""
    best = run.dir / runfolder.CHECKPOINTS_DIR / BEST
    if best.exists():
        engine.raw_model.load_state_dict(ckpt.read_checkpoint(best)["model"])
    split = "test" if prep.data.splits.get("test") else "val"
    saved = {}
    for name in dict.fromkeys((split, "val")):
        out = embed(engine, eval_loader(cfg, prep, name), cfg.max_eval_batches, flip=True)
        saved[name] = saved_embeddings(out, prep.data, name)
        save_embeddings(run.artifact_path(embeddings_file(name)), saved[name])
    settings = Refinements.from_config(to_dict(cfg))
    metrics = refinement_metrics(saved[split], "test", settings)
    queries = query_rows(saved[split], settings.only(), cfg.top_k)
    metrics |= {"test/checkpoint_epoch": progress.best_epoch, "test/images": len(saved[split].labels),
                "test/n_queries": len(queries)}  # fmt: skip
    step = max(progress.epoch, 1)
    if last_logged_step(run.dir, "test/mAP") < step:  # a resumed run may have logged them before it stopped
        run.log(metrics, step=step)
    run.log_table("test/queries", queries)
    run.log_table("test/per_identity", identity_rows(queries, saved[split]))
    run.sync()
    ctx.echo(
        f"{split} ({len(saved[split].labels)} images, {len(queries)} queries, best epoch {progress.best_epoch}): "
        f"mAP {_pct(metrics['test/mAP'])}  id-mAP {_pct(metrics['test/mAP_identity'])}  "
        f"rank1 {_pct(metrics['test/rank1'])}  with all refinements mAP {_pct(metrics['test/mAP@all'])}"
    )
