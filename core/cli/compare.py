"""CLI verb ``compare``: the verdicts of the Compare page for scripts and reviewers (deltas against a baseline,
seed groups, significance tests, findings over the set and of each run), as a report or, with ``--json``, one
JSON object: ``views.verdicts.judge(...).to_dict()`` plus ``run_findings`` (run id -> what the Runs table says)."""

from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core import runfolder
from core.cli.runs import open_store
from core.cli.verbs import VERBS, CliError, Verb
from core.runfolder.paths import runs_dir

if TYPE_CHECKING:
    from core.evaluation.diagnostics import Finding
    from core.evaluation.semantics import Semantics
    from core.views.verdicts import Judgement


def _compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run ids (or unique parts of them)")
    p.add_argument("--baseline", default=None, metavar="RUN", help="the run every other is compared with "
                   "(default: the first RUN)")  # fmt: skip
    p.add_argument("--metric", action="append", default=[], metavar="NAME",
                   help="a metric to compare (repeat for more; default: test/top1, val/top1, ... as logged)")
    p.add_argument("--json", action="store_true", help="print one JSON object: deltas, verdicts, seed_groups, "
                   "findings (of the set) and run_findings (of each run)")  # fmt: skip


def cmd_compare(args: argparse.Namespace) -> int:
    from core.store import queries
    from core.views import verdicts

    root = runs_dir()
    run_ids = list(dict.fromkeys(runfolder.resolve_run_dir(root, r).name for r in args.runs))
    baseline = runfolder.resolve_run_dir(root, args.baseline).name if args.baseline else run_ids[0]
    with open_store() as store:
        _check_metrics(args.metric, queries.metric_names(store, [baseline, *run_ids]))
        judgement = verdicts.judge(store, run_ids, args.metric or None, baseline)
        per_run = verdicts.run_findings(store, list(dict.fromkeys([judgement.baseline, *run_ids])))
    if args.json:
        record = {**judgement.to_dict(), "run_findings": {r: [f.to_dict() for f in fs] for r, fs in per_run.items()}}
        print(json.dumps(runfolder.sanitize_json(record), indent=1))
    else:
        print("\n".join(report_lines(judgement, per_run)))
    return 0


def _check_metrics(asked: list[str], logged: list[str]) -> None:
    for name in asked:
        if name not in logged:
            close = difflib.get_close_matches(name, logged, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise CliError(f"no run compared logged metric {name!r}; {hint}logged: {', '.join(logged) or 'none'}")


def report_lines(judgement: Judgement, per_run: Mapping[str, list[Finding]]) -> list[str]:
    """The text report: the baseline (by the name the verdicts use, and its id), the deltas table, then the
    verdicts, the seed groups and the findings (of the set, then of each run)."""
    baseline = judgement.baseline
    lines = [f"baseline: {judgement.names.get(baseline, baseline)} ({baseline})", ""]
    lines += _deltas_table(judgement.deltas, judgement.semantics) or ["(no other run to compare with)"]
    sections = {
        "verdicts": [v.sentence for v in judgement.verdicts],
        "seed groups": [_seed_group_line(g, judgement.semantics[g["metric"]]) for g in judgement.seed_groups],
        "findings": [f"[{f.severity}] {f.message}" for f in judgement.findings],
        "findings of each run": [f"{run}: [{f.severity}] {f.message}" for run, fs in per_run.items() for f in fs],
    }
    for title, items in sections.items():
        lines += ["", f"{title}:", *([f"- {item}" for item in items] or ["  none"])]
    return lines


def _deltas_table(deltas: list[dict[str, Any]], sems: dict[str, Semantics]) -> list[str]:
    header = ("metric", "run", "value", "baseline", "delta", "delta %")
    rows = [header]
    for d in deltas:
        sem = sems[d["metric"]]
        pct = "—" if d["delta_pct"] is None else f"{d['delta_pct']:+.2f}%"
        rows.append((d["metric"], d["run"], sem.format(d["value"]), sem.format(d["baseline_value"]),
                     sem.format_delta(d["delta"]), pct))  # fmt: skip
    if len(rows) == 1:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def _seed_group_line(group: dict[str, Any], sem: Semantics) -> str:
    spread = sem.format_delta(group["std"]).lstrip("+")
    return f"{group['label']} (n={int(group['n'])}) {group['metric']}: {sem.format(group['mean'])} ± {spread}"


VERBS.register(Verb("compare", "compare runs with a baseline: deltas, seed groups, significance and findings",
                    _compare_args, cmd_compare))
