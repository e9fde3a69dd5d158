"""Zips and uploads: an exported experiment log's zip imports back with its images, a zipped mlruns folder is
recognised inside its zip, a second upload of the same file finds the first import, and a zip entry that points
outside the archive is refused and reported."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from core import imports
from core.reports.experiment_log import experiment_log
from core.store import Store, queries
from tests.fixtures_runs import log_classify_like
from tests.imports.test_mlruns import _store as write_mlruns


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_exported_zip_uploads_back_with_its_images(runs_root: Path, tmp_path: Path) -> None:
    run_id = log_classify_like(runs_root, tmp_path / "images", "zipped", "g", 0, 0.5)
    with Store(runs_root, in_memory=True) as store:
        doc = experiment_log(store, [run_id])
    report = imports.import_upload("zipped.zip", doc.zip_bytes("zipped.md"), runs_root)
    assert [n for _, n in report.imported] == ["zipped"] and not report.problems
    with Store(runs_root, in_memory=True) as store:
        record = queries.run_record(store, report.imported[0][0])
    assert sorted(Path(a).name for a in record["artifacts"]) == sorted(Path(n).name for n in doc.images)
    assert record["tables"]["import/source"][0]["source"] == "zipped.md#zipped"
    again = imports.import_upload("renamed.zip", doc.zip_bytes("zipped.md"), runs_root)
    assert not again.imported and again.existing == report.imported


def test_a_zipped_mlruns_folder_is_recognised(runs_root: Path, tmp_path: Path) -> None:
    root = write_mlruns(tmp_path)
    files = {p.relative_to(root.parent).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    report = imports.import_upload("mlruns.zip", _zip(files), runs_root)
    assert report.formats == ["mlflow"] and [n for _, n in report.imported] == ["multi-head", "broken"]
    assert all("explorer-" not in p.source for p in report.problems)  # named by the upload, not a temp folder


def test_an_entry_outside_the_archive_is_refused(runs_root: Path) -> None:
    data = _zip({"../evil.md": b"## Experiment: evil\n", "ok.md": b"## Experiment: ok\n### Notes\nfine\n"})
    report = imports.import_upload("mixed.zip", data, runs_root)
    assert [n for _, n in report.imported] == ["ok"]
    assert [(p.text, p.reason) for p in report.problems] == [("../evil.md", "a path outside the archive: not unpacked")]
