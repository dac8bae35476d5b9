"""`make run` when something goes wrong: bad settings, an unreachable warehouse, a second run or
a tampered model give one line that says what and where (the detail in a log file, no traceback
on the console); a failed gate prints its CRITICAL findings; SIGTERM leaves no process behind."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
import uuid

from etl.warehouse import server
from job.local import run
from ml.registry import ArtifactIntegrityError
from tests.helpers import ROOT, copy_export, session_members
from tests.integration.corruptions import CASES


def _make_run(tmp_path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LOCAL_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-m", "job.local.run"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _assert_one_line(result: subprocess.CompletedProcess, expected: str) -> None:
    lines = result.stdout.splitlines()
    assert lines and lines[0].startswith("make run stopped: ") and expected in lines[0], result.stdout
    assert len(lines) == 2 and lines[1].startswith("detail: "), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert "Traceback" in open(lines[1].removeprefix("detail: ")).read()


def test_a_bad_snapshot_date_names_the_variable(tmp_path):
    result = _make_run(tmp_path, SNAPSHOT_DATE="garbage")
    assert result.returncode == 2
    _assert_one_line(result, "SNAPSHOT_DATE='garbage' is not a date: use YYYY-MM-DD")


def test_bad_history_settings_name_the_variable(tmp_path):
    result = _make_run(tmp_path, SNAPSHOTS="none")
    assert result.returncode == 2
    _assert_one_line(result, "SNAPSHOTS='none' is not a whole number")
    result = _make_run(tmp_path, SNAPSHOTS="6", DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    _assert_one_line(result, "SNAPSHOTS > 1 runs on a synthetic history: unset DATA_DIR")


def test_an_unreachable_warehouse_is_one_line(tmp_path):
    result = _make_run(tmp_path, WAREHOUSE_URL="postgresql://churn:secret@127.0.0.1:1/warehouse")
    assert result.returncode == 1
    _assert_one_line(result, "cannot reach the warehouse (postgresql://churn:***@127.0.0.1:1/warehouse)")
    assert "secret" not in result.stdout and "Connection refused" in result.stdout


def test_a_second_make_run_in_the_same_checkout_stops_at_once(tmp_path):
    with (tmp_path / "make-run.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("pid 4242, started 2026-11-27 01:00:00")
        held.flush()
        result = _make_run(tmp_path)
    assert result.returncode == 2
    _assert_one_line(result, "another make run is running in this checkout (pid 4242, started 2026-11-27 01:00:00)")


def test_a_tampered_champion_is_one_line_with_the_way_out(tmp_path, monkeypatch, capsys):
    def tampered() -> int:
        raise ArtifactIntegrityError("refusing to load m1: model.joblib has sha256 ab12…, the registry says cd34…")

    monkeypatch.setenv("LOCAL_DIR", str(tmp_path))
    monkeypatch.setattr(run, "_run", tampered)
    assert run.main() == 1
    out = capsys.readouterr().out
    assert out.startswith("make run stopped: refusing to load m1") and "roll the champion back" in out
    assert "Traceback" not in out


def test_a_failed_gate_prints_its_critical_findings_and_no_warning(tmp_path, warehouse_url, real_data_dir):
    export = CASES["negative_revenue"].apply(copy_export(real_data_dir, tmp_path / "export"))
    result = _make_run(tmp_path, timeout=600, DATA_DIR=str(export), SNAPSHOT_DATE="2026-03-15")
    assert result.returncode == 1, result.stdout
    findings = [line for line in result.stdout.splitlines() if line.startswith("  CRITICAL ")]
    assert findings, result.stdout
    assert any("raw.market_money.revenue" in line and "-4971.6" in line for line in findings), result.stdout
    # the real export's known warnings (e.g. the 106862.2 revenue outlier) are not shown in their place
    assert "106862" not in result.stdout and "warning" not in result.stdout.lower(), result.stdout
    assert "  validate_raw failed in " in result.stdout  # progress: the task that stopped the run


def test_sigterm_during_retraining_stops_every_process(tmp_path, warehouse_url, real_data_dir):
    url = server.create_database(f"churn_test_sigterm_{uuid.uuid4().hex[:8]}")  # no champion: it retrains
    environment = {
        **os.environ,
        "LOCAL_DIR": str(tmp_path),
        "WAREHOUSE_URL": url,
        "DATA_DIR": str(real_data_dir),
        "SNAPSHOT_DATE": "2026-03-16",
        "PYTHONUNBUFFERED": "1",
        "CHURN_SEARCH_BUDGET": "reduced",
    }
    job = subprocess.Popen(
        [sys.executable, "-m", "job.local.run"],
        cwd=ROOT,
        env=environment,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        seen = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = job.stdout.readline()
            seen.append(line)
            if "running churn_retrain" in line or not line:
                break
        assert "running churn_retrain" in seen[-1], "".join(seen)
        assert "  publish_features success in " in "".join(seen)  # one line per finished task
        time.sleep(8)  # the search is under way, its workers spawned
        assert len(session_members(job.pid)) > 1
        job.send_signal(signal.SIGTERM)
        rest, _ = job.communicate(timeout=90)
        assert job.returncode == 128 + signal.SIGTERM, "".join(seen) + rest
        assert "stopped by SIGTERM" in rest
        left = session_members(job.pid)
        assert left == [], left
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
        server.drop_database(url)
