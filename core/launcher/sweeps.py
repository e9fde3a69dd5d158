"""Seeds and sweeps: expand one launch into a group of runs; drive Bayesian search with optuna.

Grid and random sweeps are lists of overrides known up front. A Bayesian sweep asks optuna for one trial
at a time: its study lives in ``<runs>/sweeps/<sweep id>/`` (an optuna journal file), so it survives
restarts, and the scheduler reports each finished trial's objective and queues the next trial.
"""

from __future__ import annotations

import itertools
import math
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from core import runfolder
from core.launcher import queue
from core.launcher.control import launch_many, where_to_run
from core.runfolder import metricslog
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels

SWEEPS_DIR = "sweeps"


class SweepError(ValueError):
    """A sweep that cannot be expanded as given; the message names the key."""


def seed_overrides(base: Sequence[str], seeds: int | Sequence[int], first_seed: int = 0) -> list[list[str]]:
    """The same config with N seeds (``seed=first..first+N-1``) or the listed seeds."""
    chosen = list(range(first_seed, first_seed + seeds)) if isinstance(seeds, int) else list(seeds)
    if not chosen:
        raise SweepError("give at least one seed")
    return [[*_without(base, "seed"), f"seed={s}"] for s in chosen]


def grid_overrides(base: Sequence[str], space: Mapping[str, Sequence[Any]]) -> list[list[str]]:
    """Every combination of the listed values (cartesian product), in a stable order."""
    _check_space(space)
    keys = list(space)
    return [[*_without(base, *keys), *(f"{k}={v}" for k, v in zip(keys, combo))]
            for combo in itertools.product(*(space[k] for k in keys))]


def random_overrides(base: Sequence[str], space: Mapping[str, Sequence[Any]], n: int, seed: int = 0) -> list[list[str]]:
    """``n`` distinct combinations drawn at random (seeded) from the grid."""
    grid = grid_overrides(base, space)
    if n < 1:
        raise SweepError(f"a random sweep needs n >= 1 runs, not {n}")
    return random.Random(seed).sample(grid, min(n, len(grid)))


