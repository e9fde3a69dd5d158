"""``python -m core compare``: the page's verdicts for scripts, as JSON with the documented keys or as a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import tracking
from core.cli.main import main
from core.store import Store
from core.views import verdicts
from tests.conftest import run_cli


def _log(name: str, group: str | None, config: dict, metrics: dict) -> str:
    with tracking.start(name=name, group=group, config=config) as run:
        run.log(metrics, step=1)
    return run.id


@pytest.fixture
def runs(runs_root: Path) -> dict[str, list[str]]:
    """Three seeds of one config, one other config, and a sweep logging the same top-1 in percent."""
    seeds = [_log(f"s{i}", "heads", {"lr": 0.1, "seed": i}, {"test/top1": 40.0 + i, "val/loss": 1.0 - i / 10})
             for i in range(3)]  # fmt: skip
    other = [_log("other", None, {"lr": 0.01}, {"test/top1": 45.5, "val/loss": 0.5})]
    sweep = [_log(f"v{i}", "sweep", {"variant": i}, {"test/top1": 34.84, "val/loss": 0.9}) for i in range(3)]
    return {"seeds": seeds, "other": other, "sweep": sweep}


def _compare(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["compare", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_the_documented_keys(runs: dict[str, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    ids = runs["seeds"] + runs["other"]
    code, out, _ = _compare(capsys, *ids, "--metric", "test/top1", "--json")
    assert code == 0
    record = json.loads(out)
    assert record["baseline"] == ids[0]  # the first run given
    assert {"deltas", "verdicts", "seed_groups", "findings"} <= set(record)
    delta = next(d for d in record["deltas"] if d["run"] == runs["other"][0])
    assert {"run", "metric", "value", "baseline_value", "delta", "delta_pct"} <= set(delta)
    assert (delta["value"], delta["baseline_value"], delta["delta"]) == pytest.approx((45.5, 40.0, 5.5))
    assert delta["delta_pct"] == pytest.approx(5.5 / 40 * 100)
    (verdict,) = record["verdicts"]  # the seed group (the baseline's unit) against the other run
    assert {"run", "baseline", "metric", "test", "n", "p", "p_adjusted", "significant", "better",
            "sentence"} <= set(verdict)  # fmt: skip
    (group,) = record["seed_groups"]
    assert {"runs", "n", "metric", "mean", "std"} <= set(group)
    assert (group["runs"], group["n"], group["mean"]) == (runs["seeds"], 3, pytest.approx(41.0))
    assert all({"kind", "metric", "runs", "message"} <= set(f) for f in record["findings"])


def test_json_findings_and_verdicts_equal_the_views(
    runs: dict[str, list[str]], runs_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = runs["sweep"] + runs["seeds"] + runs["other"]
    code, out, _ = _compare(capsys, *ids, "--baseline", runs["other"][0], "--metric", "test/top1",
                            "--metric", "val/loss", "--json")  # fmt: skip
    assert code == 0
    record = json.loads(out)
    with Store(runs_root, in_memory=True) as store:
        judgement = verdicts.judge(store, ids, ["test/top1", "val/loss"], runs["other"][0])
        per_run = verdicts.run_findings(store, ids)
    assert record["findings"] == [f.to_dict() for f in judgement.findings]
    assert any(f["kind"] == "identical_results" for f in record["findings"])
    assert record["run_findings"] == {r: [f.to_dict() for f in per_run[r]] for r in [runs["other"][0], *ids]}
    assert [v["sentence"] for v in record["verdicts"]] == [v.sentence for v in judgement.verdicts]
    assert record["baseline"] == runs["other"][0]


def test_the_report_reads_in_the_metrics_units(runs: dict[str, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    ids = runs["seeds"] + runs["other"]
    code, out, _ = _compare(capsys, *ids, "--metric", "test/top1", "--metric", "val/loss")
    assert code == 0
    other = runs["other"][0]
    (row,) = [line for line in out.splitlines() if other in line and "test/top1" in line]
    assert row.split()[2:] == ["45.50%", "40.00%", "+5.50", "pts", "+13.75%"]  # percent, points, a relative %
    (loss,) = [line for line in out.splitlines() if other in line and "val/loss" in line]
    assert loss.split()[2:] == ["0.5", "1", "-0.5", "-50.00%"]
    assert "heads (n=3) test/top1: 41.00% ± 1.00 pts" in out
    for title in ("verdicts:", "seed groups:", "findings:", "findings of each run:"):
        assert title in out.splitlines()


def test_an_unknown_metric_or_run_is_one_line(runs: dict[str, list[str]], runs_root: Path) -> None:
    done = run_cli("compare", runs["other"][0], runs["seeds"][0], "--metric", "test/top")
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: no run compared logged metric 'test/top'; did you mean 'test/top1'?")
    done = run_cli("compare", runs["other"][0], "nope")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: no run 'nope' in {runs_root}; "
                                               "`python -m core ls` lists the run ids"]  # fmt: skip
