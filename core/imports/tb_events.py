"""TensorBoard event folders, read with the ``tensorboard`` package's own reader (EventAccumulator): one run per
folder that holds event files, its scalars as metrics by step and its hparams as the config. A folder that
holds only the hparams of its parent (what ``SummaryWriter.add_hparams`` writes) is merged into the parent."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from core.imports.logformat import metric_name
from core.imports.model import ImportedRun, Problem

EVENTS_PREFIX = "events.out.tfevents"
_IGNORED_KINDS = ("images", "audio", "histograms", "distributions")


def is_event_file(path: Path) -> bool:
    """An event file by its content: a TFRecord whose first event names the ``brain.Event`` format."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return b"brain.Event" in head


def event_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` (itself included) that holds an event file, sorted."""
    folders = {p.parent for p in root.rglob(f"{EVENTS_PREFIX}*") if p.is_file()}
    if root.is_dir():
        folders |= {p.parent for p in root.iterdir() if p.is_file() and is_event_file(p)}
    return sorted(folders)


def read_folder(root: Path) -> tuple[list[ImportedRun], list[Problem]]:
    """The runs of a TensorBoard log folder (or of the folder of one event file)."""
    root = root if root.is_dir() else root.parent
    folders = event_folders(root)
    read = {folder: _read_events(folder) for folder in folders}
    runs: dict[Path, ImportedRun] = {}
    problems: list[Problem] = []
    for folder in folders:
        scalars, hparams, skipped = read[folder]
        parent = next((p for p in folder.parents if p in runs), None)
        if parent is not None and hparams and _only_hparam_metrics(scalars):
            _merge(runs[parent], folder, scalars, hparams)
        else:
            runs[folder] = _new_run(root, folder, scalars, hparams)
        problems += [Problem(_rel(root, folder), None, "", f"{n} {kind} tag(s) not imported (only scalars and "
                             "hparams are)") for kind, n in skipped.items()]  # fmt: skip
    if len(runs) > 1:  # the runs of one log folder: a sweep, or seeds, compared together
        for run in runs.values():
            run.group = root.name
    if not folders:
        problems.append(Problem(root.name, None, "", "no TensorBoard event files (events.out.tfevents.*) found"))
    return list(runs.values()), problems


def _new_run(root: Path, folder: Path, scalars: dict, hparams: dict) -> ImportedRun:
    run = ImportedRun(name=_rel(root, folder), format="tensorboard", source=str(folder), key=_key(folder),
                      config=dict(hparams))  # fmt: skip
    _add_scalars(run, scalars)
    return run


def _merge(run: ImportedRun, folder: Path, scalars: dict, hparams: dict) -> None:
    run.config.update(hparams)
    run.key = hashlib.sha256(f"{run.key}\n{_key(folder)}".encode()).hexdigest()[:20]
    _add_scalars(run, scalars)


def _add_scalars(run: ImportedRun, scalars: dict[str, list[tuple[int, float]]]) -> None:
    for tag, points in scalars.items():
        for step, value in points:
            run.log(step, metric_name(tag), value)


def _only_hparam_metrics(scalars: dict) -> bool:
    """add_hparams logs its metric_dict beside the hparams, once each."""
    return all(len(points) <= 1 for points in scalars.values())


def _key(folder: Path) -> str:
    """Event file names carry the time, host and process that wrote them: stable for a copy of the folder."""
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name.startswith(EVENTS_PREFIX))
    return hashlib.sha256(("tensorboard\n" + "\n".join(names)).encode()).hexdigest()[:20]


def _rel(root: Path, folder: Path) -> str:
    return folder.relative_to(root).as_posix() if folder != root else root.name


def _read_events(folder: Path) -> tuple[dict[str, list[tuple[int, float]]], dict[str, Any], dict[str, int]]:
    """Scalars (tag -> [(step, value)]), hparams and the count of tags of other kinds, from one folder."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(folder), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})  # 0: keep every point
    acc.Reload()
    tags = acc.Tags()
    scalars = {tag: [(int(e.step), float(e.value)) for e in acc.Scalars(tag)] for tag in tags.get("scalars", [])}
    scalars |= _tensor_scalars(acc, tags.get("tensors", []))
    skipped = {kind: len(tags.get(kind) or []) for kind in _IGNORED_KINDS if tags.get(kind)}
    return scalars, _hparams(acc), skipped


def _tensor_scalars(acc: Any, tags: list[str]) -> dict[str, list[tuple[int, float]]]:
    """Scalars written as tensors (newer writers) rather than simple values."""
    from tensorboard.util import tensor_util

    out = {}
    for tag in tags:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            continue
        out[tag] = [(int(e.step), float(tensor_util.make_ndarray(e.tensor_proto).item())) for e in acc.Tensors(tag)]
    return out


def _hparams(acc: Any) -> dict[str, Any]:
    from tensorboard.plugins.hparams import metadata

    try:
        content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    except KeyError:
        return {}
    config: dict[str, Any] = {}
    for tag, data in content.items():
        if tag.endswith(metadata.SESSION_START_INFO_TAG):
            info = metadata.parse_session_start_info_plugin_data(data)
            config |= {name: _plain(value) for name, value in info.hparams.items()}
    return config


def _plain(value: Any) -> Any:
    """A protobuf Value as JSON: numbers logged as floats that are whole become ints again."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        return int(number) if math.isfinite(number) and number == int(number) else number
    if kind == "bool_value":
        return value.bool_value
    return value.string_value if kind == "string_value" else None
