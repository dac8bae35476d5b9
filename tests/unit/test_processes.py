"""job/deployment/processes.py: a started command's whole process group is stopped, including a child that
ignores SIGTERM, and nothing of it is left afterwards (not even a zombie)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from job.deployment import processes

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


def test_start_ticks_are_the_kernels_own_and_none_for_a_process_gone():
    """The unit of the state files already written: field 22 of /proc/<pid>/stat (Linux)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], process_group=0)
    try:
        stat = Path(f"/proc/{child.pid}/stat").read_text()
        assert processes.start_ticks(child.pid) == int(stat.rsplit(")", 1)[1].split()[19])
        assert psutil.Process(child.pid).create_time() == pytest.approx(
            psutil.boot_time() + processes.start_ticks(child.pid) / os.sysconf("SC_CLK_TCK"), abs=0.01
        )
    finally:
        child.kill()
        child.wait()
    assert processes.start_ticks(child.pid) is None and not processes.alive(child.pid)


def test_a_stale_state_file_never_stops_an_unrelated_process(tmp_path):
    """After a reboot the pids in .local/deployment/deployment.json may name other processes:
    `make airflow-stop` must leave those alone (their start time differs from the recorded one)."""
    import json

    from job.deployment.stack import Deployment

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], process_group=0)
    try:
        ticks = processes.start_ticks(bystander.pid)
        assert ticks is not None and ticks == processes.start_ticks(bystander.pid)
        state = {"pids": {"scheduler": bystander.pid}, "started": {"scheduler": ticks - 1}, "url": "http://127.0.0.1:1"}
        (tmp_path / "deployment.json").write_text(json.dumps(state))
        deployment = Deployment(home=tmp_path)
        assert not deployment.running()
        assert deployment.stop() == []
        assert bystander.poll() is None  # still running

        state["started"]["scheduler"] = ticks  # the recorded process itself: it is stopped
        (tmp_path / "deployment.json").write_text(json.dumps(state))
        assert deployment.running() and deployment.stop() == ["scheduler"]
        assert bystander.wait(timeout=30) is not None
    finally:
        bystander.kill()
        bystander.wait()


def test_make_airflow_stays_in_the_foreground_and_the_cli_keeps_its_own_arguments():
    """`start --foreground` (make airflow) must not be swallowed as an airflow CLI argument."""
    from job.deployment.stack import _arguments

    started = _arguments(["start", "--foreground", "--executor", "CeleryExecutor"])
    assert (started.action, started.foreground, started.executor) == ("start", True, "CeleryExecutor")
    assert _arguments(["start"]).foreground is False
    cli = _arguments(["airflow", "dags", "list-runs", "churn_score", "--foreground"])
    assert (cli.action, cli.airflow_args) == ("airflow", ["dags", "list-runs", "churn_score", "--foreground"])
    with pytest.raises(SystemExit):
        _arguments(["stop", "--foreground"])