def parse_values(text: str) -> list[str]:
    """``"0.1, 0.01,0.001"`` -> ["0.1", "0.01", "0.001"] (how the launch form and CLI list values)."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise SweepError(f"no values in {text!r}; list them separated by commas, e.g. 0.1,0.01")
    return values


def parse_space(lines: Iterable[str]) -> dict[str, list[str]]:
    """``["lr=0.1,0.01", "heads=single,multi"]`` (CLI --sweep, or the form's lines) -> key -> values."""
    space: dict[str, list[str]] = {}
    for line in (t.strip() for t in lines):
        if not line:
            continue
        key, sep, values = line.partition("=")
        if not sep or not key.strip():
            raise SweepError(f"sweep {line!r} must look like key=v1,v2,v3")
        space[key.strip()] = parse_values(values)
    return space


def expand(base: Sequence[str], space: Mapping[str, Sequence[Any]], kind: str, trials: int,
           seeds: int) -> list[list[str]]:
    """The override sets to queue for a grid or random sweep (kind), each repeated over ``seeds`` seeds."""
    if kind not in ("grid", "random"):
        raise SweepError(f"sweep kind {kind!r} expands up front only for 'grid' or 'random'")
    sets = [list(base)]
    if space:
        sets = grid_overrides(base, space) if kind == "grid" else random_overrides(base, space, trials)
    if seeds > 1:
        sets = [s for one in sets for s in seed_overrides(one, seeds)]
    return sets


def default_group(name: str | None, recipe: str, n_runs: int) -> str | None:
    """Runs launched together form a group (the compare page aggregates it); a single run has none."""
    return f"{name or recipe}-x{n_runs}" if n_runs > 1 else None


def _check_space(space: Mapping[str, Sequence[Any]]) -> None:
    if not space:
        raise SweepError("a sweep needs at least one key with values, e.g. lr=0.1,0.01")
    for key, values in space.items():
        if not values:
            raise SweepError(f"sweep key {key!r} has no values; list at least one")


def _without(base: Sequence[str], *keys: str) -> list[str]:
    return [o for o in base if o.split("=", 1)[0].strip() not in keys]


# -- Bayesian search (optuna) ----------------------------------------------------------------------------
def start_bayes(root: Path, recipe: str, base: Sequence[str], space: Mapping[str, Sequence[Any]], *, n_trials: int,
                objective: str, direction: str = "maximize", group: str | None = None, parallel: int = 1,
                on: str | None = None, gpus: int | None = None) -> str:
    """Create a study and queue its first ``parallel`` trials (each finished trial queues the next); returns the
    sweep id (also the runs' group). ``on`` and ``gpus`` say where every trial runs (see ``launch_many``)."""
    import optuna

    _check_space(space)
    if direction not in ("maximize", "minimize"):
        raise SweepError(f"direction must be 'maximize' or 'minimize', not {direction!r}")
    where = where_to_run(on, gpus)
    sweep_id = f"bayes-{runfolder.new_run_id()}"
    folder = root / SWEEPS_DIR / sweep_id
    folder.mkdir(parents=True)
    spec = {"recipe": recipe, "base": list(base), "space": {k: [str(v) for v in vs] for k, vs in space.items()},
            "n_trials": int(n_trials), "objective": objective, "direction": direction, "group": group or sweep_id,
            "launch": {"on": "local", **where}}
    runfolder.write_json_atomic(folder / "sweep.json", spec)
    optuna.create_study(study_name=sweep_id, storage=_storage(folder), direction=direction)
    for _ in range(max(1, min(parallel, n_trials))):
        _queue_next_trial(root, folder, spec)
    return sweep_id


def on_runs_ended(root: Path, run_ids: Sequence[str]) -> None:
    """Report finished trials to their studies and queue the next trial of each unfinished sweep."""
    for run_id in run_ids:
        spec = runfolder.read_json(root / run_id / queue.LAUNCH_FILE, {}) or {}
        if spec.get("sweep") and spec.get("trial") is not None:
            _finish_trial(root, root / SWEEPS_DIR / str(spec["sweep"]), root / run_id, int(spec["trial"]))


def _finish_trial(root: Path, folder: Path, run_dir: Path, trial_number: int) -> None:
    import optuna

    sweep = runfolder.read_json(folder / "sweep.json")
    study = optuna.load_study(study_name=folder.name, storage=_storage(folder))
    if study.trials[trial_number].state != optuna.trial.TrialState.RUNNING:
        return  # already told (the scheduler restarted)
    value = best_value(run_dir, sweep["objective"], sweep["direction"])
    succeeded = runstatus.current(runstatus.read(run_dir)) == "succeeded"
    if succeeded and value is not None:
        study.tell(trial_number, value)
    else:
        study.tell(trial_number, state=optuna.trial.TrialState.FAIL)
    if len(study.trials) < sweep["n_trials"]:
        _queue_next_trial(root, folder, sweep)


def _queue_next_trial(root: Path, folder: Path, sweep: dict[str, Any]) -> str:
    import optuna

    study = optuna.load_study(study_name=folder.name, storage=_storage(folder))
    trial = study.ask()
    chosen = {k: trial.suggest_categorical(k, values) for k, values in sweep["space"].items()}
    overrides = [*_without(sweep["base"], *chosen), *(f"{k}={v}" for k, v in chosen.items())]
    labels = RunLabels(name=f"trial {trial.number}", group=sweep["group"],
                       reason=f"Bayesian sweep {folder.name}, trial {trial.number}")
    where = sweep.get("launch") or {"on": "local"}  # where every trial runs, chosen when the sweep started
    (run_id,) = launch_many(sweep["recipe"], [overrides], labels=labels, runs_dir=root, start=False,
                            extra={"sweep": folder.name, "trial": trial.number}, on=where["on"], gpus=where.get("gpus"),
                            ray_address=where.get("ray_address"))  # fmt: skip
    return run_id


def best_value(run_dir: Path, metric: str, direction: str) -> float | None:
    """The best value of ``metric`` a run logged (read from its metrics log, not the index)."""
    values = [r.value for r in metricslog.read_records(run_dir, metric) if math.isfinite(r.value)]
    if not values:
        return None
    return max(values) if direction == "maximize" else min(values)


def _storage(folder: Path) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(os.fspath(folder / "journal.log")))
