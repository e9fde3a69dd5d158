"""CLI verbs of the recipes: ``run``, ``resume``, ``data`` and ``recipes``.

``run`` and ``resume`` train in the foreground, print one line per epoch and end with the run id as the
last line on stdout (also when training fails; the error follows on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from core.cli.verbs import VERBS, CliError, Verb
from core.recipes import describe, list_recipes
from core.recipes.runner import RunFailedError, resume_run, run_recipe
from core.runfolder.labels import RunLabels


def _echo(line: str) -> None:
    print(line, flush=True)


# -- run / resume ---------------------------------------------------------------------------------------
def run_args(p: argparse.ArgumentParser) -> None:
    """The arguments of a recipe run, shared by `run` and `launch`."""
    p.add_argument("recipe", help="recipe name (`python -m core recipes` lists them and their keys)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. epochs=20 lr=0.001")
    p.add_argument("--name", help="label shown in the UI (default: the run id)")
    p.add_argument("--group", help="experiment group (seeds, sweeps) the compare page aggregates")
    p.add_argument("--changes", default="", help="what changed against the baseline (the log's 'Changes')")
    p.add_argument("--reason", default="", help="why: the hypothesis (the log's 'Reason')")
    p.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")


def labels_from_args(args: argparse.Namespace) -> RunLabels:
    """The labels ``run_args`` reads: --name, --group, --changes, --reason and the --tag list."""
    return RunLabels(name=args.name, group=args.group, changes=args.changes, reason=args.reason, tags=args.tag)


def cmd_run(args: argparse.Namespace) -> int:
    labels = labels_from_args(args)
    return _train_in_foreground(lambda: run_recipe(args.recipe, args.overrides, labels=labels, echo=_echo))


def _resume_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="run id (or a unique part of it)")
    p.add_argument(
        "--queue", action="store_true", help="put it back in the queue and return at once (it continues on a free slot)"
    )


def cmd_resume(args: argparse.Namespace) -> int:
    if args.queue:
        from core import launcher

        print(launcher.resume(args.run), flush=True)
        return 0
    return _train_in_foreground(lambda: resume_run(args.run, echo=_echo))


def _train_in_foreground(start: Callable[[], str]) -> int:
    try:
        run_id = start()
    except RunFailedError as exc:
        print(exc.run_id, flush=True)
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:
        print("interrupted; a run that had started is marked cancelled (`python -m core resume RUN`)", file=sys.stderr)
        return 130
    print(run_id, flush=True)
    return 0


# -- data -------------------------------------------------------------------------------------------------
def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="dataset name, e.g. synthetic-cars (`python -m core recipes` lists them)")
    p.add_argument("--root", default=None, help="the dataset folder (needed by datasets read from your disk)")


def cmd_data(args: argparse.Namespace) -> int:
    from core.datasets import get_dataset, load_dataset

    entry = get_dataset(args.name)
    if entry.needs_root and not args.root:
        raise CliError(f"dataset {args.name!r} reads your own images: pass --root PATH ({entry.description})")
    data = load_dataset(args.name, args.root)
    sizes = ", ".join(f"{len(samples)} {split}" for split, samples in data.splits.items())
    print(
        f"{args.name}: {len(data.classes)} classes in {len(data.makes)} makes; {sizes} images; {data.skipped} skipped",
        file=sys.stderr,
    )
    print(data.root)
    return 0


# -- recipes ----------------------------------------------------------------------------------------------
def _recipes_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the recipes and their config fields as JSON")


def cmd_recipes(args: argparse.Namespace) -> int:
    entries = list_recipes()
    if args.json:
        out = [
            {
                "name": e.name,
                "description": e.description,
                "fields": [{k: v for k, v in asdict(s).items() if k != "kinds"} for s in describe(e.config_cls)],
            }
            for e in entries
        ]
        print(json.dumps(out, indent=1))
        return 0
    for entry in entries:
        print(f"{entry.name}: {entry.description}")
        for spec in describe(entry.config_cls):
            allowed = f"one of {', '.join(map(str, spec.choices))}" if spec.choices else spec.type
            bounds = "" if spec.min is None and spec.max is None else f", {_range(spec.min, spec.max)}"
            print(f"  {spec.name}={_text(spec.default)}  ({allowed}{bounds})  {spec.help}")
    return 0


def _text(value: Any) -> str:
    if value is None:
        return "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _range(low: float | None, high: float | None) -> str:
    if high is None:
        return f">= {_number(low)}"
    if low is None:
        return f"<= {_number(high)}"
    return f"{_number(low)}..{_number(high)}"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


VERBS.register(Verb("run", "train a recipe in the foreground; the last line printed is the run id", run_args,
                    cmd_run))
VERBS.register(Verb("resume", "continue a stopped run at its next epoch; the last line printed is the run id",
                    _resume_args, cmd_resume))
VERBS.register(Verb("data", "generate a built-in dataset (or check a dataset folder) and print its folder",
                    _data_args, cmd_data))
VERBS.register(Verb("recipes", "list the recipes and their config keys with defaults and help", _recipes_args,
                    cmd_recipes))
