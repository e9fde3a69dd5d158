"""The registry of CLI verbs: each verb module registers its ``Verb`` entries here, and ``core.cli.main``
builds the argument parser and ``--help`` from it. It imports no verb module, so none imports it back."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from core.registry import Registry

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """An error the CLI reports as one line (exit status 1)."""


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``add_arguments`` of a verb that takes none."""


@dataclass(frozen=True)
class Verb:
    """One command of ``python -m core``.

    Attributes:
        name: what users type after ``python -m core``.
        help: one line for ``--help`` (and the verb's own description).
        add_arguments: adds the verb's arguments to its parser.
        handler: runs the verb with the parsed arguments and returns the exit status.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handler: Handler


VERBS: Registry[Verb] = Registry("verb", CliError)
