"""The results summary: the runs of shared/examples/results-summary.md, logged here through core.tracking, come
out in its tables' order, with the identical top-1 flagged; takeaways are computed from the numbers (best,
trade-offs, outliers, significance); markdown, CSV and LaTeX carry the same tables."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import tracking
from core.reports.render import render, results_summary
from core.reports.summary import Choices, Column, Summary
from core.store import Store
from tests.conftest import REPO

EXAMPLE = REPO.parent / "shared" / "examples" / "results-summary.md"
COLUMNS = tuple(Column.parse(c) for c in ("best:val/loss", "test/KL", "test/top1", "test/top3", "epochs"))
GROUPS = {"Overnight regularization experiments": "overnight", "sweep:sweep_1768899422": "sweep_1768899422",
          "Other training runs": None}  # fmt: skip


def _example_tables() -> dict[str, list[list[str]]]:
    """Heading -> rows (cells) of each table in the example, read with a plain split on '|'."""
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} is not here (shared/examples travels beside the repository)")
    tables: dict[str, list[list[str]]] = {}
    heading = ""
    for line in EXAMPLE.read_text().splitlines():
        if line.startswith("#"):
            heading = re.sub(r"\s*\(`.*`\)$", "", line.lstrip("#").strip())
        elif line.startswith("| ") and not line.startswith("| Experiment"):
            tables.setdefault(heading, []).append([c.strip() for c in line.strip("|").split("|")])
    return tables


def _log(root: Path, row: list[str], group: str | None) -> str:
    """One run as the example states it: a val loss curve whose minimum is the stated best, the test values."""
    name, best_val, kl, top1, top3, epochs = row
    epochs_n, mid = int(epochs), int(epochs) // 2
    with tracking.start(name=name, group=group, config={"variant": name}, runs_dir=root) as run:
        run.define_metric("test/top3", scale="percent")  # top-3 is not among the names read as shares
        for epoch in range(1, epochs_n + 1):
            run.log({"val/loss": float(best_val) + 0.01 * abs(epoch - mid)}, step=epoch)
        run.log({"test/KL": float(kl), "test/top1": float(top1.rstrip("%")), "test/top3": float(top3.rstrip("%"))},
                step=epochs_n)  # fmt: skip
    return run.id


Example = tuple[Store, dict[str, list[str]], list[str]]  # the index, heading -> run names in order, run ids


@pytest.fixture
def example_runs(runs_root: Path) -> Iterator[Example]:
    tables = _example_tables()
    names = {h: [row[0] for row in rows] for h, rows in tables.items()}
    ids = [_log(runs_root, row, GROUPS[h]) for h, rows in tables.items() for row in rows]
    with Store(runs_root, in_memory=True) as store:
        yield store, names, ids


def _order(summary: Summary, title: str) -> list[str]:
    table = next(t for t in summary.tables if t.title == title)
    return [table.names[r] for r in table.run_ids]


def test_the_example_runs_come_out_in_its_tables_order_with_the_identical_top1_flagged(example_runs: Example) -> None:
    store, names, ids = example_runs
    by_kl = results_summary(store, ids, Choices(COLUMNS, Column.parse("test/KL")))
    assert [t.title for t in by_kl.tables] == ["sweep: overnight", "sweep: sweep_1768899422", "Other runs"]
    assert _order(by_kl, "sweep: overnight") == names["Overnight regularization experiments"]
    by_val = results_summary(store, ids, Choices(COLUMNS, Column.parse("best:val/loss")))
    assert _order(by_val, "sweep: sweep_1768899422") == names["sweep:sweep_1768899422"]
    assert _order(by_val, "Other runs") == names["Other training runs"]
    said = "\n".join(by_kl.takeaways)
    assert "**Test Top-1 does not separate the runs of sweep: overnight**: 34.84% in all 9" in said
    assert "**Test Top-1 stays at 34.84% in 17 of 20 runs**" in said
    assert "Identical results" in said  # the diagnostics' warning, from judge()
    assert "**Best Test KL** (lower is better): `combo_4_aggressive` in sweep: overnight (**0.326**)" in said
    assert "`combo_4_aggressive` has the best Test KL (0.326) but the worst Best Val Loss (0.4496)" in said
    assert "**Outliers in Other runs**" in said and "`run_1768745543` (14.66)" in said
    assert "No difference could be tested" in said  # one run per config, no per-sample predictions


def test_markdown_csv_and_latex_carry_the_same_tables(example_runs: Example) -> None:
    store, _, ids = example_runs
    summary = results_summary(store, ids, Choices(COLUMNS, Column.parse("test/KL")))
    md = render(summary, "md")
    assert "Sorted by **Test KL (lower is better)**." in md
    assert "| Experiment | Best Val Loss | Test KL | Test Top-1 | Test Top-3 | Epochs |" in md
    assert "| combo_4_aggressive | 0.4496 | 0.326 | 34.84% | 97.91% | 30 |" in md
    rows = list(csv.DictReader(io.StringIO(render(summary, "csv"))))
    assert len(rows) == 20 and rows[0]["group"] == "sweep: overnight" and rows[0]["name"] == "combo_4_aggressive"
    assert (rows[0]["Test KL"], rows[0]["Test Top-1"], rows[0]["Epochs"]) == ("0.326", "34.84", "30")
    latex = render(summary, "latex")
    assert latex.count(r"\toprule") == 3 and latex.count(r"\bottomrule") == 3
    assert r"combo\_4\_aggressive & 0.4496 & \textbf{0.326} & 34.84\% & 97.91\% & 30 \\" in latex
    assert r"\begin{itemize}" in latex and "**" not in latex


def _seed_groups(root: Path, spread: float) -> list[str]:
    """Configs a (top-1 0.80) and b (0.60), 3 seeds each, the seeds ``spread`` apart."""
    ids = []
    for config, base in (("a", 0.80), ("b", 0.60)):
        for seed in range(3):
            with tracking.start(name=f"{config} s{seed}", group="heads", config={"head": config, "seed": seed},
                                runs_dir=root) as run:  # fmt: skip
                run.log({"val/loss": 1.0 - base, "test/top1": base + spread * seed}, step=1)
            ids.append(run.id)
    return ids


def test_seed_groups_whose_seeds_never_vary_are_said_to_be_untestable(runs_root: Path) -> None:
    ids = _seed_groups(runs_root, spread=0.0)
    with Store(runs_root, in_memory=True) as store:
        said = results_summary(store, ids, Choices.parse(["test/top1"])).takeaways
    (line,) = [t for t in said if t.startswith("**Not tested in sweep: heads**")]
    assert "run seeds that vary" in line and not any("Significant" in t for t in said)


def test_seed_groups_are_tested_for_significance(runs_root: Path) -> None:
    ids = _seed_groups(runs_root, spread=0.01)
    with Store(runs_root, in_memory=True) as store:
        by_group = results_summary(store, ids, Choices.parse(["test/top1"]))
        by_seeds = results_summary(store, ids, Choices.parse(["test/top1"], group_by="seed group"))
    assert [t.title for t in by_group.tables] == ["sweep: heads"] and by_group.tables[0].note == "A sweep over head."
    assert any(t.startswith("**Significant in sweep: heads**") and "Welch" in t for t in by_group.takeaways)
    assert [(t.title, len(t.run_ids), t.note) for t in by_seeds.tables] == [
        ("heads · head=a", 3, "3 seeds of one config."),
        ("heads · head=b", 3, "3 seeds of one config."),
    ]
    assert [by_group.tables[0].names[r] for r in by_group.tables[0].run_ids][:3] == ["a s2", "a s1", "a s0"]


def test_a_column_that_is_not_one_says_how_to_write_it() -> None:
    with pytest.raises(ValueError, match="best:METRIC"):
        Column.parse("mean:val/loss")
    assert Column.parse("best:val/loss").label == "Best Val Loss" and Column.parse("epochs").label == "Epochs"
