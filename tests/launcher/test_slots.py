"""Execution slots: GPUs from CUDA_VISIBLE_DEVICES or ``nvidia-smi -L``, else EXPLORER_CPU_SLOTS CPU slots."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.launcher import slots


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
