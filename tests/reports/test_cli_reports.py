"""``python -m core report | import | export``: the experiment log with its images or as a zip, the results
summary in each format, an import's report line by line (exit status 1 when nothing was imported), and the
CSV / Parquet exports. Run in-process through core.cli.main with this module's verbs registered."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import core.cli.reports  # noqa: F401  (registers report, import and export)
from core import tracking
from core.cli.main import main
from tests.fixtures_runs import log_classify_like


@pytest.fixture
def run_ids(runs_root: Path, tmp_path: Path) -> list[str]:
    return [log_classify_like(runs_root, tmp_path / "images", f"single s{s}", "single", s, 0.5) for s in (0, 1)]


def test_report_writes_the_log_with_its_images_or_a_zip(run_ids: list[str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert main(["report", run_ids[0][-6:]]) == 0
    assert "## Experiment: single s0" in capsys.readouterr().out
    out = tmp_path / "log" / "runs.md"
    assert main(["report", *run_ids, "--out", str(out)]) == 0
    linked = [line[line.index("(") + 1 : -1] for line in out.read_text().splitlines() if line.startswith("![")]
    assert len(linked) == 8 and all((out.parent / name).is_file() for name in linked)
    archive = tmp_path / "log.zip"
    assert main(["report", *run_ids, "--format", "zip", "--out", str(archive)]) == 0
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == sorted(["log.md", *linked])
    assert main(["report", run_ids[0], "--format", "zip"]) == 1  # a zip needs a file
    assert "give --out" in capsys.readouterr().err


def test_report_summary_in_each_format(run_ids: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", *run_ids, "--summary", "--columns", "val/top1", "best:val/loss", "epochs",
                 "--sort", "val/top1"]) == 0  # fmt: skip
    md = capsys.readouterr().out
    assert "| Experiment | Val Top-1 | Best Val Loss | Epochs |" in md and "Sorted by **Val Top-1" in md
    assert main(["report", *run_ids, "--format", "latex"]) == 0 and r"\toprule" in capsys.readouterr().out
    assert main(["report", *run_ids, "--summary", "--format", "csv", "--group-by", "none"]) == 0
    assert capsys.readouterr().out.startswith("group,id,name,")
    assert main(["report", *run_ids, "--summary", "--columns", "mean:x"]) == 1
    assert "best:METRIC" in capsys.readouterr().err


def test_import_prints_what_it_did_and_what_it_could_not_read(runs_root: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    log = tmp_path / "log.md"
    log.write_text("## Experiment: a\n### Metrics\n- Epoch 1: val_top1=0.5, val_top5=??\n")
    assert main(["import", str(log)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "imported 1 run(s) (markdown); 1 line(s) not read (listed below)"
    assert out[2].startswith("  not read  log.md#a:3: part of epoch 1's line") and out[2].endswith("val_top5=??")
    assert main(["import", str(log), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert not report["imported"] and [r["name"] for r in report["existing"]] == ["a"]
    (tmp_path / "notes.txt").write_text("nothing to see")
    assert main(["import", str(tmp_path / "notes.txt")]) == 1
    assert "nothing imported" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "missing.md")]) == 1


def test_export_writes_csv_and_parquet(runs_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with tracking.start(name="one", runs_dir=runs_root) as run:
        run.log({"val/top1": 0.5}, step=1)
    assert main(["export", "runs", "--out", str(tmp_path / "runs.parquet")]) == 0
    assert pd.read_parquet(tmp_path / "runs.parquet")["val/top1"].tolist() == [0.5]
    assert main(["export", "metrics", run.id, "--out", str(tmp_path / "m.csv")]) == 0
    assert pd.read_csv(tmp_path / "m.csv")[["name", "step", "value"]].values.tolist() == [["val/top1", 1, 0.5]]
    assert main(["export", "metrics", "--out", str(tmp_path / "m.csv")]) == 1
    assert main(["export", "runs", "--out", str(tmp_path / "runs.xlsx")]) == 1
    assert ".csv or .parquet" in capsys.readouterr().err
