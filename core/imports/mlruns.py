"""MLflow's local file store (``mlruns/``), read from its files without MLflow: each experiment folder's runs
with their params (the config), metrics with steps, tags and notes. A deleted run is left out and said so."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from core.imports.logformat import metric_name
from core.imports.model import ImportedRun, Problem

META = "meta.yaml"
# MLflow's RunStatus (numbers in older stores, names in newer) -> our final status.
STATUSES = {1: "crashed", 2: "crashed", 3: "succeeded", 4: "failed", 5: "cancelled",
            "RUNNING": "crashed", "SCHEDULED": "crashed", "FINISHED": "succeeded", "FAILED": "failed",
            "KILLED": "cancelled"}  # fmt: skip
SYSTEM_TAG = "mlflow."
NOTE_TAG = "mlflow.note.content"


def _meta(folder: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load((folder / META).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def is_run(folder: Path) -> bool:
    meta = _meta(folder)
    return bool(meta.get("run_id") or meta.get("run_uuid"))


def is_experiment(folder: Path) -> bool:
    meta = _meta(folder)
    return "experiment_id" in meta and not is_run(folder)


def is_store(folder: Path) -> bool:
    """An mlruns folder, one experiment folder of it, or one run folder."""
    if not folder.is_dir():
        return False
    return is_run(folder) or is_experiment(folder) or any(is_experiment(p) for p in folder.iterdir() if p.is_dir())


def find_stores(folder: Path) -> list[Path]:
    """The mlruns stores at or below ``folder`` (a zip of a project may hold one deep inside)."""
    if is_store(folder):
        return [folder]
    experiments = {p.parent for p in folder.rglob(META) if is_experiment(p.parent)}
    return sorted({e.parent for e in experiments})


def read_store(folder: Path) -> tuple[list[ImportedRun], list[Problem]]:
    """Every run of the store (or experiment, or run) at ``folder``."""
    if is_run(folder):
        experiments = {folder.parent: _meta(folder.parent)}
        run_folders = [folder]
    else:
        roots = [folder] if is_experiment(folder) else sorted(p for p in folder.iterdir() if is_experiment(p))
        experiments = {e: _meta(e) for e in roots}
        run_folders = [r for e in roots for r in sorted(e.iterdir()) if r.is_dir() and is_run(r)]
    runs, problems = [], []
    for run_folder in run_folders:
        experiment = experiments.get(run_folder.parent, {})
        run, found = _read_run(run_folder, experiment)
        problems += found
        if run is not None:
            runs.append(run)
    if not run_folders:
        problems.append(Problem(folder.name, None, "", "no MLflow runs (folders with a meta.yaml and run_id) found"))
    return runs, problems


def _read_run(folder: Path, experiment: dict[str, Any]) -> tuple[ImportedRun | None, list[Problem]]:
    meta = _meta(folder)
    run_id = str(meta.get("run_id") or meta.get("run_uuid"))
    if meta.get("lifecycle_stage") == "deleted":
        return None, [Problem(folder.name, None, "", "a deleted MLflow run: not imported")]
    tags = _files(folder / "tags")
    name = str(meta.get("run_name") or tags.get("mlflow.runName") or run_id)
    key = hashlib.sha256(f"mlflow\n{meta.get('experiment_id')}\n{run_id}".encode()).hexdigest()[:20]
    status = STATUSES.get(meta.get("status"), "succeeded")
    run = ImportedRun(
        name=name, format="mlflow", source=str(folder), key=key, group=str(experiment.get("name") or ""),
        notes=tags.get(NOTE_TAG, ""), config={k: _param(v) for k, v in _files(folder / "params").items()},
        tags=[f"{k}={v}" if v else k for k, v in tags.items() if not k.startswith(SYSTEM_TAG)],
        date=_date(meta.get("start_time")), status=status, origin_id=run_id,
        error="was still running in MLflow when imported" if status == "crashed" else None,
    )  # fmt: skip
    return run, _read_metrics(run, folder / "metrics")


def _read_metrics(run: ImportedRun, folder: Path) -> list[Problem]:
    """Metric files hold lines '<timestamp ms> <value> <step>' (keys with '/' are nested folders)."""
    problems = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
        name = metric_name(path.relative_to(folder).as_posix())
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            parts = line.split()
            try:
                value, step = float(parts[1]), int(parts[2]) if len(parts) > 2 else 0
            except (IndexError, ValueError):
                if line.strip():
                    problems.append(Problem(str(path), number, line, "not '<timestamp> <value> <step>': skipped"))
                continue
            run.log(step, name, value)
    return problems


def _files(folder: Path) -> dict[str, str]:
    """A folder of one-value files (params, tags) as key -> text; keys with '/' are nested folders."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8").strip()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def _param(text: str) -> Any:
    """MLflow keeps params as text: numbers and true/false become values again; other text stays text."""
    lowered = {"True": "true", "False": "false", "None": "null"}.get(text, text)
    try:
        value = json.loads(lowered)
    except ValueError:
        return text
    return value if isinstance(value, (int, float, bool)) or value is None else text


def _date(millis: Any) -> str:
    try:
        return datetime.fromtimestamp(int(millis) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError):
        return ""
