"""A logging script the tests run as a separate process: logs `val/x = step * 0.5` and `val/y = -step` forever
(or N steps), printing the last acknowledged step after each call so the parent knows what was completed."""

from __future__ import annotations

import sys
import time

from core import tracking


def main() -> None:
    runs_dir, name, steps, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    run = tracking.start(name=name, group="proc", config={"steps": steps}, runs_dir=runs_dir)
    print(run.id, flush=True)
    step = 0
    while steps <= 0 or step < steps:
        step += 1
        run.log({"val/x": step * 0.5, "val/y": -float(step)}, step=step)
        print(step, flush=True)
        if pause:
            time.sleep(pause)
    run.finish()


if __name__ == "__main__":
    main()
