"""The README's commands, run as a person runs them on a new checkout: `make …` in a session of
its own, output to a file, nothing set but what the README says (`make bi-login`:
test_bi_access.py). A first day, in order, in one LOCAL_DIR (its own embedded warehouse):

1. `make run` on the embedded default (a small synthetic snapshot, the reduced search) trains
   the first champion and scores; `make churn ARGS=status` and `make psql` show it.
2. `make airflow > log 2>&1 &` (LocalExecutor) prints the UI address and login, stays in the
   foreground, scores a night backfilled through its REST API, and Ctrl-C leaves nothing running.
3. `AIRFLOW__CORE__EXECUTOR=CeleryExecutor make airflow` (the compose stack's executor): a
   backfill of three nights at once scores exactly those nights, each once with its active
   customers, whatever Airflow merged of the Asset events; a re-published night is rescored
   with its new export and only it; `make airflow-stop` from another shell then ends
   `make airflow`, and nothing is left running.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT, rows, session_members
from tests.integration.airflow_api import AirflowApi, wait_for

pytestmark = pytest.mark.integration

RUN_DATE = dt.date(2026, 11, 1)  # make run's snapshot: the champion it trains is of the nights' month
SMOKE_NIGHT = dt.date(2026, 11, 20)  # under the LocalExecutor
DATES = [dt.date(2026, 11, 27), dt.date(2026, 11, 28), dt.date(2026, 11, 29)]  # under Celery
CUSTOMERS = 300
RUNS_SETTLE_SECONDS = 480
UI_LINE = re.compile(r"^Airflow UI: (http://127\.0\.0\.1:\d+)\s+login: admin / (\S+)$", re.M)


def _make(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, start_new_session=True)


def _make_in_background(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """`make ARGS > log 2>&1 &`: a session of its own, like a shell's background job."""
    with log.open("w") as out:
        return subprocess.Popen(["make", "--no-print-directory", *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A person's environment: no WAREHOUSE_URL, DATA_DIR, model store or Airflow settings of the
    test session; everything under a LOCAL_DIR of its own. Its embedded server is started here
    (as `make run` would start it), so it is no member of the sessions checked for leftovers,
    and stopped at the end. AIRFLOW_HOME is set only because the Makefile's default is the
    checkout's own `.local/airflow`."""
    from etl.warehouse import db, server

    local = tmp_path_factory.mktemp("checkout")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "WAREHOUSE_", "PYTEST"))}
    for key in ("DATA_DIR", "MODEL_STORE_DIR", "REPORTS_DIR", "SNAPSHOT_DATE", "SNAPSHOTS", "SEGMENT_RULES"):
        env.pop(key, None)
    env.update({"LOCAL_DIR": str(local), "AIRFLOW_HOME": str(local / "airflow"), "SNAPSHOT_DATE": RUN_DATE.isoformat(),
                "SYNTH_CUSTOMERS": str(CUSTOMERS), "CHURN_SEARCH_BUDGET": "reduced",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_DIR", str(local))
        patch.delenv("WAREHOUSE_URL", raising=False)
        engine = db.get_engine(server.server_url())
    yield {"env": env, "local": local, "engine": engine, "exports": local / "exports"}
    engine.dispose()
    subprocess.run(["make", "airflow-stop"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "etl.warehouse.server", "stop"],
                   cwd=ROOT, env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def ran(checkout):
    return _make(checkout["env"], "run", timeout=900)


def _scored(engine) -> dict[dt.date, tuple[int, dt.datetime]]:
    found = rows(engine, "SELECT score_date, count(*) AS n, max(scored_at) AS at FROM scoring.churn_scores GROUP BY 1")
    return {row["score_date"]: (row["n"], row["at"]) for row in found}


def _active(engine, day: dt.date) -> int:
    return rows(engine, "SELECT count(*) AS n FROM features.model_input WHERE snapshot_date = :d", d=day)[0]["n"]


def test_make_run_trains_and_scores_the_synthetic_snapshot_on_the_embedded_warehouse(checkout, ran):
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    out = ran.stdout
    assert f"DATA_DIR unset: generating a synthetic snapshot of {CUSTOMERS} customers" in out
    assert "no champion model yet: running churn_retrain" in out
    for dag_id in ("churn_ingest", "churn_retrain", "churn_score"):
        assert f"{dag_id} ok (" in out, out
    assert f"== churn job summary for snapshot {RUN_DATE} ==" in out
    engine = checkout["engine"]
    assert 0.9 * CUSTOMERS < _scored(engine)[RUN_DATE][0] == _active(engine, RUN_DATE) <= CUSTOMERS
    assert (checkout["local"] / "models").is_dir() and (checkout["local"] / "reports").is_dir()  # all under LOCAL_DIR


def test_make_churn_status_and_make_psql_show_the_champion_and_the_scored_night(checkout, ran):
    [champion] = rows(checkout["engine"], "SELECT model_version FROM ml.model_registry WHERE status = 'champion'")
    status = _make(checkout["env"], "churn", "ARGS=status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"champion: {champion['model_version']} (" in status.stdout
    scored = _scored(checkout["engine"])[RUN_DATE][0]
    assert f"scored {RUN_DATE}: {scored} customers by {champion['model_version']}" in status.stdout
    psql = _make(checkout["env"], "psql", "ARGS=-At -c 'SELECT count(*) FROM mart.churn_scores_latest'")
    assert psql.returncode == 0 and psql.stdout.strip().splitlines()[-1] == str(scored), psql.stdout + psql.stderr


def _ui(log: Path) -> tuple[str, str] | None:
    found = UI_LINE.search(log.read_text(errors="replace"))
    return (found.group(1), found.group(2)) if found else None


def _started(checkout, log: Path, make: subprocess.Popen) -> AirflowApi:
    """Wait for the UI line `make airflow` prints; log in with the login it printed."""
    wait_for(lambda: _ui(log) or make.poll() is not None, 300, f"make airflow's UI address ({log})", poll=1)
    assert make.poll() is None, log.read_text()  # in the foreground, not detached
    url, password = _ui(log)
    text = log.read_text()
    assert "stop: Ctrl-C or `make airflow-stop`" in text
    assert f"Exports are read from {checkout['exports'] / '{snapshot_date}'}" in text
    api = AirflowApi(url, password)
    assert set(api.health().values()) == {"healthy"}
    return api


def _runs(api: AirflowApi, dag_id: str, days: list[dt.date]) -> list[dict]:
    """The DAG's runs for `days` (by logical date; Asset-triggered runs have none: all of those)."""
    wanted = {day.isoformat() for day in days}
    return [run for run in api.runs(dag_id) if run["logical_date"] is None or run["logical_date"][:10] in wanted]


def _settled(api: AirflowApi, dag_id: str, days: list[dt.date], expected_runs: int) -> list[dict] | None:
    """The DAG's runs of `days` once none is queued or running and `expected_runs` finished;
    fails at once naming a failed run. churn_ingest's scheduled latest night waits for an export
    that never comes: it is left out."""
    runs = [run for run in _runs(api, dag_id, days) if not (dag_id == "churn_ingest" and run["run_type"] == "scheduled")]
    failed = [run["dag_run_id"] for run in runs if run["state"] == "failed"]
    assert not failed, f"{dag_id} runs failed: {failed}"
    done = [run for run in runs if run["state"] == "success"]
    busy = [run for run in runs if run["state"] in ("queued", "running")]
    return done if len(done) >= expected_runs and not busy else None


def _unreachable(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/api/v2/monitor/health", timeout=5)
    except OSError:
        return True
    return False


def _kill_session(make: subprocess.Popen) -> None:
    """What a failed test left of the session: SIGKILL to each member (nothing when empty)."""
    for member in session_members(make.pid):
        try:
            os.kill(int(member.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    make.poll()


def test_make_airflow_stays_in_the_foreground_scores_a_night_and_ctrl_c_leaves_nothing(checkout, ran, tmp_path):
    from etl import synth

    synth.generate_snapshot(checkout["exports"] / SMOKE_NIGHT.isoformat(), customers=CUSTOMERS, seed=28)
    log = tmp_path / "make-airflow.log"
    make = _make_in_background(checkout["env"], log, "airflow")
    try:
        api = _started(checkout, log, make)
        dags = wait_for(lambda: len(found := api.dags()) == 3 and found, 120, "the three DAGs appear in the API")
        assert all(dag["is_paused"] for dag in dags.values())  # nothing runs before a person unpauses it
        for dag_id in dags:  # each DAG shows its schedule semantics in the UI
            assert "**" in api.get(f"/api/v2/dags/{dag_id}/details")["doc_md"], dag_id
        with urllib.request.urlopen(api.url + "/", timeout=30) as ui:
            assert ui.status == 200 and b"<html" in ui.read().lower()
        for dag_id in dags:
            api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
        api.backfill("churn_ingest", f"{SMOKE_NIGHT}T00:00:00Z", f"{SMOKE_NIGHT}T23:00:00Z")
        engine = checkout["engine"]
        wait_for(lambda: _settled(api, "churn_ingest", [SMOKE_NIGHT], 1) and SMOKE_NIGHT in _scored(engine)
                 and _settled(api, "churn_score", [SMOKE_NIGHT], 1), RUNS_SETTLE_SECONDS, f"{SMOKE_NIGHT} scored")
        assert _scored(engine)[SMOKE_NIGHT][0] == _active(engine, SMOKE_NIGHT)

        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
        wait_for(lambda: not session_members(make.pid), 120, "every process of make airflow to end", poll=1)
    finally:
        _kill_session(make)
    text = log.read_text()
    assert "stopping Airflow …" in text and "Airflow stopped: no component is left running" in text, text
    assert _unreachable(api.url)


def test_celery_make_airflow_scores_a_backfill_once_rescores_a_republished_night_and_make_airflow_stop_ends_it(
        checkout, ran, tmp_path):
    from etl import synth

    engine, exports = checkout["engine"], checkout["exports"]
    for seed, day in enumerate(DATES):
        synth.generate_snapshot(exports / day.isoformat(), customers=CUSTOMERS, seed=20 + seed)
    log = tmp_path / "make-airflow-celery.log"
    make = _make_in_background({**checkout["env"], "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}, log, "airflow")
    try:
        api = _started(checkout, log, make)
        assert "(CeleryExecutor" in log.read_text()
        api.backfill("churn_ingest", f"{DATES[0]}T00:00:00Z", f"{DATES[-1]}T23:00:00Z", max_active_runs=3)
        ingest_runs = wait_for(lambda: _settled(api, "churn_ingest", DATES, 3), RUNS_SETTLE_SECONDS, "three ingest runs")
        assert sorted(run["logical_date"][:10] for run in ingest_runs) == [day.isoformat() for day in DATES]
        wait_for(lambda: set(DATES) <= set(_scored(engine)) and _settled(api, "churn_score", DATES, 1),
                 RUNS_SETTLE_SECONDS, "the three nights scored")
        scored = {day: at for day, at in _scored(engine).items() if day in DATES}
        assert set(scored) == set(DATES)  # no night skipped, however Airflow merged the Asset events
        assert {day: n for day, (n, _) in scored.items()} == {day: _active(engine, day) for day in DATES}
        retrain_runs = wait_for(lambda: _settled(api, "churn_retrain", [], 1), 120, "the retrain runs settle")
        for run in retrain_runs:  # the champion is of this month: retraining skips, saying so
            due = api.get(f"/api/v2/dags/churn_retrain/dagRuns/{run['dag_run_id']}/taskInstances/retrain_due")
            assert due["state"] == "skipped"

        # The latest night, scheduled since the DAG was unpaused, has no export: it waits, deferred.
        (latest,) = [run for run in api.runs("churn_ingest") if run["run_type"] == "scheduled"]
        path = f"/api/v2/dags/churn_ingest/dagRuns/{latest['dag_run_id']}/taskInstances/wait_for_export"
        wait_for(lambda: api.get(path)["state"] == "deferred", 120, "the latest night's wait deferred")

        # Re-publish 2026-11-28 from a new export: that night, and only it, is rescored with it.
        synth.generate_snapshot(exports / DATES[1].isoformat(), customers=CUSTOMERS + 50, seed=99)
        before = len(_runs(api, "churn_score", DATES))
        wait_for(lambda: api.backfills_done("churn_ingest"), 60, "the first backfill is marked complete")
        api.backfill("churn_ingest", f"{DATES[1]}T00:00:00Z", f"{DATES[1]}T23:00:00Z", reprocess_behavior="completed")
        wait_for(lambda: _settled(api, "churn_score", DATES, before + 1) and _scored(engine)[DATES[1]][1] > scored[DATES[1]][1],
                 RUNS_SETTLE_SECONDS, f"{DATES[1]} rescored")
        rescored = _scored(engine)
        assert rescored[DATES[1]][0] == _active(engine, DATES[1]) != scored[DATES[1]][0]
        assert {day: rescored[day] for day in (DATES[0], DATES[2])} == {day: scored[day] for day in (DATES[0], DATES[2])}

        stopped = _make(checkout["env"], "airflow-stop")  # from another shell
        assert stopped.returncode == 0 and "stopped: " in stopped.stdout, stopped.stdout + stopped.stderr
        assert make.wait(timeout=120) == 0, log.read_text()
        wait_for(lambda: not session_members(make.pid), 60, "every process of make airflow to end", poll=1)
    finally:
        _kill_session(make)
    text = log.read_text()
    assert "stopped by `make airflow-stop`" in text and "Airflow stopped: no component is left running" in text, text
    assert _unreachable(api.url)
