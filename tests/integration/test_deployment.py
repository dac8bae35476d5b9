"""The real deployment (job/deployment/stack.py, `make airflow`), driven as a data engineer would.

`AIRFLOW__CORE__EXECUTOR=CeleryExecutor make airflow` (the compose stack's executor) started as a
person starts it (checkout.py), with the run's champion seeded as one of the dates' month (so
churn_retrain is not due): a backfill of three snapshot dates at once scores exactly those dates, each
once with its active customers, whatever Airflow merged of the Asset events; a re-published
snapshot date is rescored with its new export, and only it, though the scheduler is SIGKILLed
meanwhile (make airflow starts it again); a dag-processor killed is started again and counted by
`make airflow-status`; `make airflow-stop` from another shell then ends `make airflow` and nothing
is left running. (The LocalExecutor, `make airflow`'s default,
scores a snapshot date and stops on Ctrl-C in test_readme_commands.py.) And what every component is
started with.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.integration import checkout as person
from tests.integration.airflow_api import wait_for
from tests.integration.champion import seed_champion

DATES = [dt.date(2026, 11, 27), dt.date(2026, 11, 28), dt.date(2026, 11, 29)]
CUSTOMERS = 300


@pytest.fixture(scope="module")
def checkout(tmp_path_factory, champion):
    from etl.warehouse import db

    for found in person.new_checkout(tmp_path_factory.mktemp("checkout")):
        db.migrate(found["engine"])  # what `make run` would have done first
        seed_champion(found["engine"], champion, trained_on=DATES[0])
        yield found


@pytest.fixture(scope="module")
def celery(checkout, tmp_path_factory):
    """`AIRFLOW__CORE__EXECUTOR=CeleryExecutor make airflow > log 2>&1 &`, its DAGs unpaused; the
    tests below run in order on it, the last one stops it."""
    from etl import synth

    for seed, snapshot_date in enumerate(DATES):
        synth.generate_snapshot(checkout["exports"] / snapshot_date.isoformat(), customers=CUSTOMERS, seed=20 + seed)
    from job.deployment.stack import free_port

    log = tmp_path_factory.mktemp("celery") / "make-airflow.log"
    # a port of its own (README: AIRFLOW_PORT): test_readme_commands' make airflow may be starting on the default
    env = {**checkout["env"], "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "AIRFLOW_PORT": str(free_port())}
    make = person.make_in_background(env, log, "airflow")
    try:
        api = person.started(checkout, log, make)
        assert "(CeleryExecutor" in log.read_text()
        dags = wait_for(lambda: len(found := api.dags()) == 3 and found, 120, "the three DAGs appear in the API")
        assert all(dag["is_paused"] for dag in dags.values())  # nothing runs before a person unpauses it
        for dag_id in dags:
            api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
        yield {"api": api, "make": make, "log": log, "scored": {}}
    finally:
        person.kill_session(make)


def test_a_backfill_of_three_nights_scores_each_night_once(checkout, celery):
    engine, api = checkout["engine"], celery["api"]
    api.backfill("churn_ingest", f"{DATES[0]}T00:00:00Z", f"{DATES[-1]}T23:00:00Z", max_active_runs=3)
    ingest_runs = wait_for(
        lambda: person.settled(api, "churn_ingest", DATES, 3), person.RUNS_SETTLE_SECONDS, "three ingest runs"
    )
    assert sorted(run["logical_date"][:10] for run in ingest_runs) == [
        snapshot_date.isoformat() for snapshot_date in DATES
    ]
    for run in ingest_runs:  # three dates published side by side: none deadlocked and waited for a retry
        path = f"/api/v2/dags/churn_ingest/dagRuns/{run['dag_run_id']}/taskInstances/publish_features"
        assert api.get(path)["try_number"] == 1
    wait_for(
        lambda: set(person.scored(engine)) == set(DATES) and person.settled(api, "churn_score", DATES, 1),
        person.RUNS_SETTLE_SECONDS,
        "the three snapshot dates scored",
    )
    scored = celery["scored"] = person.scored(engine)
    assert set(scored) == set(DATES)  # no date skipped, however Airflow merged the Asset events
    assert {snapshot_date: n for snapshot_date, (n, _) in scored.items()} == {
        snapshot_date: person.active(engine, snapshot_date) for snapshot_date in DATES
    }
    retrain_runs = wait_for(lambda: person.settled(api, "churn_retrain", [], 1), 120, "the retrain runs settle")
    for run in retrain_runs:  # the champion is of this month: retraining skips, saying so
        due = api.get(f"/api/v2/dags/churn_retrain/dagRuns/{run['dag_run_id']}/taskInstances/retrain_due")
        assert due["state"] == "skipped"

    # Unpausing started the latest date's run too: its export is not there, so it waits, deferred.
    (latest,) = [run for run in api.runs("churn_ingest") if run["run_type"] == "scheduled"]
    path = f"/api/v2/dags/churn_ingest/dagRuns/{latest['dag_run_id']}/taskInstances/wait_for_export"
    assert api.get(path)["state"] == "deferred"


def _kill_component(checkout, name: str) -> None:
    import json
    import os
    import signal

    state = json.loads((checkout["local"] / "deployment" / "deployment.json").read_text())
    os.killpg(state["pids"][name], signal.SIGKILL)


def test_a_republished_night_and_only_it_is_rescored_with_its_new_export(checkout, celery):
    """The scheduler is killed while the re-ingest runs: make airflow starts it again and the
    night finishes by itself (the Celery worker's task goes on meanwhile)."""
    from etl import synth

    engine, api, scored = checkout["engine"], celery["api"], celery["scored"]
    assert set(scored) == set(DATES), "runs after the backfill test"
    synth.generate_snapshot(checkout["exports"] / DATES[1].isoformat(), customers=CUSTOMERS + 50, seed=99)
    before = len(person.runs(api, "churn_score", DATES))
    wait_for(lambda: api.backfills_done("churn_ingest"), 60, "the first backfill is marked complete")
    api.backfill("churn_ingest", f"{DATES[1]}T00:00:00Z", f"{DATES[1]}T23:00:00Z", reprocess_behavior="completed")
    wait_for(
        lambda: any(run["state"] in ("queued", "running") for run in person.runs(api, "churn_ingest", [DATES[1]])),
        60,
        "the re-ingest run under way",
    )
    _kill_component(checkout, "scheduler")
    wait_for(lambda: "scheduler started again (restart 1)" in celery["log"].read_text(), 60, "the scheduler restart")
    wait_for(
        lambda: (
            person.settled(api, "churn_score", DATES, before + 1)
            and person.scored(engine)[DATES[1]][1] > scored[DATES[1]][1]
        ),
        person.RUNS_SETTLE_SECONDS,
        f"{DATES[1]} rescored",
    )
    rescored = person.scored(engine)
    assert rescored[DATES[1]][0] == person.active(engine, DATES[1]) != scored[DATES[1]][0]
    untouched = (DATES[0], DATES[2])
    assert {snapshot_date: rescored[snapshot_date] for snapshot_date in untouched} == {
        snapshot_date: scored[snapshot_date] for snapshot_date in untouched
    }


def test_a_component_that_dies_is_started_again_and_make_airflow_status_shows_it(checkout, celery):
    """make airflow supervises: a component killed (an OOM kill, a crash) is started again after
    its backoff, the log says so, and the deployment goes on (the stop test below stops it)."""
    import json
    import os
    import signal

    _kill_component(checkout, "dag-processor")
    wait_for(lambda: "dag-processor started again (restart 1)" in celery["log"].read_text(), 60, "the restart")
    assert "dag-processor stopped by itself (log: " in celery["log"].read_text()
    status = person.make(checkout["env"], "airflow-status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "  dag-processor: running, restarted 1 times" in status.stdout
    assert "  scheduler: running, restarted 1 times" in status.stdout  # the republish test's kill
    assert "  triggerer: running, restarted 0 times" in status.stdout
    wait_for(
        lambda: (celery["api"].get("/api/v2/monitor/health").get("dag_processor") or {}).get("status") == "healthy",
        120,
        "the restarted dag-processor reports healthy",
    )


def test_make_airflow_stop_from_another_shell_ends_make_airflow_and_leaves_nothing(checkout, celery):
    make, log = celery["make"], celery["log"]
    stopped = person.make(checkout["env"], "airflow-stop")
    assert stopped.returncode == 0 and "stopped: " in stopped.stdout, stopped.stdout + stopped.stderr
    assert make.wait(timeout=120) == 0, log.read_text()
    person.wait_until_ended(make, 60)
    text = log.read_text()
    assert "stopped by `make airflow-stop`" in text and "Airflow stopped: no component is left running" in text, text
    assert person.unreachable(celery["api"].url)


def test_every_component_gets_the_same_ports_secrets_and_a_postgres_metadata_database(tmp_path):
    """What the deployment's components are started with (no process started here)."""
    import stat

    import sqlalchemy as sa

    from etl.warehouse import server
    from job.deployment.stack import Deployment

    metadata = f"churn_test_airflow_{uuid.uuid4().hex[:8]}"
    try:
        first = Deployment(home=tmp_path, executor="CeleryExecutor", metadata_database=metadata).environment()
        again = Deployment(home=tmp_path, metadata_database=metadata).environment()
    finally:
        for database in (metadata, f"{metadata}_celery"):
            server.drop_database(server.create_database(database, exist_ok=True))
    port = first["AIRFLOW__API__PORT"]
    assert first["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert first["AIRFLOW__API__BASE_URL"] == f"http://127.0.0.1:{port}"
    assert first["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://127.0.0.1:{port}/execution/"
    listening = {
        port,
        first["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"],
        first["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"],
    }
    assert len(listening) == 3  # nothing reports to another server's port
    assert sa.make_url(first["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).get_backend_name() == "postgresql"
    assert sa.make_url(first["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).database == metadata
    assert first["AIRFLOW__CELERY__BROKER_URL"].startswith("sqla+postgresql")  # no Redis, no system service
    assert first["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert again["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    for secret in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert len(first[secret]) >= 32 and first[secret] == again[secret]  # kept, not made per start
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert first["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "True" and first["CHURN_DEADLINES"] == "on"
