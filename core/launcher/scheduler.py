"""The scheduler process: ``python -m core.launcher scheduler RUNS_DIR``, one per runs folder, started on demand.

It starts queued runs as slots free, notices runs whose processes all died (crashed, or queued again when
they asked for retries), puts back in the queue a run that never got past ``starting`` (all in ``recovery``),
tells Bayesian sweeps about finished trials, and exits when nothing is queued or running. Launches start it
(``service.ensure_scheduler``); readers of the queue, the app and supervisors start it again when runs wait and
none serves them (``service.start_scheduler_if_needed``), so a killed scheduler or a reboot leaves nothing queued.
"""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from core import runfolder
from core.launcher import options, queue, ray_backend, slots
from core.launcher.procs import process_env
from core.launcher.recovery import MAX_START_ATTEMPTS, queue_again, reconcile
from core.launcher.service import LOCK_FILE, PID_FILE
from core.runfolder import status as runstatus
from core.runfolder.paths import REPO_ROOT

POLL_S = 0.2
IDLE_EXIT_S = 2.0
RAY_POLL_S = 0.5  # how often the jobs of running Ray runs are looked up


def start_ready(root: Path) -> list[subprocess.Popen[bytes]]:
    """Start queued runs, highest priority first: a local run on free slots (N of them for ``gpus=N``), a Ray
    run by submitting its job while the cluster has room. A run that does not fit now holds back the later
    runs of its backend, so a run on several GPUs is not overtaken for good by runs on one. Returns the
    supervisors started."""
    active = [runstatus.read(root / r) for r in queue.active(root)]
    used = {s for record in active for s in slots.split(record.get("slot"))}
    machine = slots.all_slots()
    free = [s for s in machine if s not in used]
    rooms: dict[str, ray_backend.Room | str] = {}  # per cluster address: its room, or why it cannot be asked
    held_back: set[str] = set()
    started = []
    for entry in queue.queued(root):
        run_dir = root / entry.run_id
        spec = runfolder.read_json(run_dir / queue.LAUNCH_FILE, {}) or {}
        line = str(spec.get("ray_address")) if options.backend_of(spec) == "ray" else "local"
        if line in held_back:
            continue
        if line == "local":
            need = options.processes_of(spec)
            if need > len(machine):
                _refuse(root, run_dir, f"asks for {need} slots but this machine has {len(machine)}; "
                        "launch it with fewer gpus, or on a Ray cluster")  # fmt: skip
            elif len(free) < need:
                held_back.add(line)
            elif _claim(root, run_dir, slot=",".join(free[:need])):
                started.append(_spawn_supervisor(root, run_dir, ",".join(free[:need])))
                del free[:need]
        elif not _start_on_ray(root, run_dir, spec, _room(rooms, line, active)):
            held_back.add(line)
    return started


def _claim(root: Path, run_dir: Path, **fields: object) -> bool:
    """Move a queued run to ``starting`` (with ``fields``); False when it is no longer queued (its stale queue
    marker is removed)."""
    attempts = int(runstatus.read(run_dir).get("start_attempts", 0) or 0) + 1
    # Marked active before the status changes, so a scheduler killed between the two steps leaves a run
    # that reconcile() finds (and puts back in the queue), never a ``starting`` run nobody looks at.
    queue.mark_active(root, run_dir.name)
    if not runstatus.transition(run_dir, "starting", expect={"queued"}, start_attempts=attempts, waiting=None,
                                **fields):  # fmt: skip
        if runstatus.current(runstatus.read(run_dir)) not in runfolder.ACTIVE_STATUSES:
            queue.unmark_active(root, run_dir.name)
        queue.dequeue(root, run_dir.name)  # cancelled, removed or already started: the marker is stale
        return False
    queue.dequeue(root, run_dir.name)
    return True


def _refuse(root: Path, run_dir: Path, reason: str) -> None:
    """Fail a queued run that can never start here, with the reason (its sweep is told it ended)."""
    if runstatus.transition(run_dir, "failed", expect={"queued"}, error=reason, waiting=None):
        _tell_sweeps(root, [run_dir.name])
    queue.dequeue(root, run_dir.name)


def _room(rooms: dict[str, ray_backend.Room | str], address: str, active: list[dict]) -> ray_backend.Room | str:
    """The room on the cluster at ``address``, asked once per pass (or why it could not be asked)."""
    if address not in rooms:
        try:
            rooms[address] = ray_backend.room(address, active)
        except OSError as exc:
            rooms[address] = str(exc)
    return rooms[address]


