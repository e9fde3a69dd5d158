"""CLI verbs of the launcher: ``launch`` (queue and return at once), ``cancel`` and ``queue``."""

from __future__ import annotations

import argparse
from dataclasses import replace

from core import launcher
from core.cli.recipes import labels_from_args, run_args
from core.cli.verbs import VERBS, Verb, no_arguments
from core.launcher import options, service, sweeps
from core.recipes import get_recipe, list_recipes
from core.recipes.registry import objective_direction
from core.runfolder.paths import runs_dir


def _launch_args(p: argparse.ArgumentParser) -> None:
    run_args(p)  # recipe, key=value overrides, --name, --group, --changes, --reason, --tag: as `run` takes them
    p.add_argument("--priority", type=int, default=0, help="higher starts first (default 0)")
    p.add_argument("--seeds", type=int, default=0, help="launch N runs with seeds 0..N-1 as one group")
    p.add_argument("--sweep", action="append", default=[], metavar="key=v1,v2",
                   help="sweep a key over listed values (repeat for more keys)")
    p.add_argument("--sweep-kind", choices=("grid", "random", "bayes"), default="grid")
    p.add_argument("--trials", type=int, default=8, help="runs of a random or Bayesian sweep")
    own = ", ".join(f"{r.name}: {r.objective}" for r in list_recipes())
    p.add_argument("--objective", help=f"metric a Bayesian sweep optimises (default: the recipe's own; {own})")
    p.add_argument("--direction", choices=("maximize", "minimize"),
                   help="default: what the objective's name asks for (a loss or error: minimize; else maximize)")
    p.add_argument("--retries", type=int, default=0, metavar="N",
                   help="queue a run that crashed (killed, out of memory, a reboot) again up to N times, from its "
                   "last checkpoint (default 0)")  # fmt: skip
    p.add_argument("--on", choices=options.BACKENDS, default=None,
                   help=f"where runs run: this machine's slots, or the Ray cluster at {options.RAY_ADDRESS_ENV} "
                   f"(default: ray when {options.RAY_ADDRESS_ENV} is set, else local)")  # fmt: skip
    p.add_argument("--gpus", type=int, default=None, metavar="N",
                   help="GPUs of one machine each run uses (local: slots); 2 or more run it under torchrun with "
                   "DistributedDataParallel (default: one)")  # fmt: skip
    p.add_argument("--parallel", type=int, default=1, metavar="N", help="trials of a Bayesian sweep run at once")


def cmd_launch(args: argparse.Namespace) -> int:
    space = sweeps.parse_space(args.sweep)
    if space and args.sweep_kind == "bayes":
        objective = args.objective or get_recipe(args.recipe).objective
        direction = args.direction or objective_direction(objective)
        sweep_id = sweeps.start_bayes(runs_dir(), args.recipe, args.overrides, space, n_trials=args.trials,
                                      objective=objective, direction=direction, group=args.group,
                                      parallel=args.parallel, on=args.on, gpus=args.gpus)  # fmt: skip
        service.ensure_scheduler(runs_dir())
        print(f"Bayesian sweep {sweep_id}: {args.trials} trials, optimising {objective} ({direction})")
        print(sweep_id)
        return 0
    sets = sweeps.expand(args.overrides, space, args.sweep_kind, args.trials, args.seeds)
    labels = labels_from_args(args)
    labels = replace(labels, group=labels.group or sweeps.default_group(labels.name, args.recipe, len(sets)))
    for run_id in launcher.launch_many(args.recipe, sets, labels=labels, priority=args.priority, retries=args.retries,
                                       on=args.on, gpus=args.gpus):  # fmt: skip
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
    print(launcher.cluster_resources().text)
    if not rows:
        print("the queue is empty")
    for row in rows:
        order = f"#{row['position']} (priority {row['priority']})  " if row["state"] == "queued" else ""
        print(f"{row['id']}  {row['state']:<9} {order}{row['where']}  {row['name']}".rstrip())
    return 0


VERBS.register(Verb("launch", "queue a run (or seeds / a sweep) and return at once; prints the run ids, last line "
                    "last", _launch_args, cmd_launch))
VERBS.register(Verb("cancel", "cancel a queued or running run (SIGTERM, then SIGKILL after a grace period)",
                    _cancel_args, cmd_cancel))
VERBS.register(Verb("queue", "the queue: queued runs with their position, running runs with where they run, and "
                    "what is free",
                    no_arguments, cmd_queue))
