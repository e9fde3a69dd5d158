"""Page speed: server-side work of each page at heavy-user scale (10,000 runs, 10 M records) against the same
page over a small folder, and the cold first page against a bare Streamlit page, in one run.

    .venv/bin/python -m bench.bench_pages [--runs bench/out/runs-10000x1000]

The big folder is the one bench_index generates (run it first). Each page runs through Streamlit's AppTest
(the script run the server does for a browser, without the network); the index is opened and synced once,
as the app's cached store is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PAGES = ["app.py", "app_pages/1_Runs.py", "app_pages/2_Launch.py", "app_pages/3_Run.py", "app_pages/4_Compare.py"]
COLD = """
import sys, time
t0 = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
assert not at.exception, at.exception
print(time.perf_counter() - t0, "torch" in sys.modules)
"""


def page_times(root: Path, repeats: int) -> dict[str, float]:
    """Median seconds of each page's script run (warm: the store is open, caches filled by a first run)."""
    from streamlit.testing.v1 import AppTest

    from core.store import Store, queries

    os.environ["EXPLORER_RUNS_DIR"] = str(root)
    with Store(root) as store:  # ingest once before timing: the app's store is long-lived
        ids = queries.list_runs(store, metrics=[], limit=5)["id"].tolist()
    times = {}
    for page in PAGES:
        state = {"run_id": ids[0], "compare_ids": ids[:5]}
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        if page != "app.py":
            at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            at.run()
            samples.append(time.perf_counter() - t0)
        times[page] = statistics.median(samples)
    return times


def cold(script: Path) -> tuple[float, bool]:
    done = subprocess.run([sys.executable, "-c", COLD, str(script)], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    seconds, torch_loaded = done.stdout.split()
    return float(seconds), torch_loaded == "True"


def small_folder(root: Path) -> Path:
    from tests.fixtures_runs import prepare

    prepare(root, root.parent / "images")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", default=str(REPO / "bench" / "out" / "runs-10000x1000"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = small_folder(Path(tmp) / "runs")
        hello = Path(tmp) / "hello.py"
        hello.write_text("import streamlit as st\nst.title('hello')\n")
        bare_s, _ = cold(hello)
        os.environ["EXPLORER_RUNS_DIR"] = str(small)
        app_s, torch_loaded = cold(REPO / "app.py")
        small_times = page_times(small, args.repeats)
    big_times = page_times(Path(args.runs), args.repeats)
    print(f"cold first page: app.py {app_s:.2f} s vs a bare Streamlit page {bare_s:.2f} s "
          f"(ratio {app_s / bare_s:.2f}); torch imported: {torch_loaded}")
    print(f"{'page':<22} {'4 runs ms':>10} {'10k runs / 10M records ms':>26} {'ratio':>7}")
    for page in PAGES:
        small_ms, big_ms = small_times[page] * 1e3, big_times[page] * 1e3
        print(f"{page:<22} {small_ms:>10.0f} {big_ms:>26.0f} {big_ms / small_ms:>7.2f}")


if __name__ == "__main__":
    main()
