"""`make run` on bad settings, an unreachable warehouse, a second run or a tampered model: one
line that says what and where, the detail in a log file, no traceback on the console."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys

from job import run
from ml.registry import ArtifactIntegrityError
from tests.helpers import ROOT


def _make_run(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LOCAL_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-m", "job.run"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


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
