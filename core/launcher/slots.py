"""Execution slots: one per visible GPU, or a configurable number of CPU slots when there is none.

GPUs are counted without importing torch (the scheduler must stay light): CUDA_VISIBLE_DEVICES when set,
else ``nvidia-smi -L``. A run gets its GPU through CUDA_VISIBLE_DEVICES.
"""

from __future__ import annotations

import os
import shutil
import subprocess

CPU_SLOTS_ENV = "EXPLORER_CPU_SLOTS"


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


def slot_env(slot: str) -> dict[str, str]:
    """Environment a run in ``slot`` gets: its GPU only, or no GPU at all for a CPU slot."""
    kind, _, ident = slot.partition(":")
    return {"CUDA_VISIBLE_DEVICES": ident if kind == "gpu" else ""}
