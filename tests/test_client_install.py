"""The logging client installs into a bare environment and logs from anywhere, with the standard library only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

HEAVY = ("numpy", "torch", "pandas", "duckdb", "streamlit", "pyarrow", "PIL")
SCRIPT = """
import sys
from core import tracking
from core import wandb_compat as wandb
with tracking.start(name="outside", group="elsewhere", config={"lr": 0.1}, runs_dir=sys.argv[1]) as run:
    run.define_metric("val/KL", goal="min")
    run.log({"val/KL": 0.3, "val/top1": 41.2}, step=1)
wandb.init(project="det", name="wandb-style", config={"lr": 0.2}, dir=sys.argv[1])
wandb.log({"val/mAP": 0.5})
wandb.finish()
heavy = sorted(set(sys.modules) & set(sys.argv[2].split(",")))
assert not heavy, f"the client imported {heavy}"
print(run.id)
"""


@pytest.mark.slow
def test_the_client_installs_into_a_bare_venv_and_its_runs_appear(tmp_path: Path, runs_root: Path) -> None:
    source = tmp_path / "src"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(REPO / "core", source / "core", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        shutil.copy(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(source)], check=True, capture_output=True, timeout=300)  # fmt: skip
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    (wheel,) = wheels.glob("*.whl")
    pip = [sys.executable, "-m", "pip", "--python", str(bare / "bin" / "python")]
    subprocess.run([*pip, "install", "-q", "--no-index", "--no-deps", str(wheel)], check=True, capture_output=True,
                   timeout=300)  # fmt: skip
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()
    (elsewhere / "train.py").write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EXPLORER_RUNS_DIR")}
    done = subprocess.run([str(bare / "bin" / "python"), "train.py", str(runs_root), ",".join(HEAVY)], cwd=elsewhere,
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip().splitlines()[-1]
    console = subprocess.run([str(bare / "bin" / "explorer"), "ls"], env=env, capture_output=True, text=True)
    assert console.returncode == 1 and "explorer[app]" in console.stderr and "Traceback" not in console.stderr
    listed = json.loads(run_cli("ls", "--json").stdout)
    assert {r["name"] for r in listed} >= {"outside", "wandb-style"}
    shown = json.loads(run_cli("show", run_id, "--json").stdout)
    assert shown["metrics"]["val/KL"] == [[1, 0.3]] and shown["config"] == {"lr": 0.1}


def test_the_console_script_is_the_cli_where_the_app_is_installed() -> None:
    done = subprocess.run([sys.executable, "-m", "core.cli.entry", "--help"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0 and "reindex" in done.stdout and "launch" in done.stdout
