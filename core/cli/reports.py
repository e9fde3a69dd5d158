"""CLI verbs for reports and imports: ``report`` (the experiment log of runs, or their results summary),
``import`` (markdown logs, TensorBoard folders, MLflow mlruns, zips of them) and ``export`` (the runs table or
runs' metrics as CSV or Parquet). Heavy modules are imported only when a verb runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core import runfolder
from core.cli.runs import open_store
from core.cli.verbs import VERBS, CliError, Verb
from core.reports import GROUPINGS
from core.runfolder.paths import runs_dir

if TYPE_CHECKING:
    from core.store import Store

REPORT_FORMATS = ("md", "zip", "csv", "latex")


# -- report --------------------------------------------------------------------------------------------
def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run ids (or unique parts of them)")
    p.add_argument("--format", choices=REPORT_FORMATS, default="md",
                   help="md: the experiment log (or with --summary the results summary); zip: the log and its "
                        "images (needs --out); csv: one row per run with every metric (with --summary: the "
                        "summary tables); latex: the results summary as booktabs tables")  # fmt: skip
    p.add_argument("--summary", action="store_true", help="the results summary instead of the experiment log")
    p.add_argument("--group-by", choices=GROUPINGS, default="group", help="how the summary groups the runs")
    p.add_argument("--sort", default=None, help="the summary's sort column, e.g. test/KL or best:val/loss")
    p.add_argument("--columns", nargs="+", default=None, metavar="COLUMN",
                   help="the summary's columns: METRIC (last value), best:METRIC, or epochs")  # fmt: skip
    p.add_argument("--out", default=None, help="write here (a .md gets its images beside it, in plots/)")


def cmd_report(args: argparse.Namespace) -> int:
    run_ids = [runfolder.resolve_run_dir(runs_dir(), r).name for r in args.runs]
    summary = args.summary or args.format == "latex"
    if args.format == "zip" and (args.out is None or summary):
        raise CliError("--format zip writes the experiment log and its images to a file: give --out LOG.zip")
    with open_store() as store:
        if summary:
            text: str | bytes = _summary_text(store, run_ids, args)
        elif args.format == "csv":
            from core.views import reports as views_reports

            text = views_reports.csv_report(store, run_ids)
        else:
            text = _experiment_log(store, run_ids, args)
    if args.out is None:
        print(text, end="" if str(text).endswith("\n") else "\n")
    elif args.format != "md" or summary:
        Path(args.out).write_bytes(text) if isinstance(text, bytes) else Path(args.out).write_text(text)
        print(f"wrote the {args.format} report of {len(run_ids)} run(s) to {args.out}")
    return 0


def _experiment_log(store: Store, run_ids: list[str], args: argparse.Namespace) -> str | bytes:
    from core.reports.experiment_log import experiment_log

    doc = experiment_log(store, run_ids, images=args.out is not None)
    if args.format == "zip":
        return doc.zip_bytes(Path(args.out).with_suffix(".md").name)
    if args.out is not None:
        doc.write(Path(args.out))
        print(f"wrote the experiment log of {len(run_ids)} run(s) to {args.out} with {len(doc.images)} image(s)")
    return doc.markdown


def _summary_text(store: Store, run_ids: list[str], args: argparse.Namespace) -> str:
    from core.reports.render import render, results_summary
    from core.reports.summary import Choices

    built = results_summary(store, run_ids, Choices.parse(args.columns, args.sort, args.group_by))
    return render(built, "md" if args.format in ("md", "zip") else args.format)


# -- import --------------------------------------------------------------------------------------------
def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="FILE|FOLDER", help="a markdown experiment log, a TensorBoard log folder, an "
                   "mlruns folder, or a zip of them")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")


def cmd_import(args: argparse.Namespace) -> int:
    from core import imports

    report = imports.import_path(args.path, runs_dir())
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print("\n".join(report.lines()))
    if not report.imported and not report.existing:
        print(f"error: nothing imported from {args.path}", file=sys.stderr)
        return 1
    return 0


# -- export --------------------------------------------------------------------------------------------
def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=("runs", "metrics"), help="runs: the runs table with each metric's last value; "
                   "metrics: every point the runs given logged")  # fmt: skip
    p.add_argument("runs", nargs="*", metavar="RUN", help="run ids (all runs for 'runs' when none are given)")
    p.add_argument("--out", required=True, help="the file to write; .csv or .parquet")
    p.add_argument("--format", choices=("csv", "parquet"), default=None, help="default: from the --out suffix")


def cmd_export(args: argparse.Namespace) -> int:
    from core.reports import exports

    fmt = args.format or Path(args.out).suffix.lstrip(".").lower()
    if fmt not in exports.FORMATS:
        raise CliError(f"cannot tell the format of {args.out}: end it in .csv or .parquet, or give --format")
    if args.what == "metrics" and not args.runs:
        raise CliError("export metrics needs at least one RUN (`python -m core ls` lists them)")
    run_ids = [runfolder.resolve_run_dir(runs_dir(), r).name for r in args.runs] or None
    with open_store() as store:
        if args.what == "runs":
            frame = exports.runs_frame(store, run_ids)
        else:
            frame = exports.metrics_frame(store, run_ids or [])
    Path(args.out).write_bytes(exports.to_bytes(frame, fmt))
    print(f"wrote {len(frame)} row(s) of {args.what} to {args.out}")
    return 0


VERBS.register(Verb("report", "the experiment log of runs (md, or a zip with its images), or their results summary "
                    "(--summary: md, csv or latex)", _report_args, cmd_report))  # fmt: skip
VERBS.register(Verb("import", "import markdown experiment logs, TensorBoard folders or MLflow mlruns as runs",
                    _import_args, cmd_import))  # fmt: skip
VERBS.register(Verb("export", "write the runs table, or runs' metrics, as CSV or Parquet", _export_args, cmd_export))
