"""Shared fixtures: every test gets its own runs folder (EXPLORER_RUNS_DIR), so nothing touches runs/."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def runs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh EXPLORER_RUNS_DIR for each test."""
    root = tmp_path / "runs"
    root.mkdir()
    monkeypatch.setenv("EXPLORER_RUNS_DIR", str(root))
    monkeypatch.setenv("EXPLORER_PROVENANCE", "0")  # git and nvidia-smi probes at each start: tests/test_provenance.py
    return root


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m core ARGS`` in a subprocess with the test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- classify recipe: a tiny synthetic-cars set, generated once per test session -------------------------
TINY_CARS = {"n_makes": 3, "models_per_make": 2, "images_per_class": 14, "image_size": 32}


@pytest.fixture(scope="session")
def tiny_cars(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """synthetic-cars at 3 makes x 2 models, about 80 images of 32 px, in a folder named as the built-in set."""
    from core.datasets import generate_synthetic_cars
    from core.datasets.synthetic_cars import FOLDER_NAME

    return generate_synthetic_cars(tmp_path_factory.mktemp("tiny-data") / FOLDER_NAME, seed=0, **TINY_CARS)


@pytest.fixture(autouse=True, scope="session")
def release_cached_resources() -> Iterator[None]:
    """Drop what Streamlit's caches hold (open indexes, models) before the interpreter exits, so DuckDB's
    connections are closed and freed rather than reported as leaked at shutdown."""
    yield
    import streamlit as st

    st.cache_resource.clear()
    gc.collect()


@pytest.fixture
def app_url(runs_root: Path, tmp_path: Path) -> Iterator[str]:
    """The address of the app served over ``runs_root`` (a real Streamlit server, for browser tests)."""
    from tests.helpers_browser import AppServer

    server = AppServer(runs_root, tmp_path / "streamlit.log").start()
    yield server.url
    server.stop()
