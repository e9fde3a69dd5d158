"""A stand-in training script for launcher tests: logs `epochs` epochs of `train/loss` and `val/top1`, sleeping
`pause` seconds per epoch, then exits with `exit_code` (or hangs without heartbeats when `hang` is given)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from core import tracking


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.1)
    parser.add_argument("--exit-code", type=int, default=0)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--kill-self-at", type=int, default=0, help="SIGKILL itself at this epoch")
    args = parser.parse_args()
    run = tracking.start(name="helper", config=vars(args))
    first = run._step + 1  # continues after a resume
    for epoch in range(first, args.epochs + 1):
        time.sleep(args.pause)
        run.log({"train/loss": 1.0 / epoch, "val/top1": epoch / args.epochs}, step=epoch)
        run.set_progress(epoch, args.epochs)
        if epoch == args.kill_self_at:
            os.kill(os.getpid(), signal.SIGKILL)
    if args.hang:
        time.sleep(3600)
    if args.exit_code:
        sys.exit(args.exit_code)
    run.finish()


if __name__ == "__main__":
    main()
