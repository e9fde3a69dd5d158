"""Execution slots: GPUs from CUDA_VISIBLE_DEVICES or ``nvidia-smi -L``, else EXPLORER_CPU_SLOTS CPU slots."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.launcher import slots
from core.tracking import THREADS_ENV


@pytest.fixture
def no_gpu_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv(slots.CPU_SLOTS_ENV, raising=False)


def _fake_nvidia_smi(folder: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Put an ``nvidia-smi`` that runs ``script`` (shell) first on PATH, and nothing else."""
    folder.mkdir(exist_ok=True)
    exe = folder / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\n{script}\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))


@pytest.mark.parametrize(
    ("env", "gpus"), [("0,2", ["0", "2"]), (" 1 , 3 ", ["1", "3"]), ("", []), ("-1", []), ("0,,1", ["0", "1"])]
)
def test_cuda_visible_devices_decides_when_set(monkeypatch: pytest.MonkeyPatch, env: str, gpus: list[str]) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", env)
    monkeypatch.setenv("PATH", "/nonexistent")  # nvidia-smi must not be asked
    assert slots.visible_gpus() == gpus


def test_without_the_variable_nvidia_smi_counts_the_gpus(
    no_gpu_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_nvidia_smi(
        tmp_path / "bin",
        monkeypatch,
        "echo 'GPU 0: NVIDIA H200 (UUID: GPU-a)'; echo 'GPU 1: NVIDIA H200 (UUID: GPU-b)'",
    )
    assert slots.visible_gpus() == ["0", "1"]
    assert slots.all_slots() == ["gpu:0", "gpu:1"]


@pytest.mark.parametrize("script", ["exit 9", "echo 'NVIDIA-SMI has failed'; exit 1"])
def test_a_failing_nvidia_smi_means_no_gpu(
    no_gpu_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    _fake_nvidia_smi(tmp_path / "bin", monkeypatch, script)
    assert slots.visible_gpus() == []
    assert slots.all_slots() == ["cpu:0"]


def test_no_nvidia_smi_means_no_gpu(no_gpu_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert slots.visible_gpus() == []


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("3", 3), ("0", 1), ("-2", 1), ("many", 1)])
def test_cpu_slots_come_from_the_variable_at_least_one(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: int
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU, and nvidia-smi is not asked
    if value is None:
        monkeypatch.delenv(slots.CPU_SLOTS_ENV, raising=False)
    else:
        monkeypatch.setenv(slots.CPU_SLOTS_ENV, value)
    assert slots.all_slots() == [f"cpu:{i}" for i in range(expected)]


def test_a_cpu_slot_hides_every_gpu() -> None:
    assert slots.slot_env("cpu:0") == {"CUDA_VISIBLE_DEVICES": ""}


@given(st.lists(st.integers(min_value=0, max_value=15), min_size=1, max_size=8, unique=True))
def test_each_visible_gpu_is_one_slot_that_sees_only_that_gpu(ids: list[int]) -> None:
    with mock.patch.dict(os.environ, {"CUDA_VISIBLE_DEVICES": ",".join(map(str, ids))}):
        names = slots.all_slots()
    assert names == [f"gpu:{i}" for i in ids]
    assert [slots.slot_env(name)["CUDA_VISIBLE_DEVICES"] for name in names] == [str(i) for i in ids]


# -- the cores each slot owns ------------------------------------------------------------------------------
@given(st.integers(min_value=1, max_value=12), st.lists(st.integers(0, 255), min_size=1, max_size=64, unique=True))
def test_slots_divide_the_cores_between_them(n_slots: int, cores: list[int]) -> None:
    names = [f"cpu:{i}" for i in range(n_slots)]
    plan = slots.divide_cores(names, sorted(cores))
    assert [s.slot for s in plan] == names
    owned = [c for s in plan for c in s.cores]
    if n_slots <= len(cores):  # each core owned by exactly one slot, shares differ by at most one core
        assert sorted(owned) == sorted(cores) and not any(s.shared for s in plan)
        assert max(s.threads for s in plan) - min(s.threads for s in plan) <= 1
    else:  # more slots than cores: one core each, every core used, none idle
        assert all(s.threads == 1 and s.shared for s in plan) and set(owned) == set(cores)


@pytest.mark.parametrize(
    ("names", "cores", "text"),
    [
        (["cpu:0", "cpu:1"], [0, 1], "2 CPU slots on 2 cores: cpu:0 core 0, cpu:1 core 1 (1 CPU thread per run)"),
        (["cpu:0"], [0, 1], "1 CPU slot on 2 cores: cpu:0 cores 0-1 (2 CPU threads per run)"),
        (["gpu:0", "gpu:1"], list(range(5)),
         "2 GPU slots on 5 cores: gpu:0 cores 0-2, gpu:1 cores 3-4 (2-3 CPU threads per run)"),
        (["cpu:0", "cpu:1", "cpu:2"], [0, 1], "3 CPU slots on 2 cores: cpu:0 core 0, cpu:1 core 1, cpu:2 core 0 "
         "(1 CPU thread per run); there are more slots than cores, so slots share cores"),
    ],
)  # fmt: skip
def test_the_plan_is_said_in_one_line(names: list[str], cores: list[int], text: str) -> None:
    assert slots.describe_plan(slots.divide_cores(names, cores)) == text


def test_a_slot_gets_as_many_threads_as_it_owns_cores() -> None:
    share = slots.SlotShare("gpu:1", (4, 5, 6))
    env = slots.slot_env("gpu:1", share)
    assert env["CUDA_VISIBLE_DEVICES"] == "1"
    assert {env[k] for k in (*slots.THREAD_VARIABLES, THREADS_ENV)} == {"3"}


def test_the_machine_plan_divides_the_cores_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv(slots.CPU_SLOTS_ENV, "2")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3, 7, 8, 9})
    assert [(s.slot, s.cores) for s in slots.machine_plan()] == [("cpu:0", (3, 7)), ("cpu:1", (8, 9))]
    assert slots.share_of("cpu:1").cores == (8, 9)
    assert slots.share_of("cpu:5").cores == (3, 7, 8, 9)  # a slot gone from the plan gets every core
