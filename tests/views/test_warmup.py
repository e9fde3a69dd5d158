"""Slow imports are started ahead once per process, in the background."""

from __future__ import annotations

import os
import subprocess
import sys

from core.views.warmup import DELAY_ENV


def test_scipy_stats_is_imported_ahead_once_and_not_at_once() -> None:
    code = (
        "import sys, time\n"
        "from core.views import warmup\n"
        "assert 'scipy.stats' not in sys.modules\n"
        "assert warmup.start() is True and warmup.start() is False\n"
        "time.sleep(0.5)\n"
        "assert 'scipy.stats' not in sys.modules  # not while the first page is drawn\n"
        "deadline = time.time() + 60\n"
        "while 'scipy.stats' not in sys.modules and time.time() < deadline: time.sleep(0.05)\n"
        "assert 'scipy.stats' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env={**os.environ, DELAY_ENV: "3"})
