"""A person's checkout, for the tests that run the README's commands as a person runs them:
`make …` in a session of its own (`start_new_session`, like a shell's job), output to a file,
in a LOCAL_DIR of its own (its own embedded warehouse), with nothing of the test session's
environment but what the README says.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Iterator

from job.deployment.client import AirflowApi, wait_for
from tests.helpers import ROOT, SettingsPatch, rows, session_members

RUNS_SETTLE_SECONDS = 480
UI_LINE = re.compile(r"^Airflow UI: (http://127\.0\.0\.1:\d+)\s+login: admin / (\S+)$", re.M)


def make(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )


def make_in_background(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """`make ARGS > log 2>&1 &`: a session of its own, like a shell's background job."""
    with log.open("w") as out:
        return subprocess.Popen(
            ["make", "--no-print-directory", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def new_checkout(local: Path, **settings: str) -> Iterator[dict[str, Any]]:
    """A person's environment under `local` (for a module fixture to yield from): no
    WAREHOUSE_URL, DATA_DIR, model store or Airflow settings of the test session. Its embedded
    server is started here, as `make run` would start it, so it is no member of the sessions
    checked for leftovers; it is stopped at the end. AIRFLOW_HOME is set only because the
    Makefile's default is the checkout's own `.local/airflow`."""
    from etl.warehouse import db, server

    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "WAREHOUSE_", "PYTEST"))}
    for key in ("DATA_DIR", "MODEL_STORE_DIR", "REPORTS_DIR", "SNAPSHOT_DATE", "SNAPSHOTS", "SEGMENT_RULES"):
        env.pop(key, None)
    env.update(
        {
            "LOCAL_DIR": str(local),
            "AIRFLOW_HOME": str(local / "airflow"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            **settings,
        }
    )
    with SettingsPatch.context() as patch:
        patch.setenv("LOCAL_DIR", str(local))
        patch.delenv("WAREHOUSE_URL", raising=False)
        patch.delenv("MODEL_STORE_DIR", raising=False)
        engine = db.get_engine(server.server_url())
    yield {"env": env, "local": local, "engine": engine, "exports": local / "exports"}
    engine.dispose()
    subprocess.run(["make", "airflow-stop"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "etl.warehouse.server", "stop"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )


def scored(engine) -> dict[dt.date, tuple[int, dt.datetime]]:
    found = rows(engine, "SELECT score_date, count(*) AS n, max(scored_at) AS at FROM scoring.churn_scores GROUP BY 1")
    return {row["score_date"]: (row["n"], row["at"]) for row in found}


def active(engine, snapshot_date: dt.date) -> int:
    return rows(engine, "SELECT count(*) AS n FROM features.model_input WHERE snapshot_date = :d", d=snapshot_date)[0][
        "n"
    ]


def _ui(log: Path) -> tuple[str, str] | None:
    found = UI_LINE.search(log.read_text(errors="replace"))
    return (found.group(1), found.group(2)) if found else None


def started(checkout: dict[str, Any], log: Path, process: subprocess.Popen) -> AirflowApi:
    """Wait for the UI line `make airflow` prints; log in with the login it printed."""
    wait_for(lambda: _ui(log) or process.poll() is not None, 300, f"make airflow's UI address ({log})", poll=1)
    assert process.poll() is None, log.read_text()  # in the foreground, not detached
    url, password = _ui(log)
    text = log.read_text()
    assert "stop: Ctrl-C or `make airflow-stop`" in text
    assert f"Exports are read from {checkout['exports'] / '{snapshot_date}'}" in text
    api = AirflowApi(url, password)
    assert set(api.health().values()) == {"healthy"}
    return api


def runs(api: AirflowApi, dag_id: str, snapshot_dates: list[dt.date]) -> list[dict]:
    """The DAG's runs for `snapshot_dates` (by logical date; Asset-triggered runs have none: all of those)."""
    wanted = {snapshot_date.isoformat() for snapshot_date in snapshot_dates}
    return [run for run in api.runs(dag_id) if run["logical_date"] is None or run["logical_date"][:10] in wanted]


def settled(api: AirflowApi, dag_id: str, snapshot_dates: list[dt.date], expected_runs: int) -> list[dict] | None:
    """The DAG's runs of `snapshot_dates` once none is queued or running and `expected_runs` finished;
    fails at once naming a failed run. churn_ingest's scheduled run of the latest date waits for an export
    that never comes: it is left out."""
    found = [
        run
        for run in runs(api, dag_id, snapshot_dates)
        if not (dag_id == "churn_ingest" and run["run_type"] == "scheduled")
    ]
    failed = [run["dag_run_id"] for run in found if run["state"] == "failed"]
    assert not failed, f"{dag_id} runs failed: {failed}"
    done = [run for run in found if run["state"] == "success"]
    busy = [run for run in found if run["state"] in ("queued", "running")]
    return done if len(done) >= expected_runs and not busy else None


def unreachable(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/api/v2/monitor/health", timeout=5)
    except OSError:
        return True
    return False


def wait_until_ended(process: subprocess.Popen, within_seconds: float) -> None:
    """Until no process of `process`'s session is left."""
    wait_for(lambda: not session_members(process.pid), within_seconds, "every process of make airflow to end", poll=1)


def kill_session(process: subprocess.Popen) -> None:
    """What a failed test left of the session: SIGKILL to each member (nothing when empty)."""
    for member in session_members(process.pid):
        try:
            os.kill(int(member.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.poll()
