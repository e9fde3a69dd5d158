"""Driving the app in Debian's chromium: start and restart the Streamlit server over a runs folder, open a
browser, and wait until a page is idle (what the browser tests and bench/bench_browser.py share)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"  # screenshots of the browser tests
BROWSER_MARKS = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
# A page is idle when its script has run (Streamlit's own script state, which its running indicator shows only
# after a delay), no running indicator is up, and no element is still a loading skeleton.
IDLE = """() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]')
    && !!document.querySelector('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]')"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``streamlit run app.py`` (or ``script``) over ``runs_dir`` in its own process group; ``restart`` is the
    app's restart."""

    def __init__(self, runs_dir: Path, log: Path, script: Path = REPO / "app.py", **env: str) -> None:
        self.runs_dir, self.log_path, self.script, self.env = runs_dir, log, script, env
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> AppServer:
        env = {**os.environ, "EXPLORER_RUNS_DIR": str(self.runs_dir), "EXPLORER_CPU_SLOTS": "1",
               "PYTHONPATH": str(REPO), **self.env}  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.port", str(self.port),
                 "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, process_group=0,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1)
                return self
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"the app did not answer on {self.url} within {timeout_s:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(timeout=30)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def launch_browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_idle(page: Any, settle_s: float = 0.15, timeout_s: float = 90.0) -> float:
    """Seconds from now until the page became idle and stayed so for ``settle_s`` (that moment is returned)."""
    start = time.monotonic()
    since = None
    while time.monotonic() - start < timeout_s:
        if page.evaluate(IDLE):
            since = since or time.monotonic()
            if time.monotonic() - since >= settle_s:
                return since - start
        else:
            since = None
        time.sleep(0.05)
    raise TimeoutError(f"{page.url} was still running after {timeout_s:.0f} s")


def open_idle(page: Any, url: str, timeout_s: float = 120.0) -> float:
    """Navigate and wait until idle: the seconds from navigation to idle."""
    start = time.monotonic()
    page.goto(url, timeout=timeout_s * 1000)
    return (time.monotonic() - start) + wait_idle(page, timeout_s=timeout_s)


def exceptions(page: Any) -> list[str]:
    """The text of any exception box Streamlit shows."""
    boxes = page.locator('[data-testid="stException"]')
    return [boxes.nth(i).inner_text() for i in range(boxes.count())]
