"""Starting and resuming recipe runs: check the config and inputs, open the run folder, train, finish it.

Bad input (an unknown key, a missing dataset, unavailable weights) is found before a run folder is created,
so it creates nothing. A failure while training marks the run failed with the message (the tracking
context manager does that), saves the traceback as ``artifacts/traceback.txt`` and is re-raised as a
:class:`RunFailedError` with one readable line. Under torchrun (a launch with ``gpus=N``) every process joins
the process group first and only rank 0 writes to the run folder (the others get a run that does nothing).
While a run trains, rank 0 samples the process's CPU, memory and GPU use into it (``system/*``, see
:mod:`core.recipes.system_metrics`).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core import runfolder, tracking
from core.recipes.config import from_dict, parse_overrides, to_dict
from core.recipes.registry import RecipeEntry, RunContext, get_recipe
from core.recipes.system_metrics import sampling
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels
from core.runfolder.paths import runs_dir as resolve_runs_dir

RESUME_CHECKPOINT = "last.pt"  # recipes write checkpoints/last.pt at each epoch end; resume reads it
Echo = Callable[[str], None]
NO_LABELS = RunLabels()


class RunFailedError(RuntimeError):
    """Training raised; the run folder is marked failed. ``run_id`` names it."""

    def __init__(self, message: str, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id


class ResumeError(ValueError):
    """A run that cannot be resumed (still running, already finished, or no checkpoint yet)."""


def build_config(entry: RecipeEntry, overrides: Iterable[str] | Mapping[str, Any], base: Mapping | None = None) -> Any:
    """The recipe's config from ``key=value`` strings or a dict of typed values, over ``base``."""
    if isinstance(overrides, Mapping):
        return from_dict(entry.config_cls, {**(base or {}), **overrides})
    return parse_overrides(entry.config_cls, list(overrides), base)


def run_recipe(
    recipe: str,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    *,
    runs_dir: str | os.PathLike[str] | None = None,
    labels: RunLabels = NO_LABELS,
    run_id: str | None = None,
    echo: Echo = print,
) -> str:
    """Train ``recipe`` in this process and return the run id.

    Args:
        overrides: ``["lr=0.01", ...]`` or ``{"lr": 0.01}``, applied over the defaults (or, with ``run_id``,
            over the config.json of that run).
        labels: name, group, changes, reason and tags of a new run (a launched run has its own already).
        run_id: attach to this existing (queued) run folder instead of creating one; the launcher uses it.
            If its config is invalid the run is marked failed before the error is raised.
        echo: receives one progress line per epoch.

    Raises:
        ConfigError, DatasetError, ...: bad input; no run folder was created.
        RunFailedError: training failed; the run folder says why.
    """
    entry = get_recipe(recipe)
    use_slot_threads()
    echo = echo if tracking.process_rank() == 0 else _quiet  # under torchrun, rank 0 reports progress
    with distributed():
        if run_id is None:
            cfg, prepared, run = _start_new(entry, overrides, labels, runs_dir)
        else:
            cfg, prepared, run = _attach_queued(entry, overrides, run_id, runs_dir)
        _train(entry, cfg, run, RunContext(prepared=prepared, echo=echo))
    return run.id


def _start_new(
    entry: RecipeEntry,
    overrides: Iterable[str] | Mapping[str, Any],
    labels: RunLabels,
    runs_dir: str | os.PathLike[str] | None,
) -> tuple[Any, Any, tracking.Run]:
    """Check the config and inputs, then create the run folder: bad input creates nothing."""
    cfg = build_config(entry, overrides)
    prepared = entry.prepare(cfg, False)
    run = tracking.start_labelled(labels, to_dict(cfg), recipe=entry.name, runs_dir=runs_dir)
    return cfg, prepared, run