def _start_on_ray(root: Path, run_dir: Path, spec: dict, room: ray_backend.Room | str) -> bool:
    """Submit a queued Ray run if its cluster has room now; False when it must wait (the reason is noted in its
    status record, for the queue's listing)."""
    if isinstance(room, str):
        return _note_waiting(run_dir, room)
    if (never := room.never_fits(spec)) is not None:
        _refuse(root, run_dir, never)
        return True
    if not room.take(spec):
        gpus, cpus = room.ask(spec)
        return _note_waiting(run_dir, f"waiting for {gpus:g} GPU(s) and {cpus:g} CPU(s) on the Ray cluster")
    if _claim(root, run_dir):
        try:
            ray_backend.submit_run(run_dir, spec, room.ask(spec))
        except OSError as exc:
            _say(f"submitting {run_dir.name} failed: {exc}")
            _requeue_or_fail(root, run_dir, str(exc))
    return True


def _note_waiting(run_dir: Path, why: str) -> bool:
    if runstatus.read(run_dir).get("waiting") != why:  # written once, not on every pass
        runstatus.update(run_dir, only_if={"queued"}, waiting=why)
    return False


def _requeue_or_fail(root: Path, run_dir: Path, error: str) -> None:
    """A Ray job that could not be submitted: queue the run again, or fail it after repeated attempts."""
    attempts = int(runstatus.read(run_dir).get("start_attempts", 0) or 0)
    if attempts >= MAX_START_ATTEMPTS:
        runstatus.transition(run_dir, "failed", expect={"starting"}, error=f"could not be submitted: {error}")
    elif queue_again(root, run_dir, {"starting"}, start_attempts=attempts, waiting=error):
        queue.unmark_active(root, run_dir.name)


def _spawn_supervisor(root: Path, run_dir: Path, slot: str) -> subprocess.Popen[bytes]:
    with open(run_dir / runfolder.CONSOLE_FILE, "ab") as console:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core.launcher", "supervisor", str(run_dir), slot], cwd=REPO_ROOT,
            env=process_env(root),
            stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, start_new_session=True,
        )
    runstatus.update(run_dir, pgid=proc.pid)  # it leads its own session and group
    return proc


def main(root: Path) -> int:
    lock_fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    if not _try_lock(lock_fd):
        return 0  # another scheduler serves this folder
    slots.unpin()  # started from a pinned run (a script that launches runs), it still divides the whole machine
    (root / PID_FILE).write_text(str(os.getpid()))
    supervisors: list[subprocess.Popen[bytes]] = []
    idle_since = asked_ray = time.monotonic()
    while True:
        supervisors = [p for p in supervisors if p.poll() is None]  # reap: no zombies
        ask_ray = time.monotonic() - asked_ray >= RAY_POLL_S
        asked_ray = time.monotonic() if ask_ray else asked_ray
        supervisors += _one_pass(root, ray_backend.JobStates() if ask_ray else None)
        if queue.queued(root) or queue.active(root):
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > IDLE_EXIT_S:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            if not queue.queued(root) or not _try_lock(lock_fd):  # re-check: a launch may have just queued
                return 0
        _wait_for_a_change(supervisors, POLL_S)


def _one_pass(root: Path, jobs: ray_backend.JobStates | None = None) -> list[subprocess.Popen[bytes]]:
    """Settle ended runs (Ray runs' jobs looked up when ``jobs`` is given), tell their sweeps, then start what
    fits. A full disk or a vanished file fails one pass, not the scheduler: the next pass tries again."""
    try:
        reconcile(root, jobs)
        _tell_sweeps(root, queue.ended(root))  # also the runs a reader of the queue saw end
        return start_ready(root)
    except OSError as exc:
        _say(f"a pass failed ({type(exc).__name__}: {exc}); trying again")
        return []


def _wait_for_a_change(supervisors: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """Sleep up to ``timeout``, waking as soon as a supervisor exits (its run ended: a slot is free)."""
    fds = []
    for proc in supervisors:
        try:
            fds.append(os.pidfd_open(proc.pid))
        except OSError:  # it exited already (reaped next pass), or no pidfd on this system
            pass
    try:
        if fds:
            select.select(fds, [], [], timeout)
        else:
            time.sleep(timeout)
    finally:
        for fd in fds:
            os.close(fd)


def _say(message: str) -> None:
    try:
        print(f"{datetime.now().isoformat()} {message}", flush=True)
    except OSError:
        pass  # the log is on the full disk too: nothing more can be said


def _tell_sweeps(root: Path, ended: list[str]) -> None:
    """Tell the sweeps of runs that ended (optuna is loaded only then), then drop their markers."""
    if not ended:
        return
    from core.launcher import sweeps  # sweeps, launching and optuna: loaded only once a run ends

    try:
        sweeps.on_runs_ended(root, ended)
    except Exception as exc:
        _say(f"sweep update failed: {type(exc).__name__}: {exc}")
    for run_id in ended:
        queue.unmark_ended(root, run_id)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
