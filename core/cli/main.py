"""``python -m core VERB``: the parser built from the verb registry, and the one place errors become one line.

Importing this module registers every verb (the verb modules register themselves into ``VERBS``). Each verb's
arguments are parsed intermixed, so options may sit between positionals (``run classify --name x lr=0.1``).
Every verb first resumes the queue (``reconcile_and_start_scheduler``): after a killed scheduler or a reboot, any
command settles the runs that died and starts a scheduler for the runs that wait.
"""

from __future__ import annotations

import argparse
import sys

from core import runfolder
from core.cli import compare, launch, predict, recipes, reports, runs  # noqa: F401  (each registers its verbs)
from core.cli.verbs import VERBS, CliError, Verb
from core.launcher.recovery import reconcile_and_start_scheduler
from core.runfolder.paths import runs_dir

PROG = "python -m core"


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser (``--help`` lists every registered verb) and each verb's own parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Experiment Explorer command line. Runs live in EXPLORER_RUNS_DIR (default: runs/).",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    verb_parsers = {}
    for verb in VERBS:
        verb_parsers[verb.name] = sub.add_parser(verb.name, help=verb.help, description=verb.help)
        verb.add_arguments(verb_parsers[verb.name])
    return parser, verb_parsers


def parse(argv: list[str]) -> tuple[Verb | None, argparse.Namespace]:
    """The verb named first in ``argv`` and its parsed arguments; (None, ...) when no verb is given.

    ``--help`` and argument errors exit as argparse does (status 0 and 2); an unknown verb is an error that
    names the closest one.
    """
    parser, verb_parsers = build_parser()
    if not argv or argv[0].startswith("-"):
        return None, parser.parse_args(argv)  # --help, or an option argparse reports as unrecognised
    if argv[0] not in VERBS:
        parser.error(VERBS.unknown_message(argv[0]))
    args, extras = _parse_verb_args(verb_parsers[argv[0]], argv[1:])
    if extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return VERBS.get(argv[0]), args


def _parse_verb_args(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Plain argparse first: its errors name every missing argument. It takes all positionals at the first
    one, so positionals after an option (``run classify --name x lr=0.1``) are left over: then parse again,
    intermixed, which reads options wherever they are and the positionals after them."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        args, extras = parser.parse_known_intermixed_args(argv)
    return args, extras


def main(argv: list[str] | None = None) -> int:
    verb, args = parse(sys.argv[1:] if argv is None else list(argv))
    if verb is None:
        build_parser()[0].print_help()
        return 2
    try:
        resume_queue()
        return verb.handler(args)
    except (CliError, runfolder.RunNotFoundError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def resume_queue() -> None:
    """Settle runs whose processes died and start a scheduler if runs wait (may start one). A failure here (a
    full disk) is said, not fatal: the verb itself may still work."""
    try:
        reconcile_and_start_scheduler(runs_dir())
    except OSError as exc:
        print(f"note: could not resume the queue ({exc}); runs may show a stale status", file=sys.stderr)