def _attach_queued(
    entry: RecipeEntry,
    overrides: Iterable[str] | Mapping[str, Any],
    run_id: str,
    runs_dir: str | os.PathLike[str] | None,
) -> tuple[Any, Any, tracking.Run]:
    """Open the launcher's run folder; its config.json, with ``overrides`` over it, is the run's config."""
    run_dir = runfolder.resolve_run_dir(resolve_runs_dir(runs_dir), run_id)
    try:
        cfg = build_config(entry, overrides, runfolder.read_json(run_dir / runfolder.CONFIG_FILE, {}))
        prepared = entry.prepare(cfg, False)
    except Exception as exc:  # the queued run must not stay "starting": record why it never trained
        tracking.attach(run_dir.name, runs_dir=runs_dir).finish("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    run = tracking.attach(run_dir.name, runs_dir=runs_dir)
    runfolder.write_json_atomic(run.dir / runfolder.CONFIG_FILE, to_dict(cfg))
    return cfg, prepared, run


def resume_run(run_id: str, runs_dir: str | os.PathLike[str] | None = None, *, echo: Echo = print) -> str:
    """Continue a stopped run at the epoch after its last checkpoint, in the same run folder.

    Raises:
        ResumeError: the run is still running, already succeeded, or has no checkpoint yet.
        RunFailedError: training failed again.
    """
    root = resolve_runs_dir(runs_dir)
    run_dir = runfolder.resolve_run_dir(root, run_id)
    meta = runfolder.read_json(run_dir / runfolder.META_FILE, {}) or {}
    _check_resumable(run_dir)
    use_slot_threads()
    echo = echo if tracking.process_rank() == 0 else _quiet
    entry = get_recipe(meta.get("recipe", ""))
    cfg = from_dict(entry.config_cls, runfolder.read_json(run_dir / runfolder.CONFIG_FILE, {}) or {})
    last = run_dir / runfolder.CHECKPOINTS_DIR / RESUME_CHECKPOINT
    if not last.is_file():
        raise ResumeError(
            f"run {run_dir.name} has no {runfolder.CHECKPOINTS_DIR}/{RESUME_CHECKPOINT} (it stopped before its "
            f"first epoch ended); nothing to resume: start it again with `python -m core run {entry.name} ...`"
        )
    with distributed():
        prepared = entry.prepare(cfg, True)
        run = tracking.attach(run_dir.name, runs_dir=root)
        _train(entry, cfg, run, RunContext(prepared=prepared, resume_from=last, echo=echo))
    return run_dir.name


def use_slot_threads() -> None:
    """In a launched run, give torch as many CPU threads as the run's slot owns cores (the launcher pins the
    process to them), so runs side by side do not fight over cores; a config's own ``threads`` still wins."""
    threads = tracking.slot_threads()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _quiet(line: str) -> None:
    """The progress printer of a process that does not report (a rank other than 0)."""


@contextmanager
def distributed() -> Iterator[None]:
    """Under torchrun (WORLD_SIZE >= 2): join the process group, nccl on GPUs (each process on the GPU of its
    LOCAL_RANK) or gloo on the CPU, and leave it at the end; nothing otherwise. The recipe wraps its model in
    DistributedDataParallel when the group exists."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) < 2:
        yield
        return
    import torch
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def _check_resumable(run_dir: Path) -> None:
    state = runstatus.current(runstatus.read(run_dir))
    if state == "succeeded":
        raise ResumeError(f"run {run_dir.name} already succeeded; there is nothing to resume")
    launched_here = os.environ.get(tracking.LAUNCHED_RUN_ENV) == run_dir.name  # the launcher's child resuming it
    if state in ("queued", "starting", "running") and runstatus.is_alive(run_dir) and not launched_here:
        raise ResumeError(
            f"run {run_dir.name} is {state} in another process; cancel it first "
            f"(`python -m core cancel {run_dir.name}`) or let it finish"
        )


def _train(entry: RecipeEntry, cfg: Any, run: tracking.Run, ctx: RunContext) -> None:
    """Run the recipe inside the run's context manager, sampling the system metrics meanwhile (the
    sampler stops before the run ends); a failure becomes a RunFailedError."""
    try:
        with run, sampling(run):
            entry.train(cfg, run, ctx)
    except KeyboardInterrupt:
        ctx.echo(f"interrupted: run {run.id} is cancelled; `python -m core resume {run.id}` continues it")
        raise
    except Exception as exc:
        run.artifact_path("traceback.txt").write_text(traceback.format_exc(), encoding="utf-8")
        raise RunFailedError(
            f"run {run.id} failed: {type(exc).__name__}: {exc} (traceback: {run.dir}/artifacts/traceback.txt)",
            run.id,
        ) from exc
