"""A Ray cluster seen through its dashboard's REST API (Ray's job API and state API): submit, look up, stop and
read the logs of jobs, and list the nodes with their resources. Only the standard library: the app, the CLI and
the scheduler talk to the cluster without importing ray.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_S = 10.0
ACTIVE_JOB_STATES = frozenset({"PENDING", "RUNNING"})
MISSING = "MISSING"  # Ray has no job of that id (it was never submitted)


class ClusterError(OSError):
    """The Ray cluster could not be reached or refused a request; the message names the address."""


@dataclass(frozen=True)
class JobState:
    """A Ray job's state: status (PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED or MISSING), Ray's message, and the
    node its entrypoint runs on."""

    status: str
    message: str = ""
    node_id: str = ""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_JOB_STATES


@dataclass(frozen=True)
class Node:
    """A live node of the cluster with its total resources (Ray's logical GPUs and CPUs)."""

    node_id: str
    ip: str
    gpus: float
    cpus: float
    head: bool


def submit(address: str, job_id: str, entrypoint: str, *, gpus: float, cpus: float, env: dict[str, str]) -> None:
    """Submit ``entrypoint`` (a shell command line) as job ``job_id`` needing ``gpus`` and ``cpus``."""
    body = {"entrypoint": entrypoint, "submission_id": job_id, "entrypoint_num_gpus": gpus,
            "entrypoint_num_cpus": cpus, "runtime_env": {"env_vars": env}}  # fmt: skip
    _request(address, "POST", "/api/jobs/", body)


def job_state(address: str, job_id: str) -> JobState:
    """The job's state; status MISSING when the cluster has no such job."""
    try:
        info = _request(address, "GET", f"/api/jobs/{_quote(job_id)}")
    except _NotFound:
        return JobState(MISSING)
    return JobState(str(info.get("status")), str(info.get("message") or ""), str(info.get("driver_node_id") or ""))


def stop(address: str, job_id: str) -> bool:
    """Ask Ray to stop the job (SIGTERM to its processes, SIGKILL a few seconds later); False if it had ended."""
    try:
        return bool(_request(address, "POST", f"/api/jobs/{_quote(job_id)}/stop").get("stopped"))
    except _NotFound:
        return False


def logs(address: str, job_id: str) -> str:
    """What the job's entrypoint printed ("" when the job is unknown)."""
    try:
        return str(_request(address, "GET", f"/api/jobs/{_quote(job_id)}/logs").get("logs") or "")
    except _NotFound:
        return ""


def nodes(address: str) -> list[Node]:
    """The cluster's live nodes with their total GPUs and CPUs."""
    answer = _request(address, "GET", "/api/v0/nodes?detail=false&limit=10000")
    rows = answer.get("data", {}).get("result", {}).get("result", [])
    return [
        Node(str(r.get("node_id")), str(r.get("node_ip")), float(r.get("resources_total", {}).get("GPU", 0)),
             float(r.get("resources_total", {}).get("CPU", 0)), bool(r.get("is_head_node")))
        for r in rows if r.get("state") == "ALIVE"
    ]  # fmt: skip


class _NotFound(Exception):
    pass


def _quote(job_id: str) -> str:
    return urllib.parse.quote(job_id, safe="")


def _request(address: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(address.rstrip("/") + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise _NotFound(path) from None
        detail = exc.read().decode(errors="replace").strip().splitlines()
        raise ClusterError(f"the Ray cluster at {address} refused {method} {path}: HTTP {exc.code} "
                           f"{detail[-1] if detail else ''}".rstrip()) from None  # fmt: skip
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClusterError(
            f"cannot reach the Ray cluster at {address} ({reason}); is `ray start --head` running "
            "there, with its dashboard (--include-dashboard=true)?"
        ) from None
