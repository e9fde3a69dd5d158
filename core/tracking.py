"""The logging API any training script uses, in the style of the trackers people know.

    from core import tracking
    with tracking.start(name="baseline", group="heads", config={"lr": 3e-4}) as run:
        run.log({"val/top1": 0.41}, step=1)
        run.log_table("test/per_make", rows)

A run writes only to its folder (never to the index: DuckDB allows one process per database). Each
``log`` is one ``write`` of whole lines to the OS; the file is synced to disk at least once a second while
logging, on ``sync()`` and at ``finish()``. Only the standard library is imported here (numpy and torch scalars
are logged without importing them), so logging stays cheap for any script.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from core import provenance, runfolder
from core.evaluation import semantics
from core.runfolder import metricslog
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels
from core.runfolder.paths import runs_dir as default_runs_dir

SYNC_INTERVAL_S = 1.0
LAUNCHED_RUN_ENV = "EXPLORER_RUN_ID"  # set by the launcher: start() then logs into that run's folder
THREADS_ENV = "EXPLORER_THREADS"  # set by the launcher: the CPU threads (cores) the run's slot owns
_ATTACHABLE = frozenset({"new", "queued", "starting", "running"}) | runstatus.RESUMABLE


class RunStateError(RuntimeError):
    """The run is in a state that does not allow logging into it (e.g. it succeeded, or was cancelled)."""


def start(
    name: str | None = None,
    group: str | None = None,
    config: dict[str, Any] | None = None,
    *,
    recipe: str = "script",
    tags: list[str] | tuple[str, ...] = (),
    notes: str = "",
    changes: str = "",
    reason: str = "",
    runs_dir: str | os.PathLike[str] | None = None,
    all_ranks: bool = False,
) -> Run:
    """Create a run folder and return the open run (status ``running``).

    Under ``torchrun`` / DistributedDataParallel only rank 0 logs: other ranks get a run that does nothing
    (``all_ranks=True`` gives every rank a run of its own).

    Args:
        name: a label shown in the UI (never used as a path); defaults to the run id.
        group: runs of one experiment (seeds, a sweep) share a group; the compare page aggregates it.
        config: the settings of the run, stored as config.json.
        recipe: the training program ("classify", "reid"; "script" for any other script).
        tags, notes, changes, reason: free text the experiment log shows ("Changes", "Reason").
        runs_dir: the folder of run folders; default EXPLORER_RUNS_DIR or runs/.
        all_ranks: log from every process of a distributed job, not only rank 0.
    """
    labels = RunLabels(name=name, group=group, changes=changes, reason=reason, tags=tuple(tags))
    return start_labelled(labels, config, recipe=recipe, notes=notes, runs_dir=runs_dir, all_ranks=all_ranks)


def process_rank() -> int:
    """This process's rank in a distributed job (RANK, else LOCAL_RANK, as torchrun sets them); 0 otherwise."""
    for name in ("RANK", "LOCAL_RANK"):
        try:
            return int(os.environ[name])
        except (KeyError, ValueError):
            continue
    return 0


def start_labelled(
    labels: RunLabels,
    config: dict[str, Any] | None = None,
    *,
    recipe: str = "script",
    notes: str = "",
    runs_dir: str | os.PathLike[str] | None = None,
    all_ranks: bool = False,
) -> Run:
    """``start`` with the labels as one value (how the recipe runner passes on what the CLI or a form said)."""
    if not all_ranks and process_rank() != 0:
        return NoOpRun(process_rank())  # type: ignore[return-value]
    root = default_runs_dir(runs_dir)
    launched = os.environ.get(LAUNCHED_RUN_ENV)
    if launched and runfolder.is_run_id(launched) and (root / launched).is_dir():
        return _attach_launched(root / launched, labels, config)
    return Run(create_run_folder(root, labels, config=config, recipe=recipe, notes=notes))


