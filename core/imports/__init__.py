"""``python -m core import FILE|FOLDER``: bring in what users already have, the format recognised from the
content: markdown experiment logs (and results tables), TensorBoard event folders, MLflow's ``mlruns`` store,
or a zip of any of them. Imported runs are written through ``core.tracking`` like any other run; what could
not be read is listed line by line in the report, never silently dropped.

    from core import imports
    report = imports.import_path("old-logs/car-classification-log.md", runs_root)
    print("\\n".join(report.lines()))
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from contextlib import ExitStack
from pathlib import Path

from core.imports import markdown_log, mlruns, tb_events, writer
from core.imports.model import IMPORTED_TAG, SOURCE_TABLE, STATED_TABLE, ImportedRun, ImportReport, Problem
from core.runfolder import safe_relative
from core.runfolder.paths import runs_dir

__all__ = ["IMPORTED_TAG", "SOURCE_TABLE", "STATED_TABLE", "ImportReport", "ImportedRun", "Problem", "import_path",
           "import_upload", "read_path"]  # fmt: skip
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
ZIP_MAGIC = b"PK\x03\x04"


def import_path(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> ImportReport:
    """Import a file or folder into the runs folder ``root`` (default EXPLORER_RUNS_DIR).

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    source = Path(path).expanduser()
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist: give a markdown log, a TensorBoard log folder, an "
                                "mlruns folder or a zip of them")  # fmt: skip
    report = ImportReport()
    with ExitStack() as scratch:  # unpacked zips live until their runs are written
        runs = read_path(source.resolve(), report, scratch)
        writer.write_runs(runs, runs_dir(root), report)
    return report


def import_upload(filename: str, data: bytes, root: str | os.PathLike[str] | None = None) -> ImportReport:
    """Import an uploaded file (the Reports page): saved under a temporary folder, then read as a path; the
    report names it by its upload name."""
    with ExitStack() as scratch:
        tmp = scratch.enter_context(tempfile.TemporaryDirectory(prefix="explorer-import-"))
        path = Path(tmp) / (Path(filename).name or "upload")
        path.write_bytes(data)
        report = ImportReport()
        runs = read_path(path, report, scratch)
        for run in runs:
            run.source = run.source.replace(tmp, "upload")
        report.problems = [Problem(p.source.replace(tmp, "upload"), p.line, p.text, p.reason) for p in report.problems]
        writer.write_runs(runs, runs_dir(root), report)
    return report


def read_path(path: Path, report: ImportReport, scratch: ExitStack) -> list[ImportedRun]:
    """The runs in a file or folder, by what its content is; problems and formats go into ``report``; a zip is
    unpacked into a temporary folder that ``scratch`` removes when it closes (after the runs are written)."""
    if path.is_dir():
        return _read_folder(path, report)
    if _starts_with(path, ZIP_MAGIC):
        return _read_zip(path, report, scratch)
    if tb_events.is_event_file(path):
        return _collect(report, "tensorboard", *tb_events.read_folder(path.parent))
    if path.name == mlruns.META and mlruns.is_store(path.parent):
        return _collect(report, "mlflow", *mlruns.read_store(path.parent))
    if _is_markdown_log(path):
        return _collect(report, "markdown", *markdown_log.read_log(path))
    report.problems.append(Problem(path.name, None, "", "not a format we read: a markdown experiment log, a "
                                   "TensorBoard event file or folder, an mlruns folder, or a zip of them"))  # fmt: skip
    return []


def _read_folder(folder: Path, report: ImportReport) -> list[ImportedRun]:
    """Every store, event folder and markdown log in a folder (each file read once, by what it is)."""
    runs: list[ImportedRun] = []
    stores = mlruns.find_stores(folder)
    for store in stores:
        runs += _collect(report, "mlflow", *mlruns.read_store(store))
    event_folders = tb_events.event_folders(folder)
    if event_folders:
        runs += _collect(report, "tensorboard", *tb_events.read_folder(folder))
    taken = [*stores, *event_folders]
    for path in sorted(folder.rglob("*")):
        inside = any(f == path.parent or f in path.parents for f in taken)
        if path.suffix.lower() in MARKDOWN_SUFFIXES and path.is_file() and not inside and _is_markdown_log(path):
            runs += _collect(report, "markdown", *markdown_log.read_log(path))
    if not runs and not report.problems:
        report.problems.append(Problem(folder.name, None, "", "no experiment log, TensorBoard events or mlruns found"))
    return runs


def _read_zip(path: Path, report: ImportReport, scratch: ExitStack) -> list[ImportedRun]:
    """A zip (an exported log with its images, a zipped log folder) is unpacked and read as a folder."""
    tmp = scratch.enter_context(tempfile.TemporaryDirectory(prefix="explorer-zip-"))
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                try:
                    safe_relative(member.filename)
                except ValueError:
                    report.problems.append(Problem(path.name, None, member.filename,
                                                   "a path outside the archive: not unpacked"))  # fmt: skip
                    continue
                archive.extract(member, tmp)
    except zipfile.BadZipFile as exc:
        report.problems.append(Problem(path.name, None, "", f"not a readable zip ({exc})"))
        return []
    runs = _read_folder(Path(tmp), report)
    for run in runs:
        run.source = run.source.replace(tmp, path.name)
    report.problems = [Problem(p.source.replace(tmp, path.name), p.line, p.text, p.reason) for p in report.problems]
    return runs


def _collect(report: ImportReport, kind: str, runs: list[ImportedRun], problems: list[Problem]) -> list[ImportedRun]:
    if kind not in report.formats:
        report.formats.append(kind)
    report.problems += problems
    return runs


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(magic)) == magic
    except OSError:
        return False


def _is_markdown_log(path: Path) -> bool:
    try:
        return markdown_log.looks_like_log(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False
