"""Where a run runs: the launch options (local or Ray, how many GPUs), the torchrun command of a run on several
GPUs, the slots it takes, and the scheduler keeping a run on several slots from being overtaken for good."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core import launcher
from core.launcher import options, queue, scheduler, slots, supervisor
from core.runfolder import status as runstatus

NOTHING = [sys.executable, "-c", "pass"]


@pytest.fixture(autouse=True)
def two_cpu_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_CPU_SLOTS", "2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.delenv(options.RAY_ADDRESS_ENV, raising=False)


def test_the_defaults_store_nothing_and_ray_follows_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    assert options.launch_options() == {}
    assert options.launch_options(gpus=2) == {"gpus": 2}
    monkeypatch.setenv(options.RAY_ADDRESS_ENV, "head:8265")
    assert options.launch_options() == {"on": "ray", "ray_address": "http://head:8265"}
    assert options.launch_options("local") == {}


@pytest.mark.parametrize(
    ("on", "gpus", "message"),
    [("gpu", None, "not a backend"), ("ray", None, "EXPLORER_RAY_ADDRESS"), ("local", 0, "from 1 to"),
     ("local", 1.5, "whole number"), ("local", True, "whole number")],
)  # fmt: skip
def test_bad_options_say_what_to_do(on: str, gpus: object, message: str) -> None:
    with pytest.raises(launcher.LaunchError, match=message):
        options.launch_options(on, gpus)  # type: ignore[arg-type]


def test_a_run_on_more_slots_than_the_machine_has_is_refused_at_launch(runs_root: Path) -> None:
    with pytest.raises(launcher.LaunchError, match="gpus=3 but this machine has 2 slot"):
        launcher.launch_command(NOTHING, gpus=3, start=False)
    assert queue.queued(runs_root) == []


def test_a_run_on_two_gpus_runs_under_torchrun_each_worker_dying_with_it(tmp_path: Path) -> None:
    argv = supervisor.child_argv(tmp_path, {"argv": ["python", "train.py"], "gpus": 2})
    assert argv[1:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    assert argv[-4:] == [sys.executable, str(supervisor.DIE_WITH_PARENT), "python", "train.py"]
    assert supervisor.child_argv(tmp_path, {"argv": ["python", "train.py"], "gpus": 1}) == ["python", "train.py"]


def test_a_run_on_several_slots_gets_their_gpus_and_shares_their_cores() -> None:
    plan = slots.divide_cores(["gpu:0", "gpu:1", "gpu:2"], [0, 1, 2, 3, 4, 5])
    share = slots.share_of("gpu:0,gpu:2", plan)
    assert share.cores == (0, 1, 4, 5)
    env = slots.slot_env("gpu:0,gpu:2", share, processes=2)
    assert env["CUDA_VISIBLE_DEVICES"] == "0,2" and env["OMP_NUM_THREADS"] == "2"  # 4 cores, 2 processes


def _occupy(root: Path, slot: str) -> None:
    """An active run holding ``slot``."""
    run_id = launcher.launch_command(NOTHING, start=False)
    queue.mark_active(root, run_id)
    queue.dequeue(root, run_id)
    runstatus.transition(root / run_id, "starting", expect={"queued"}, slot=slot)


def test_a_run_on_two_slots_is_not_overtaken_by_a_run_on_one(runs_root: Path) -> None:
    _occupy(runs_root, "cpu:0")
    big = launcher.launch_command(NOTHING, gpus=2, start=False)
    small = launcher.launch_command(NOTHING, start=False)
    assert scheduler.start_ready(runs_root) == []  # one slot is free: the big run waits, and the small one behind it
    assert [e.run_id for e in queue.queued(runs_root)] == [big, small]


def test_a_queued_run_on_more_slots_than_remain_fails(runs_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_CPU_SLOTS", "4")
    run_id = launcher.launch_command(NOTHING, gpus=3, start=False)
    monkeypatch.setenv("EXPLORER_CPU_SLOTS", "2")  # the machine changed while it waited
    assert scheduler.start_ready(runs_root) == []
    record = runstatus.read(runs_root / run_id)
    assert record["status"] == "failed" and "asks for 3 slots but this machine has 2" in record["error"]
    assert queue.queued(runs_root) == []


def test_the_placement_says_where_a_run_goes(runs_root: Path) -> None:
    run_id = launcher.launch_command(NOTHING, gpus=2, start=False)
    where = launcher.placement(run_id, runs_dir=runs_root)
    assert (where.on, where.gpus_asked, where.node) == ("local", 2, None)
    assert "2 processes (torchrun)" in where.text
    assert launcher.cluster_resources(runs_dir=runs_root).text == "this machine: 2 of 2 slots free"
