"""Under torchrun only rank 0 logs: a two-process job on the CPU creates one run, with every step logged once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.runfolder import metricslog
from tests.conftest import REPO

SCRIPT = """
import torch, torch.distributed as dist
from core import tracking
dist.init_process_group("gloo")
with tracking.start(name="ddp", group="torchrun") as run:
    for step in range(3):
        value = torch.tensor([float(dist.get_rank() + step)])
        dist.all_reduce(value)
        run.log({"train/loss": value.item()}, step=step)
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_a_two_process_job_creates_one_run(tmp_path: Path, runs_root: Path) -> None:
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run([*torchrun, str(script)], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = [p for p in runs_root.iterdir() if p.is_dir()]
    assert [(r.step, r.value) for r in metricslog.read_records(run_dir)] == [(0, 1.0), (1, 3.0), (2, 5.0)]
    assert json.loads((run_dir / "meta.json").read_text())["name"] == "ddp"
