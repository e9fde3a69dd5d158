"""Execution slots and the cores each one owns: one slot per visible GPU, or a configurable number of CPU slots
when there is none; the machine's cores are divided between the slots, so runs side by side do not fight.

GPUs are counted without importing torch (the scheduler must stay light): CUDA_VISIBLE_DEVICES when set,
else ``nvidia-smi -L``. A run gets its GPU through CUDA_VISIBLE_DEVICES, and its share of the cores through
its CPU affinity (the supervisor pins itself before starting the run, which inherits it) and the thread
variables of BLAS and OpenMP (torch reads them; the recipe runner also calls ``torch.set_num_threads``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from core.tracking import THREADS_ENV

CPU_SLOTS_ENV = "EXPLORER_CPU_SLOTS"
# The libraries' own thread variables: numpy/scipy's BLAS, torch's OpenMP and MKL.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class SlotShare:
    """What one slot owns.

    Attributes:
        slot: ``cpu:<n>`` or ``gpu:<id>``.
        cores: the CPU cores its runs are pinned to.
        shared: True when there are more slots than cores, so some slots share a core.
    """

    slot: str
    cores: tuple[int, ...]
    shared: bool = False

    @property
    def threads(self) -> int:
        return len(self.cores)


def visible_gpus() -> list[str]:
    """Device ids of the GPUs runs may use (as CUDA_VISIBLE_DEVICES names them)."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def all_slots() -> list[str]:
    """Slot names: ``gpu:<id>`` per GPU, else ``cpu:<n>`` for EXPLORER_CPU_SLOTS (default 1) CPU slots."""
    gpus = visible_gpus()
    if gpus:
        return [f"gpu:{g}" for g in gpus]
    try:
        n = max(1, int(os.environ.get(CPU_SLOTS_ENV, "1")))
    except ValueError:
        n = 1
    return [f"cpu:{i}" for i in range(n)]


def machine_cores() -> list[int]:
    """The cores this process may run on (its CPU affinity: a container's or a taskset's limit holds)."""
    return sorted(os.sched_getaffinity(0))


def divide_cores(slot_names: list[str], cores: list[int]) -> list[SlotShare]:
    """Each slot's share of ``cores``: contiguous runs of near-equal size (the first slots get one more when
    they do not divide evenly); with more slots than cores, each slot gets one core, shared round-robin."""
    if not slot_names:
        return []
    if not cores:
        raise ValueError("no cores to divide between the slots; check the process's CPU affinity (taskset)")
    n, k = len(slot_names), len(cores)
    if n > k:
        return [SlotShare(s, (cores[i % k],), shared=True) for i, s in enumerate(slot_names)]
    size, extra = divmod(k, n)
    shares, start = [], 0
    for i, slot in enumerate(slot_names):
        end = start + size + (1 if i < extra else 0)
        shares.append(SlotShare(slot, tuple(cores[start:end])))
        start = end
    return shares


def machine_plan() -> list[SlotShare]:
    """How this machine is divided: every slot with the cores it owns (for the Launch page and the runs)."""
    return divide_cores(all_slots(), machine_cores())


def describe_plan(plan: list[SlotShare]) -> str:
    """One line for people: '2 CPU slots on 2 cores: cpu:0 core 0, cpu:1 core 1 (1 CPU thread per run)'."""
    if not plan:
        return "no slots"
    cores = {c for share in plan for c in share.cores}
    kind = "GPU" if plan[0].slot.startswith("gpu:") else "CPU"
    each = ", ".join(f"{s.slot} {_cores_text(s.cores)}" for s in plan)
    low, high = min(s.threads for s in plan), max(s.threads for s in plan)
    threads = f"{low} CPU thread" if low == high == 1 else f"{low if low == high else f'{low}-{high}'} CPU threads"
    note = "; there are more slots than cores, so slots share cores" if any(s.shared for s in plan) else ""
    return f"{_count(len(plan), f'{kind} slot')} on {_count(len(cores), 'core')}: {each} ({threads} per run){note}"


def describe_machine() -> str:
    """How this machine is divided between the slots, in one line (what the Launch page shows)."""
    return describe_plan(machine_plan())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _cores_text(cores: tuple[int, ...]) -> str:
    if len(cores) > 1 and list(cores) == list(range(cores[0], cores[-1] + 1)):
        return f"cores {cores[0]}-{cores[-1]}"
    return ("core " if len(cores) == 1 else "cores ") + ",".join(map(str, cores))


def split(slot: str | None) -> list[str]:
    """The slots a run holds: a run on N GPUs (``gpus=N``) holds ``"gpu:0,gpu:1"``."""
    return [part for part in (slot or "").split(",") if part]


def share_of(slot: str, plan: list[SlotShare] | None = None) -> SlotShare:
    """The share of ``slot`` in ``plan`` (default: this machine's): the cores of every slot it names; a slot no
    longer in the plan (the slots changed while it was queued) gets every core."""
    plan = machine_plan() if plan is None else plan
    owned = {s.slot: s for s in plan}
    parts = split(slot)
    if not parts or any(p not in owned for p in parts):
        return SlotShare(slot, tuple(machine_cores()))
    cores = sorted({c for p in parts for c in owned[p].cores})
    return SlotShare(slot, tuple(cores), shared=any(owned[p].shared for p in parts))


def slot_env(slot: str, share: SlotShare | None = None, processes: int = 1) -> dict[str, str]:
    """Environment a run in ``slot`` gets: its GPUs only (none for CPU slots) and, given its share of the
    cores, as many CPU threads per training process as it owns cores (divided between ``processes``)."""
    gpus = [ident for kind, _, ident in (p.partition(":") for p in split(slot)) if kind == "gpu"]
    env = {"CUDA_VISIBLE_DEVICES": ",".join(gpus)}
    if share is not None:
        threads = str(max(1, share.threads // max(1, processes)))
        env.update({name: threads for name in (*THREAD_VARIABLES, THREADS_ENV)})
    return env


def unpin() -> None:
    """Let this process run on every core the system allows it: a scheduler started from inside a pinned run
    (a script that launches runs) must not divide that run's share instead of the machine."""
    try:
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    except OSError:
        pass  # a cpuset forbids some cores: the affinity stays as it was, which is within what is allowed


def pin_to(share: SlotShare) -> None:
    """Pin this process (and the processes it starts from now on) to the share's cores."""
    os.sched_setaffinity(0, share.cores)
