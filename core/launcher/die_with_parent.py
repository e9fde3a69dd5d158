"""Run a command that dies with its parent: ``python die_with_parent.py PROGRAM ARGS...`` (Linux).

torchrun starts each worker of a run on several GPUs in a session of its own, so a SIGKILL of the run's process
group (a cancel's second signal, Ray's stop) reaches torchrun's agent but not the workers. Each worker starts
through this file (run by path: it imports nothing of the project), asks the kernel to SIGKILL it when its
parent dies (PR_SET_PDEATHSIG), then becomes the command.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the worker may outlive a killed agent
    if os.getppid() != parent:
        sys.exit(f"{argv[0]}: its parent died before it started")  # too late for the kernel to tell
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
