"""The process of a run's Ray job, on whichever node Ray placed it: ``python -m core.launcher ray-job RUN_DIR TOKEN``.

Its first act checks that it sees the run folder the launcher wrote (the token file): where the runs folder is
not shared with the app's machine, it refuses with a message saying how to share it, and the launcher marks the
run failed with that message. Then it does for the run what the supervisor does for a local one: hold the
liveness lock, start the training process (under torchrun for ``gpus=N``) on the GPUs Ray gave the job, with
its output in console.log, and record how it ended. Ray's stop (a cancel) reaches its whole process group.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from core.launcher import queue, supervisor
from core.launcher.procs import process_env
from core.launcher.ray_backend import TOKEN_FILE
from core.runfolder import status as runstatus
from core.tracking import LAUNCHED_RUN_ENV

NOT_SHARED_EXIT = 3


def shared_folder_problem(run_dir: Path, token: str) -> str | None:
    """Why this node cannot run the job in ``run_dir`` (None when it sees the launcher's token there)."""
    try:
        seen = (run_dir / TOKEN_FILE).read_text().strip()
    except OSError:
        seen = None
    if seen == token:
        return None
    return (
        f"error: the run folder {run_dir} is not visible from Ray node {socket.gethostname()} "
        f"({'no' if seen is None else 'another'} {TOKEN_FILE} there): the runs folder must be storage that the "
        "app's machine and every Ray worker share. Mount the same folder (NFS or another shared file system) "
        "at the same path on every machine and set EXPLORER_RUNS_DIR to it, for the app and for `ray start`."
    )


def main(run_dir: Path, token: str) -> int:
    problem = shared_folder_problem(run_dir, token)
    if problem:
        print(problem, flush=True)
        return NOT_SHARED_EXIT
    alive_fd = runstatus.hold_alive_lock(run_dir)
    if runstatus.current(runstatus.read(run_dir)) != "starting":
        os.close(alive_fd)
        print(f"run {run_dir.name} is no longer waiting to start (cancelled?); nothing to do", flush=True)
        return 0
    gpus = [g for g in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if g.strip()]
    where = {"node": socket.gethostname(), "gpus": gpus}
    return supervisor.run_child(run_dir, queue.read_launch_spec(run_dir), alive_fd, child_env(run_dir), pin=None,
                                placement=where)  # fmt: skip


def child_env(run_dir: Path) -> dict[str, str]:
    """The training process's environment: the job's (the GPUs Ray gave it, the CPU threads per training
    process the launcher set) and the run it logs into."""
    return process_env(run_dir.parent, **{LAUNCHED_RUN_ENV: run_dir.name}, PYTHONUNBUFFERED="1")
