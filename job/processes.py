"""Child processes that are stopped as a whole: each runs in a process group of its own.

`make run` and `make airflow` start Airflow commands that start processes of their own (task
runners, training workers, gunicorn/uvicorn workers, the log server). Stopping only the command
would leave those running; stopping its group stops them all.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping


def start_airflow(args: list[str], env: Mapping[str, str], log_file: Path) -> subprocess.Popen:
    """`python -m airflow <args>` in a new process group, stdout and stderr to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "airflow", *args], env=dict(env), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, process_group=0,
        )


def stop_group(pgid: int, grace_seconds: float = 10, process: subprocess.Popen | None = None) -> None:
    """SIGTERM to the process group `pgid`, SIGKILL to whatever is left of it after `grace_seconds`.

    `process`, when this process started the group's first member, is reaped meanwhile: as a
    zombie it would keep the group alive until the deadline.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and group_alive(pgid):
        if process is not None:
            process.poll()
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    if process is not None:
        process.wait()


def group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` still exists (zombies of other parents included)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the group exists, owned by someone else
        return True
    return True


def ignore_stop_signals() -> None:
    """While stopping children: a second Ctrl-C must not cut the clean-up short."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN)