def slot_threads() -> int | None:
    """The CPU threads a launched run may use (its slot's share of the cores); None outside the launcher.

    Use it for your own thread pools and data loaders, e.g. ``torch.set_num_threads(tracking.slot_threads() or
    torch.get_num_threads())``; the launcher already sets OMP_NUM_THREADS and MKL_NUM_THREADS to it.
    """
    try:
        value = int(os.environ.get(THREADS_ENV, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def create_run_folder(
    root: Path,
    labels: RunLabels,
    *,
    config: dict[str, Any] | None = None,
    recipe: str = "script",
    notes: str = "",
) -> Path:
    """Make a new run folder with its meta and config records (no status yet); returns its path."""
    run_id = runfolder.new_run_id()
    run_dir = root / run_id
    run_dir.mkdir()
    meta = {
        "id": run_id,
        "name": str(labels.name) if labels.name else run_id,
        "group": str(labels.group) if labels.group else "",
        "recipe": recipe,
        "tags": [str(t) for t in labels.tags],
        "created": runfolder.utc_now(),
        "notes": notes,
        "changes": labels.changes,
        "reason": labels.reason,
    }
    runfolder.write_json_atomic(run_dir / runfolder.CONFIG_FILE, config or {})
    if provenance.enabled():
        record, diff = provenance.capture()
        runfolder.write_json_atomic(run_dir / provenance.PROVENANCE_FILE, record)
        if diff:
            (run_dir / provenance.DIFF_FILE).write_text(diff, encoding="utf-8")
    runfolder.write_json_atomic(run_dir / runfolder.META_FILE, meta)  # last: a folder with meta is a run
    return run_dir


def attach(run: str, *, runs_dir: str | os.PathLike[str] | None = None, all_ranks: bool = False) -> Run:
    """Open an existing run folder to log more into it (a launched run starting, or a resumed run); under
    torchrun only rank 0 does, other ranks get a run that does nothing (as with ``start``)."""
    if not all_ranks and process_rank() != 0:
        return NoOpRun(process_rank())  # type: ignore[return-value]
    return Run(runfolder.resolve_run_dir(default_runs_dir(runs_dir), run), resume=True)


def _attach_launched(run_dir: Path, labels: RunLabels, config: dict[str, Any] | None) -> Run:
    """A script started by the launcher logs into the run folder made for it; its own name and group fill gaps."""
    meta = runfolder.read_json(run_dir / runfolder.META_FILE, {}) or {}
    if labels.name and meta.get("name") in (None, "", run_dir.name):
        meta["name"] = str(labels.name)
    if labels.group and not meta.get("group"):
        meta["group"] = str(labels.group)
    runfolder.write_json_atomic(run_dir / runfolder.META_FILE, meta)
    if config and not runfolder.read_json(run_dir / runfolder.CONFIG_FILE):
        runfolder.write_json_atomic(run_dir / runfolder.CONFIG_FILE, config)
    return Run(run_dir, resume=True)


class Run:
    """An open run: logs metrics, tables and files into its folder until ``finish``."""

    def __init__(self, run_dir: Path, *, resume: bool = False) -> None:
        self.dir = run_dir
        self.id = run_dir.name
        allowed = _ATTACHABLE if resume else frozenset({"new"})
        if not runstatus.transition(run_dir, "running", expect=allowed, pid=os.getpid()):
            state = runstatus.current(runstatus.read(run_dir))
            raise RunStateError(f"run {self.id} is {state}; only a queued, running, cancelled, crashed or failed "
                                "run can be continued (`python -m core resume RUN`)")
        self._alive_fd = runstatus.hold_alive_lock(run_dir)
        path = run_dir / metricslog.METRICS_FILE
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._fragment = self._ends_mid_line(path)  # the next append ends it first
        self._step = self._last_step(path)
        self._names: set[str] = set()
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = threading.Event()
        self._last_beat = time.monotonic()
        runstatus.beat(run_dir)
        self._syncer = threading.Thread(target=self._sync_every_second, name=f"sync-{self.id}", daemon=True)
        self._syncer.start()

    # -- metrics ---------------------------------------------------------------------------------
    def log(self, metrics: dict[str, Any], step: int | None = None, *, beat: bool = True) -> None:
        """Record scalar metrics at ``step`` (default: one more than the last step logged). ``beat=False``
        leaves the heartbeat alone: for a background thread's logging (beats say the training makes progress).

        Raises:
            MetricError: a name or value that cannot be logged; nothing of the call is written then.
        """
        if step is None:
            step = self._step + 1
        elif type(step) is not int:  # bool, numpy and torch integers, floats: checked and converted
            step = _to_step(step)
        data = metricslog.encode_records(metrics, step, time.time(), self._names)
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError(f"run {self.id} is finished; start or attach a run to log more")
            self._append(data)
            self._dirty = True
            if step > self._step:
                self._step = step
        if beat:
            self.heartbeat()

    def _append(self, data: bytes) -> None:
        """Append whole lines, normally in one write (appended as a unit: O_APPEND). A full disk may take part
        of a write and then fail: the error is raised, and the next append first ends the fragment left, so
        the records after it are not glued onto it (the fragment fails its checksum and is skipped)."""
        if self._fragment:
            data = b"\n" + data
        written = 0
        try:
            while written < len(data):
                written += os.write(self._fd, data[written:])
        finally:
            if written:
                self._fragment = written < len(data)

    def define_metric(self, name: str, goal: str | None = None, scale: str | None = None) -> None:
        """Say how to read a metric, as W&B's ``define_metric`` does: ``goal`` "max" (higher is better) or "min",
        ``scale`` "fraction" (0-1), "percent" (0-100) or "unbounded". What is not given is inferred from the name
        and the values logged; a later call for the same name changes only what it gives.

        Raises:
            MetricError: a name that cannot be a metric name.
            ValueError: an unknown goal or scale (the message lists the known ones).
        """
        record = semantics.check_definition(metricslog.check_name(name), goal, scale)
        path = self.dir / semantics.DEFS_FILE
        with self._lock:  # read-merge-write: two threads of one run must not drop each other's definitions
            defs = runfolder.read_json(path, {}) or {}
            defs[name] = {**(defs.get(name) or {}), **record}
            runfolder.write_json_atomic(path, defs)

    def update_config(self, values: dict[str, Any]) -> None:
        """Add or change config keys (hyperparameters known only after the start, as W&B's config.update)."""
        path = self.dir / runfolder.CONFIG_FILE
        with self._lock:
            config = runfolder.read_json(path, {}) or {}
            runfolder.write_json_atomic(path, runfolder.sanitize_json({**config, **values}))

    def heartbeat(self) -> None:
        """Tell watchers the training is making progress (log, sync and set_progress do it too).

        Beats come from the training thread, never from a background thread, so a hung loop shows as stale.
        Call it inside long stretches without logging (e.g. every few batches); it costs nothing when called
        more than once a second.
        """
        now = time.monotonic()
        if now - self._last_beat >= 1.0:
            self._last_beat = now
            runstatus.beat(self.dir)

    def sync(self) -> None:
        """Force what was logged so far onto the disk (the training loop calls this at each epoch end)."""
        self._sync()
        self.heartbeat()

    def _sync(self) -> None:
        with self._lock:
            if not self._closed.is_set() and self._dirty:
                os.fsync(self._fd)
                self._dirty = False

    # -- tables and files ------------------------------------------------------------------------
    def log_table(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Store a table (list of row objects) under ``name``, replacing an earlier one of that name."""
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TypeError(f"table {name!r}: rows must be a list of dicts (one object per row)")
        path = runfolder.table_file(self.dir, name)
        path.parent.mkdir(exist_ok=True)
        runfolder.write_json_atomic(path, {"name": name, "rows": rows})

    def artifact_path(self, name: str) -> Path:
        """A path under artifacts/ for a file the caller writes itself (folders are created)."""
        path = self.dir / runfolder.ARTIFACTS_DIR / runfolder.safe_relative(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def log_file(self, source: str | os.PathLike[str], name: str | None = None) -> Path:
        """Copy a file into artifacts/ (as ``name``, default its own file name) and return the copy."""
        src = Path(source)
        if not src.is_file():
            raise FileNotFoundError(f"cannot log file {src}: it does not exist or is not a file")
        dest = self.artifact_path(name or src.name)
        shutil.copyfile(src, dest)
        return dest

    # -- status ----------------------------------------------------------------------------------
    def set_progress(self, done: int, total: int) -> None:
        """Record progress (e.g. epochs done of total) for the runs list and the ETA."""
        runstatus.update(self.dir, only_if={"running"}, progress={"done": int(done), "total": int(total)})
        self.heartbeat()

    def finish(self, status: str = "succeeded", error: str | None = None) -> None:
        """Sync everything to disk, record the final status and close the log. Safe to call twice."""
        if status not in runfolder.FINAL_STATUSES:
            raise ValueError(f"final status must be one of {sorted(runfolder.FINAL_STATUSES)}, not {status!r}")
        with self._lock:
            if self._closed.is_set():
                return
            os.fsync(self._fd)
            os.close(self._fd)
            self._closed.set()
        runstatus.transition(self.dir, status, error=error)  # no-op if the launcher already ended it
        os.close(self._alive_fd)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None:
            self.finish("succeeded")
        elif isinstance(exc, KeyboardInterrupt):
            self.finish("cancelled", error="interrupted (Ctrl-C)")
        else:
            self.finish("failed", error=f"{type(exc).__name__}: {exc}")

    # -- internals -------------------------------------------------------------------------------
    def _sync_every_second(self) -> None:
        while not self._closed.wait(SYNC_INTERVAL_S):
            self._sync()

    @staticmethod
    def _ends_mid_line(path: Path) -> bool:
        """True when a process killed mid-line (or a full disk) left a fragment at the end of the log."""
        size = path.stat().st_size
        if not size:
            return False
        with open(path, "rb") as f:
            f.seek(size - 1)
            return f.read(1) != b"\n"

    @staticmethod
    def _last_step(path: Path) -> int:
        """The highest step in the log (0 when empty), so default steps continue after a resume."""
        return max((r.step for r in metricslog.read_records(path.parent)), default=0)


def _to_step(step: object) -> int:
    try:
        value = int(step)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise metricslog.MetricError(f"step {step!r} must be an integer (an epoch or an iteration)") from exc
    if value != step:
        raise metricslog.MetricError(f"step {step!r} must be a whole number")
    return value


class NoOpRun:
    """The run of a process that does not log (a rank other than 0 of a distributed job): every call does
    nothing, files asked for (checkpoints too) go to a scratch folder, removed at ``finish``, so the training
    code needs no rank checks of its own."""

    def __init__(self, rank: int) -> None:
        import tempfile

        self.id = f"rank-{rank}-not-logging"
        self.dir = Path(tempfile.mkdtemp(prefix="explorer-rank-"))

    def artifact_path(self, name: str) -> Path:
        path = self.dir / runfolder.safe_relative(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def log_file(self, source: str | os.PathLike[str], name: str | None = None) -> Path:
        return self.artifact_path(name or Path(source).name)

    def finish(self, status: str = "succeeded", error: str | None = None) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None  # log, log_table, define_metric, sync, finish, ...

    def __enter__(self) -> NoOpRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
