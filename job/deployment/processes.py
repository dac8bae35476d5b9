"""Child processes that are stopped as a whole: each runs in a process group of its own.

`make run` and `make airflow` start Airflow commands that start processes of their own (task
runners, training workers, gunicorn/uvicorn workers, the log server). Stopping only the command
would leave those running; stopping its group stops them all.

psutil finds and times processes; groups are signalled with os.killpg and children reaped with
os.waitpid, which psutil has no calls for.
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

import psutil

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class DeploymentError(RuntimeError):
    """A component did not start or stopped by itself (too often); the message names its log."""


def start_airflow(args: list[str], env: Mapping[str, str], log_file: Path) -> subprocess.Popen:
    """`python -m airflow <args>` in a new process group, stdout and stderr to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,
        )


def stop_group(pgid: int, grace_seconds: float = 10, process: subprocess.Popen | None = None) -> None:
    """SIGTERM to the process group `pgid`, SIGKILL to whatever is left of it after
    `grace_seconds`; returns once the group is gone (or 10 s after the SIGKILL).

    Our own children in the group are reaped meanwhile: as zombies they would keep it "alive".
    `process` is the Popen of the group's first member, if this process started it.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    if not _wait_gone(pgid, grace_seconds, process):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        _wait_gone(pgid, 10, process)
    if process is not None:
        process.wait()


def _wait_gone(pgid: int, seconds: float, process: subprocess.Popen | None) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if process is not None:
            process.poll()
        reap_children(pgid)
        if not group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def reap_children(pgid: int) -> None:
    """Collect every exited child of this process that belongs to group `pgid`."""
    while True:
        try:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def start_ticks(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot), or None when it does not exist. With
    the pid it names one process for good: a pid in a stale state file may belong to an unrelated
    process by now.

    Ticks since boot, not psutil's wall-clock create_time: a clock step (NTP) between `make
    airflow` and `make airflow-stop` would move the latter, and state files already hold ticks."""
    try:
        created = psutil.Process(pid).create_time()
    except psutil.Error:
        return None
    return round((created - psutil.boot_time()) * _CLOCK_TICKS)


def alive(pid: int) -> bool:
    """Whether process `pid` exists (reap your own exited children first: a zombie exists)."""
    return psutil.pid_exists(pid)


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
