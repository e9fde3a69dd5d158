"""CLI verbs of the launcher: ``launch`` (queue and return at once), ``cancel`` and ``queue``."""

from __future__ import annotations

import argparse
from dataclasses import replace

from core import launcher
from core.cli.recipes import labels_from_args, run_args
from core.cli.verbs import VERBS, Verb, no_arguments
from core.launcher import service, sweeps
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
    p.add_argument("--retries", type=int, default=0, metavar="N",
                   help="queue a run that crashed (killed, out of memory, a reboot) again up to N times, from its "
                   "last checkpoint (default 0)")  # fmt: skip


def cmd_launch(args: argparse.Namespace) -> int:
    space = sweeps.parse_space(args.sweep)
    if space and args.sweep_kind == "bayes":
        sweep_id = sweeps.start_bayes(runs_dir(), args.recipe, args.overrides, space, n_trials=args.trials,
                                      objective=args.objective, direction=args.direction, group=args.group)
        service.ensure_scheduler(runs_dir())
        print(f"Bayesian sweep {sweep_id}: {args.trials} trials, optimising {args.objective} ({args.direction})")
        print(sweep_id)
        return 0
    sets = sweeps.expand(args.overrides, space, args.sweep_kind, args.trials, args.seeds)
    labels = labels_from_args(args)
    labels = replace(labels, group=labels.group or sweeps.default_group(labels.name, args.recipe, len(sets)))
    for run_id in launcher.launch_many(args.recipe, sets, labels=labels, priority=args.priority, retries=args.retries):
        print(run_id)
    return 0


def _cancel_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run id (or a unique part of it)")
    p.add_argument("--grace", type=float, default=launcher.CANCEL_GRACE_S, help="seconds between SIGTERM and SIGKILL")


def cmd_cancel(args: argparse.Namespace) -> int:
    print(launcher.cancel(args.run, grace_s=args.grace))
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    rows = launcher.queue_listing()  # main() settled dead runs and started a scheduler if runs wait
    if not rows:
        print("the queue is empty")
    for row in rows:
        where = f"#{row['position']} (priority {row['priority']})" if row["state"] == "queued" else row["slot"]
        print(f"{row['id']}  {row['state']:<9} {where}  {row['name']}".rstrip())
    return 0


VERBS.register(Verb("launch", "queue a run (or seeds / a sweep) and return at once; prints the run ids, last line "
                    "last", _launch_args, cmd_launch))
VERBS.register(Verb("cancel", "cancel a queued or running run (SIGTERM, then SIGKILL after a grace period)",
                    _cancel_args, cmd_cancel))
VERBS.register(Verb("queue", "the queue: queued runs with their position, running runs with their slot",
                    no_arguments, cmd_queue))
