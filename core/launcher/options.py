"""Where a launched run runs: on this machine's slots (``local``, the default) or on a Ray cluster (``ray``), and
on how many GPUs (``gpus=N``: N slots here, or N GPUs of one Ray node, the run started under ``torchrun``).

The choice is checked when the run is launched and stored in its launch.json (``on``, ``gpus``, and for Ray the
cluster's address), so the scheduler, a resume and a retry start it the same way.
"""

from __future__ import annotations

import os
from typing import Any

BACKENDS = ("local", "ray")
RAY_ADDRESS_ENV = "EXPLORER_RAY_ADDRESS"  # the Ray dashboard's address, e.g. http://head-node:8265
RAY_CPUS_ENV = "EXPLORER_RAY_CPUS_PER_RUN"  # CPUs a Ray run asks for (default 1)
MAX_GPUS = 64


class LaunchError(ValueError):
    """A run cannot be launched, cancelled or resumed as asked; the message says why and what to do."""


def launch_options(on: str | None = None, gpus: int | None = None, address: str | None = None) -> dict[str, Any]:
    """The launch.json entries of ``on`` and ``gpus`` ({} for the defaults: a local run on one slot).

    Args:
        on: ``local`` or ``ray``; None: ``ray`` when EXPLORER_RAY_ADDRESS is set, else ``local``.
        address: the Ray cluster's dashboard address for ``ray`` (default EXPLORER_RAY_ADDRESS).
        gpus: GPUs of one machine the run uses (local: slots); None: one slot here, and on Ray one GPU when
            the cluster has GPUs. 2 or more starts the run under torchrun with one process per GPU.

    Raises:
        LaunchError: an unknown backend, Ray without an address, or a GPU count that is not a whole number.
    """
    backend = on or default_backend()
    if backend not in BACKENDS:
        raise LaunchError(f"on={backend!r} is not a backend; choose one of {', '.join(BACKENDS)}")
    lowest = 0 if backend == "ray" else 1  # a Ray run may ask for no GPU; a local run takes at least one slot
    if gpus is not None and (isinstance(gpus, bool) or not isinstance(gpus, int) or not lowest <= gpus <= MAX_GPUS):
        raise LaunchError(f"gpus must be a whole number from {lowest} to {MAX_GPUS} for a {backend} run, not {gpus!r}")
    options: dict[str, Any] = {} if gpus is None else {"gpus": gpus}
    if backend == "ray":
        options |= {"on": "ray", "ray_address": ray_address(address)}
    return options


def default_backend() -> str:
    """Where a launch goes when it does not say: ``ray`` when EXPLORER_RAY_ADDRESS is set, else ``local``."""
    return "ray" if os.environ.get(RAY_ADDRESS_ENV) else "local"


def ray_address(address: str | None = None) -> str:
    """The Ray dashboard's HTTP address (``address``, else EXPLORER_RAY_ADDRESS), with ``http://`` added."""
    chosen = (address or os.environ.get(RAY_ADDRESS_ENV) or "").strip().rstrip("/")
    if not chosen:
        raise LaunchError(
            f"no Ray cluster is configured: set {RAY_ADDRESS_ENV} to its dashboard's address "
            "(e.g. http://head-node:8265, where `ray start --head` runs), or launch with on=local"
        )
    return chosen if "://" in chosen else f"http://{chosen}"


def backend_of(spec: dict[str, Any]) -> str:
    """``ray`` or ``local``: where a run's launch.json says it runs."""
    return "ray" if spec.get("on") == "ray" else "local"


def gpus_of(spec: dict[str, Any]) -> int | None:
    """The GPUs (local: slots) a run asked for; None when it left the default."""
    gpus = spec.get("gpus")
    return int(gpus) if isinstance(gpus, int) and not isinstance(gpus, bool) else None


def processes_of(spec: dict[str, Any]) -> int:
    """Training processes the run starts: one per GPU asked for (torchrun), at least one."""
    return max(1, gpus_of(spec) or 1)


def ray_cpus() -> float:
    """CPUs a Ray run asks the cluster for (EXPLORER_RAY_CPUS_PER_RUN, default 1)."""
    try:
        return max(0.0, float(os.environ.get(RAY_CPUS_ENV, "1")))
    except ValueError:
        return 1.0
