"""The launcher's fault tests: kills, restarts, cancels and exit codes, with a stand-in training script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core import launcher
from core.launcher import service
from core.runfolder import status as runstatus
from core.runfolder.labels import RunLabels
from core.store import Store, queries

from .conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def fast_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_CPU_SLOTS", "2")
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def _script(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.helpers_train", *args]


def _status(root: Path, run_id: str) -> dict:
    return runstatus.read(root / run_id)


def _wait(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _wait_status(root: Path, run_id: str, *states: str, timeout: float = 60.0) -> None:
    try:
        _wait(lambda: _status(root, run_id).get("status") in states, timeout, f"{run_id} to be {states}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {_whereabouts(root, run_id)}") from None


def _wait_exit_code(root: Path, run_id: str, *states: str) -> int:
    """The run's recorded exit code, once it has ended in one of ``states``. A run may record its own end
    (finish(), or an uncaught error) a moment before its supervisor records how the process exited."""
    _wait_status(root, run_id, *states)
    _wait(lambda: "exit_code" in _status(root, run_id), 30, f"{run_id}'s exit code")
    return _status(root, run_id)["exit_code"]


def _whereabouts(root: Path, run_id: str) -> str:
    console = root / run_id / "console.log"
    tail = console.read_text(errors="replace")[-2000:] if console.exists() else "(no console.log)"
    markers = [d for d in ("queue", "active") if (root / d / run_id).exists()]
    log = root / service.LOG_FILE
    sched = log.read_text(errors="replace")[-1000:] if log.exists() else ""
    return (f"status {_status(root, run_id)}; markers {markers}; scheduler running {service.is_running(root)}; "
            f"console: {tail}; scheduler.log: {sched}")


def _kill_scheduler(root: Path) -> None:
    pid = int((root / service.PID_FILE).read_text())
    os.kill(pid, signal.SIGKILL)
    _wait(lambda: not service.is_running(root), 10, "the scheduler to die")


def _steps(root: Path, run_id: str, metric: str = "val/top1") -> list[int]:
    with Store(root, in_memory=True) as store:
        return queries.curves(store, [run_id], metric)["step"].tolist()


def _strays(root: Path) -> list[str]:
    """Live processes whose command line names this runs folder (supervisors, schedulers, runs)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(root) in cmd and state != "Z":
            found.append(f"{pid} {cmd}")
    return found


def test_a_launch_returns_at_once_and_the_run_succeeds(runs_root: Path) -> None:
    started = time.monotonic()
    run_id = launcher.launch_command(_script("--epochs", "3", "--pause", "0.05"), labels=RunLabels(name="quick"))
    assert time.monotonic() - started < 3.0  # it does not wait for the run (loose: CI machines are loaded)
    assert _status(runs_root, run_id)["status"] in ("queued", "starting", "running")
    assert _wait_exit_code(runs_root, run_id, "succeeded") == 0
    assert _steps(runs_root, run_id) == [1, 2, 3]
    assert "Traceback" not in (runs_root / run_id / "console.log").read_text()


def test_a_run_killed_mid_epoch_is_crashed_with_its_complete_epochs(runs_root: Path) -> None:
    run_id = launcher.launch_command(_script("--epochs", "5", "--pause", "0.05", "--kill-self-at", "2"))
    assert _wait_exit_code(runs_root, run_id, "crashed") == 137
    assert _steps(runs_root, run_id) == [1, 2]


def test_a_run_whose_whole_group_was_killed_shows_crashed_within_a_poll(runs_root: Path) -> None:
    run_id = launcher.launch_command(_script("--epochs", "100", "--pause", "0.05"))
    _wait(lambda: len(_steps(runs_root, run_id)) >= 2, what="two epochs")
    os.killpg(_status(runs_root, run_id)["pgid"], signal.SIGKILL)
    killed_at = time.monotonic()
    _wait_status(runs_root, run_id, "crashed", timeout=10)
    assert time.monotonic() - killed_at < 5.0  # a few polls (0.2 s each), not the 60 s heartbeat timeout
    steps = _steps(runs_root, run_id)
    assert steps == list(range(1, len(steps) + 1))


def test_runs_survive_a_killed_scheduler_and_queued_runs_still_start(runs_root: Path) -> None:
    ids = [launcher.launch_command(_script("--epochs", "6", "--pause", "0.15"), labels=RunLabels(name=f"r{i}"))
           for i in range(3)]
    _wait(lambda: sum(_status(runs_root, r).get("status") == "running" for r in ids) == 2, what="two running")
    _kill_scheduler(runs_root)
    time.sleep(0.5)
    service.ensure_scheduler(runs_root)
    for run_id in ids:
        _wait_status(runs_root, run_id, "succeeded", timeout=60)
        assert _steps(runs_root, run_id) == [1, 2, 3, 4, 5, 6]
        assert _status(runs_root, run_id)["start_attempts"] == 1  # nothing launched twice


