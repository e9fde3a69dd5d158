"""Reproducibility captured at a run's start: commit, dirty tree and diff, command, versions, host; ranks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from core import provenance, tracking


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)  # fmt: skip


def test_a_run_records_its_commit_and_dirty_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "train.py").write_text("print(1)\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "first")
    (repo / "train.py").write_text("print(2)\n")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("EXPLORER_PROVENANCE", "1")
    with tracking.start(name="p", runs_dir=tmp_path / "runs") as run:
        run.log({"x": 1}, step=1)
    record = json.loads((run.dir / provenance.PROVENANCE_FILE).read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert record["git"] == {"commit": head, "branch": record["git"]["branch"], "dirty": True}
    assert "+print(2)" in (run.dir / provenance.DIFF_FILE).read_text()
    assert record["python"] and record["host"] and isinstance(record["gpus"], list)
    assert "torch" in record["packages"]


def test_outside_a_repository_the_git_fields_are_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    record, diff = provenance.capture(tmp_path)
    assert record["git"] == {} and diff == ""


def test_only_rank_zero_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    root = tmp_path / "distributed"
    root.mkdir()
    with tracking.start(name="rank1", runs_dir=root) as run:
        run.log({"x": 1.0}, step=1)
        run.log_table("t", [{"a": 1}])
        run.artifact_path("model.pt").write_bytes(b"x")
    assert not any(root.iterdir())
    with tracking.start(name="every", runs_dir=root, all_ranks=True) as logged:
        logged.log({"x": 1.0}, step=1)
    assert [p.name for p in root.iterdir()] == [logged.id]
