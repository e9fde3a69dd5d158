"""CLI verbs of the launcher: ``launch`` (queue and return at once), ``cancel``, ``queue``."""

from __future__ import annotations

import argparse

from core import launcher
from core.cli import verb
from core.cli.recipes import run_args
from core.launcher import sweeps
from core.runfolder.paths import runs_dir


def _launch_args(p: argparse.ArgumentParser) -> None:
    run_args(p)  # recipe, key=value overrides, --name, --group, --changes, --reason, --tag: as `run` takes them
    p.add_argument("--priority", type=int, default=0, help="higher starts first (default 0)")
    p.add_argument("--seeds", type=int, default=0, help="launch N runs with seeds 0..N-1 as one group")
    p.add_argument("--sweep", action="append", default=[], metavar="key=v1,v2",
                   help="sweep a key over listed values (repeat for more keys)")
    p.add_argument("--sweep-kind", choices=("grid", "random", "bayes"), default="grid")
    p.add_argument("--trials", type=int, default=8, help="runs of a random or Bayesian sweep")
    p.add_argument("--objective", default="val/top1", help="metric a Bayesian sweep optimises")
    p.add_argument("--direction", choices=("maximize", "minimize"), default="maximize")


@verb("launch", "queue a run (or seeds / a sweep) and return at once; prints the run ids, last line last", _launch_args)
def cmd_launch(args: argparse.Namespace) -> int:
    space = sweeps.parse_space(args.sweep)
    if space and args.sweep_kind == "bayes":
        sweep_id = sweeps.start_bayes(runs_dir(), args.recipe, args.overrides, space, n_trials=args.trials,
                                      objective=args.objective, direction=args.direction, group=args.group)
        launcher.scheduler.ensure_scheduler(runs_dir())
        print(f"Bayesian sweep {sweep_id}: {args.trials} trials, optimising {args.objective} ({args.direction})")
        print(sweep_id)
        return 0
    sets = sweeps.expand(args.overrides, space, args.sweep_kind, args.trials, args.seeds)
    group = args.group or sweeps.default_group(args.name, args.recipe, len(sets))
    for run_id in launcher.launch_many(args.recipe, sets, name=args.name, group=group, changes=args.changes,
                                       reason=args.reason, tags=args.tag, priority=args.priority):
        print(run_id)
    return 0


def _run_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run id (or a unique part of it)")
    p.add_argument("--grace", type=float, default=launcher.CANCEL_GRACE_S, help="seconds between SIGTERM and SIGKILL")


@verb("cancel", "cancel a queued or running run (SIGTERM, then SIGKILL after a grace period)", _run_arg)
def cmd_cancel(args: argparse.Namespace) -> int:
    print(launcher.cancel(args.run, grace_s=args.grace))
    return 0


@verb("queue", "the queue: queued runs with their position, running runs with their slot")
def cmd_queue(args: argparse.Namespace) -> int:
    rows = launcher.queue_listing()
    if not rows:
        print("the queue is empty")
    for row in rows:
        where = f"#{row['position']} (priority {row['priority']})" if row["state"] == "queued" else row["slot"]
        print(f"{row['id']}  {row['state']:<9} {where}  {row['name']}".rstrip())
    return 0