def test_sigint_to_the_apps_process_group_leaves_runs_running(runs_root: Path) -> None:
    app = subprocess.Popen(  # Ctrl-C reaches it as in a terminal, even when the tests run in the background
        [sys.executable, "-c", "import signal, time; from core import launcher; "
         "signal.signal(signal.SIGINT, signal.default_int_handler); "
         f"print(launcher.launch_command({_script('--epochs', '8', '--pause', '0.1')!r}), flush=True); "
         "time.sleep(60)"],
        cwd=REPO, stdout=subprocess.PIPE, text=True, process_group=0,
    )
    run_id = app.stdout.readline().strip()
    _wait_status(runs_root, run_id, "running")
    os.killpg(app.pid, signal.SIGINT)  # what Ctrl-C in the app's terminal does
    app.wait(timeout=10)
    _wait_status(runs_root, run_id, "succeeded", timeout=60)
    assert _steps(runs_root, run_id) == list(range(1, 9))


def test_cancel_leaves_no_process_of_the_group(runs_root: Path) -> None:
    run_id = launcher.launch_command(_script("--epochs", "1", "--pause", "0", "--hang"))
    _wait(lambda: _steps(runs_root, run_id) == [1], what="the first epoch")
    pgid = _status(runs_root, run_id)["pgid"]
    assert launcher.group_members(pgid)
    assert launcher.cancel(run_id, grace_s=1.0) == "cancelled"
    assert launcher.group_members(pgid) == []
    assert not runstatus.is_alive(runs_root / run_id)


def test_exit_codes_are_recorded_while_nothing_watches(runs_root: Path) -> None:
    ok = launcher.launch_command(_script("--epochs", "2", "--pause", "0.5"))
    bad = launcher.launch_command(_script("--epochs", "2", "--pause", "0.5", "--exit-code", "1"))
    _wait(lambda: all(_status(runs_root, r).get("status") == "running" for r in (ok, bad)), what="both running")
    _kill_scheduler(runs_root)
    assert (_wait_exit_code(runs_root, ok, "succeeded"), _wait_exit_code(runs_root, bad, "failed")) == (0, 1)
    killed = launcher.launch_command(_script("--epochs", "3", "--pause", "0.3", "--kill-self-at", "2"))
    _wait_status(runs_root, killed, "running")
    _kill_scheduler(runs_root)
    assert _wait_exit_code(runs_root, killed, "crashed") == 137


def test_a_hung_run_is_stale_not_crashed(runs_root: Path) -> None:
    run_id = launcher.launch_command(_script("--epochs", "1", "--pause", "0", "--hang"))
    _wait(lambda: _steps(runs_root, run_id) == [1], what="the first epoch")
    time.sleep(1.5)
    (row,) = [r for r in launcher.queue_listing(stale_after_s=1.0) if r["id"] == run_id]
    assert row["state"] == "stale"
    assert _status(runs_root, run_id)["status"] == "running"
    launcher.cancel(run_id, grace_s=0.5)


def test_four_concurrent_runs_are_indexed_whole(runs_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPLORER_CPU_SLOTS", "4")
    ids = [launcher.launch_command(_script("--epochs", "20", "--pause", "0.02")) for _ in range(4)]
    with Store(runs_root) as store:
        while not all(_status(runs_root, r).get("status") == "succeeded" for r in ids):
            store.sync()
            time.sleep(0.05)
        store.sync()
        for run_id in ids:
            assert queries.curves(store, [run_id], "train/loss")["step"].tolist() == list(range(1, 21))
    for run_id in ids:
        assert "locked" not in (runs_root / run_id / "console.log").read_text()


def test_fifty_short_runs_across_scheduler_restarts_leave_no_stray_process(runs_root: Path) -> None:
    ids = [launcher.launch_command(_script("--epochs", "1", "--pause", "0"), start=False) for _ in range(50)]
    service.ensure_scheduler(runs_root)
    for _ in range(3):
        time.sleep(1.0)
        if service.is_running(runs_root):
            _kill_scheduler(runs_root)
        service.ensure_scheduler(runs_root)
    for run_id in ids:
        _wait_status(runs_root, run_id, "succeeded", timeout=120)
        assert _steps(runs_root, run_id) == [1]  # ran once: a kill between claim and start only re-queues
    _wait(lambda: not service.is_running(runs_root), 15, "the scheduler to exit when idle")
    _wait(lambda: not _strays(runs_root), 5, "no stray process")


def test_launching_twice_with_one_request_id_queues_once(runs_root: Path) -> None:
    first = launcher.launch_command(_script("--epochs", "1"), request_id="form-7-click", start=False)
    again = launcher.launch_command(_script("--epochs", "1"), request_id="form-7-click", start=False)
    other = launcher.launch_command(_script("--epochs", "1"), request_id="form-8-click", start=False)
    assert first == again != other
    assert len([p for p in runs_root.iterdir() if runstatus.read(p).get("status") == "queued"]) == 2


def test_a_queued_run_can_be_moved_or_removed(runs_root: Path) -> None:
    a, b, c = (launcher.launch_command(_script(), labels=RunLabels(name=n), start=False) for n in "abc")
    launcher.move(c, priority=5)
    assert [(r["id"], r["name"]) for r in launcher.queue_listing()] == [(c, "c"), (a, "a"), (b, "b")]
    assert launcher.cancel(a) == "cancelled"
    assert [(r["id"], r["position"]) for r in launcher.queue_listing()] == [(c, 1), (b, 2)]
    with pytest.raises(launcher.LaunchError, match="not queued"):
        launcher.move(a, priority=1)
