"""job/processes.py: a started command's whole process group is stopped, including a child that
ignores SIGTERM, and nothing of it is left afterwards (not even a zombie)."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from job import processes

pytestmark = pytest.mark.unit

STUBBORN_FAMILY = """
import signal, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
time.sleep(600)
"""


def test_stop_group_stops_the_command_and_a_child_that_ignores_sigterm():
    command = subprocess.Popen([sys.executable, "-c", STUBBORN_FAMILY], process_group=0)
    time.sleep(1)  # the child is started
    assert processes.alive(command.pid) and processes.group_alive(command.pid)
    started = time.monotonic()
    processes.stop_group(command.pid, grace_seconds=1, process=command)
    assert time.monotonic() - started < 8
    assert not processes.group_alive(command.pid)
    assert command.returncode is not None


def test_an_exited_child_is_reaped_and_no_longer_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"], process_group=0)
    time.sleep(0.5)
    assert processes.alive(child.pid)  # a zombie until someone reaps it
    processes.reap_children(child.pid)
    assert not processes.alive(child.pid) and not processes.group_alive(child.pid)
