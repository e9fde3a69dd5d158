"""The supervisor of one launched run: ``python -m core.launcher supervisor RUN_DIR SLOT``.

It leads the run's own session and process group, holds the run's liveness lock (shared with the training
process, which inherits it), starts the training process with unbuffered output to ``console.log``, waits
for it and records how it ended, so exit codes are recorded even when no app or scheduler is running.
A cancel (SIGTERM to the group) reaches both; the supervisor stays to record ``cancelled``. It pins itself to
its slot's cores before starting the run (which inherits that), and as it ends it starts a scheduler if runs
wait and none serves them, so a killed scheduler does not leave the queue stuck.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from core import runfolder
from core.launcher import options, queue, service, slots
from core.launcher.procs import process_env
from core.runfolder import status as runstatus
from core.runfolder.paths import REPO_ROOT
from core.tracking import LAUNCHED_RUN_ENV

DIE_WITH_PARENT = Path(__file__).with_name("die_with_parent.py")  # each torchrun worker starts through it


def child_argv(run_dir: Path, spec: dict[str, object]) -> list[str]:
    """The training command: a recipe through core.launcher.child, or the user's own argv; for a run on N GPUs
    (``gpus=N``, N >= 2), N copies of it under torchrun (which sets RANK, WORLD_SIZE and the rendezvous)."""
    if spec.get("argv"):
        argv = [str(a) for a in spec["argv"]]  # type: ignore[union-attr]
    else:
        argv = [sys.executable, "-u", "-m", "core.launcher", "child", str(run_dir)]
    n = options.processes_of(spec)
    if n < 2:
        return argv
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}"]
    return [*torchrun, "--no-python", sys.executable, str(DIE_WITH_PARENT), *argv]


def child_env(run_dir: Path, slot: str, share: slots.SlotShare | None = None, processes: int = 1) -> dict[str, str]:
    """The training process's environment: its slot's GPU (or none), its CPU threads, and the run it logs into."""
    return process_env(run_dir.parent, **slots.slot_env(slot, share, processes), **{LAUNCHED_RUN_ENV: run_dir.name},
                       PYTHONUNBUFFERED="1")  # fmt: skip


def exit_status(code: int, cancel_requested: bool) -> tuple[str, int]:
    """Map a child's return code to (final status, shell-style exit code): 0 succeeded, 1.. failed,
    killed by a signal (or 128+n) crashed, unless a cancel was asked for."""
    shell_code = 128 - code if code < 0 else code
    if cancel_requested:
        return "cancelled", shell_code
    if code == 0:
        return "succeeded", 0
    if code < 0 or code >= 128:
        return "crashed", shell_code
    return "failed", shell_code


def supervise(run_dir: Path, slot: str) -> int:
    alive_fd = runstatus.hold_alive_lock(run_dir)
    if runstatus.current(runstatus.read(run_dir)) != "starting":
        os.close(alive_fd)
        return 0  # it booted so slowly that the scheduler queued the run again (or it was cancelled): not ours
    try:
        share = slots.share_of(slot)
        spec = queue.read_launch_spec(run_dir)
        env = child_env(run_dir, slot, share, options.processes_of(spec))
        where = {"node": socket.gethostname(), "gpus": [g for g in env["CUDA_VISIBLE_DEVICES"].split(",") if g]}
        return run_child(run_dir, spec, alive_fd, env, pin=share, placement=where)
    finally:  # the scheduler may have been killed while the run ran: queued runs must not wait for good
        service.start_scheduler_if_needed(run_dir.parent)


def run_child(run_dir: Path, spec: dict[str, object], alive_fd: int, env: dict[str, str], *,
              pin: slots.SlotShare | None, placement: dict[str, object]) -> int:
    """Start the training process of ``spec`` (pinned to ``pin``'s cores when given), wait for it and record how
    it ended; ``placement`` (node, GPUs) goes into the status record. A SIGTERM (cancel) is passed on by the
    process group; this process stays to record ``cancelled``."""
    cancel = {"asked": False}

    def on_cancel(signum: int, frame: object) -> None:
        cancel["asked"] = True

    signal.signal(signal.SIGTERM, on_cancel)
    signal.signal(signal.SIGINT, on_cancel)
    with open(run_dir / runfolder.CONSOLE_FILE, "ab", buffering=0) as console:
        if pin is not None:
            try:
                slots.pin_to(pin)  # the training process inherits it
            except OSError as exc:  # the run still runs, on every core this process may use
                console.write(f"note: could not pin the run to cores {list(pin.cores)}: {exc}\n".encode())
        runstatus.update(run_dir, cores=list(pin.cores) if pin is not None else None, **placement)
        try:
            child = subprocess.Popen(child_argv(run_dir, spec), cwd=str(spec.get("cwd") or REPO_ROOT), env=env,
                                     stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                                     pass_fds=(alive_fd,))  # fmt: skip
        except OSError as exc:
            console.write(f"could not start the run: {exc}\n".encode())
            runstatus.transition(run_dir, "failed", error=f"could not start: {exc}", exit_code=127)
            return 127
        runstatus.update(run_dir, child_pid=child.pid)
        code = child.wait()
    cancelled = cancel["asked"] or runstatus.current(runstatus.read(run_dir)) == "cancelled"
    status, shell_code = exit_status(code, cancelled)
    error = None if status in ("succeeded", "cancelled") else f"exited with code {shell_code}; see console.log"
    if not runstatus.transition(run_dir, status, exit_code=shell_code, error=error):
        runstatus.update(run_dir, exit_code=shell_code)  # the run had recorded its own end (e.g. failed)
    return 0  # the scheduler unmarks the run as active when it sees the end (and tells its sweep)
