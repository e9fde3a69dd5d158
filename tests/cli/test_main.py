"""The verb registry and the parser built from it: every verb listed, typos answered, options among positionals,
and read verbs that stay light (they never load the scheduler)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core import launcher, tracking
from core.cli.main import parse
from core.cli.recipes import labels_from_args
from core.cli.verbs import VERBS
from core.launcher import queue
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels
from tests.conftest import REPO, run_cli

SPEC_VERBS = {
    "run",
    "launch",
    "ls",
    "show",
    "cancel",
    "resume",
    "reindex",
    "report",
    "data",
    "explain",
    "queue",
    "recipes",
    "compare",
    "import",
    "export",
}


def test_the_registry_holds_the_documented_verbs() -> None:
    assert set(VERBS.names()) >= SPEC_VERBS


@pytest.mark.parametrize("name", VERBS.names())
def test_every_registered_verb_is_listed_with_its_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse(["--help"])
    assert done.value.code == 0
    listing = " ".join(capsys.readouterr().out.split())  # help lines wrap; compare without the line breaks
    assert re.search(rf"(^| ){re.escape(name)} {re.escape(' '.join(VERBS.get(name).help.split()))}", listing)


@pytest.mark.parametrize("name", VERBS.names())
def test_every_verb_has_its_own_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse([name, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m core {name} ")


@pytest.mark.parametrize(("typed", "meant"), [("lss", "ls"), ("lauch", "launch"), ("reindx", "reindex")])
def test_a_mistyped_verb_names_the_closest_one(typed: str, meant: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse([typed, "classify"])
    assert done.value.code == 2
    assert f"error: unknown verb '{typed}'; did you mean '{meant}'?" in capsys.readouterr().err


def test_the_entry_point_answers_a_typo_in_one_line() -> None:
    done = run_cli("shwo", "x")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1].startswith("python -m core: error: unknown verb 'shwo'; did you mean 'show'?")


@pytest.mark.parametrize(
    "argv",
    [
        ["classify", "--name", "x", "lr=0.1", "epochs=2"],
        ["--name", "x", "classify", "lr=0.1", "epochs=2"],
        ["classify", "lr=0.1", "--name", "x", "epochs=2"],
        ["classify", "lr=0.1", "epochs=2", "--name", "x"],
    ],
)
@pytest.mark.parametrize("verb", ["run", "launch"])
def test_options_may_sit_anywhere_among_the_overrides(verb: str, argv: list[str]) -> None:
    entry, args = parse([verb, *argv])
    assert entry is VERBS.get(verb)
    assert (args.recipe, args.overrides, args.name) == ("classify", ["lr=0.1", "epochs=2"], "x")


def test_launch_takes_retries() -> None:
    assert parse(["launch", "classify", "--retries", "2", "lr=0.1"])[1].retries == 2
    assert parse(["launch", "classify"])[1].retries == 0


def test_the_labels_of_a_run_are_read_as_one_value() -> None:
    _, args = parse(["launch", "classify", "--tag", "a", "lr=0.1", "--reason", "why", "--tag", "b", "--seeds", "2"])
    assert labels_from_args(args) == RunLabels(name=None, group=None, changes="", reason="why", tags=("a", "b"))
    assert (args.overrides, args.seeds) == (["lr=0.1"], 2)


@pytest.mark.parametrize("argv", [["reindex", "extra"], ["ls", "--limit", "3", "extra"], ["queue", "x"]])
def test_arguments_a_verb_does_not_take_are_an_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse(argv)
    assert done.value.code == 2
    assert f"error: unrecognized arguments: {argv[-1]}" in capsys.readouterr().err


def test_no_verb_prints_the_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli.main import main

    assert main([]) == 2
    assert "VERB" in capsys.readouterr().out


def _dead_running_run(root: Path) -> str:
    run_id = launcher.launch_command([sys.executable, "-c", "pass"], start=False)
    queue.mark_active(root, run_id)
    queue.dequeue(root, run_id)
    runstatus.transition(root / run_id, "starting", expect={"queued"}, slot="cpu:0")
    runstatus.transition(root / run_id, "running", expect={"starting"})
    return run_id


def test_the_read_verbs_never_load_the_scheduler(runs_root: Path) -> None:
    with tracking.start(name="one") as run:
        run.log({"val/top1": 0.5}, step=1)
    reads = [["ls"], ["ls", "--json"], ["show", run.id], ["report", run.id], ["queue"]]
    code = (
        "import contextlib, io, json, sys; from core.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): codes = [main(a) for a in {reads!r}]\n"
        "print(json.dumps([codes, sorted(sys.modules)]))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    codes, modules = json.loads(done.stdout)
    assert codes == [0] * len(reads)
    assert not {"core.launcher.scheduler", "optuna", "torch"} & set(modules)
    assert "core.launcher.recovery" in modules  # they do settle dead runs, through the module named for it


def test_ls_shows_a_run_whose_processes_died_as_crashed(runs_root: Path) -> None:
    run_id = _dead_running_run(runs_root)
    done = run_cli("ls", "--json")
    assert done.returncode == 0, done.stderr
    assert [(r["id"], r["status"]) for r in json.loads(done.stdout)] == [(run_id, "crashed")]
