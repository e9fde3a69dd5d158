"""A local Ray head node for tests and the benchmark: bound to 127.0.0.1, declaring logical GPUs (no GPU needed),
on free ports and a short temp dir of its own, so it collides with nothing; stopped, whatever happens, by ending
the processes it started (its process group, and the job processes that name its address), never by name.

    with local_head(gpus=4, cpus=4) as address:  # "http://127.0.0.1:PORT", the dashboard (job API)
        ...
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from core.launcher.procs import group_members

RAY = Path(sys.executable).with_name("ray")
PORT_OPTIONS = ("--port", "--dashboard-port", "--ray-client-server-port", "--dashboard-agent-listen-port",
                "--dashboard-agent-grpc-port", "--metrics-export-port", "--node-manager-port", "--object-manager-port",
                "--runtime-env-agent-port")  # fmt: skip


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports free right now (bound to port 0, then released)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


@contextlib.contextmanager
def local_head(gpus: int = 4, cpus: int = 4, start_timeout: float = 120.0) -> Iterator[str]:
    """Start a Ray head node and yield its dashboard address; stop it on the way out."""
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths have a length limit
    ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS))))
    workers = random.Random().randrange(20000, 40000, 200)
    argv = [str(RAY), "start", "--head", f"--num-gpus={gpus}", f"--num-cpus={cpus}", "--node-ip-address=127.0.0.1",
            "--dashboard-host=127.0.0.1", "--include-dashboard=true", "--disable-usage-stats", f"--temp-dir={temp}",
            f"--min-worker-port={workers}", f"--max-worker-port={workers + 199}",
            *(f"{option}={port}" for option, port in ports.items())]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}  # its GPUs are declared, not seen
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    with open(temp / "start.log", "wb") as log:  # its daemons keep this new process group: ours to end
        starter = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    address = f"http://127.0.0.1:{ports['--dashboard-port']}"
    try:
        if starter.wait(start_timeout) != 0:
            raise RuntimeError(f"`ray start` failed: {(temp / 'start.log').read_text()[-3000:]}")
        _wait_for_nodes(address, start_timeout)
        yield address
    finally:
        _stop(starter, ports["--port"])
        shutil.rmtree(temp, ignore_errors=True)


def _wait_for_nodes(address: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(f"{address}/api/v0/nodes", timeout=5) as response:
                if json.loads(response.read())["data"]["result"]["result"]:
                    return
        time.sleep(0.5)
    raise RuntimeError(f"the Ray head at {address} did not come up within {timeout:.0f}s")


def _stop(starter: subprocess.Popen[bytes], gcs_port: int) -> None:
    """End the head's process group, then any job process of this head left in a session of its own."""
    if starter.poll() is None:
        starter.kill()
        starter.wait()
    for sig, wait_s in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(starter.pid, sig)
        deadline = time.monotonic() + wait_s
        while group_members(starter.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    for pid in _jobs_of(gcs_port):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _jobs_of(gcs_port: int) -> list[int]:
    """Live processes whose environment names this head's address (Ray sets RAY_ADDRESS for job processes)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            if any(v.startswith(b"RAY_ADDRESS=") and v.endswith(f":{gcs_port}".encode()) for v in environ):
                found.append(int(entry))
    return [pid for pid in found if pid != os.getpid()]
