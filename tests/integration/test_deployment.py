"""The real deployment (job/deployment.py, `make airflow`), driven as a data engineer would:
unpause the DAGs, backfill three nights of churn_ingest in one go, see exactly those three
snapshots scored, re-publish one night and see it rescored with its new features; once with the
LocalExecutor and once through a Celery worker (broker: kombu's SQLAlchemy transport on the
warehouse server). Each test starts and stops every process itself and checks none is left.
"""
from __future__ import annotations

import datetime as dt
import urllib.request
import uuid

import pytest

from tests.integration.airflow_api import AirflowApi, wait_for

DATES = [dt.date(2026, 11, 27), dt.date(2026, 11, 28), dt.date(2026, 11, 29)]
CUSTOMERS = 400
RUNS_SETTLE_SECONDS = 480


@pytest.fixture()
def warehouse(tmp_path, monkeypatch):
    """A database of its own with a champion trained on the first night, and three nights of
    synthetic exports under DATA_DIR=<tmp>/exports/{snapshot_date}."""
    from etl import ingest, synth
    from etl.warehouse import db, server
    from ml import training

    url = server.create_database(f"churn_test_deploy_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    db.ensure_schema(engine)
    exports = tmp_path / "exports"
    for seed, day in enumerate(DATES):
        synth.generate_snapshot(exports / day.isoformat(), customers=CUSTOMERS, seed=20 + seed)
    ingest.run_snapshot(engine, exports / DATES[0].isoformat(), DATES[0])
    training.retrain(engine, DATES[0], budget_name="reduced", families=["logreg"], n_jobs=1)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(exports / "{snapshot_date}"))
    yield {"engine": engine, "exports": exports}
    engine.dispose()
    server.drop_database(url)


@pytest.fixture()
def deployment(request, tmp_path):
    from etl.warehouse import server
    from job import processes
    from job.deployment import Deployment, free_port

    metadata = f"churn_test_airflow_{uuid.uuid4().hex[:8]}"
    running = Deployment(
        home=tmp_path / "airflow", executor=request.param, metadata_database=metadata, port=free_port(),
        extra_env={"AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10"},
    )
    pids: dict[str, int] = {}
    try:
        pids.update(running.start())
        yield running
    finally:
        running.stop()
        left = [name for name, pid in pids.items() if processes.group_alive(pid)]
        for database in (metadata, f"{metadata}_celery"):
            server.drop_database(server.create_database(database, exist_ok=True))
        assert not left, f"still running after stop: {left}"


def _scored(engine) -> dict[dt.date, tuple[int, dt.datetime]]:
    from tests.helpers import rows

    found = rows(engine, "SELECT score_date, count(*) AS n, max(scored_at) AS at FROM scoring.churn_scores GROUP BY 1")
    return {row["score_date"]: (row["n"], row["at"]) for row in found}


def _active(engine, day: dt.date) -> int:
    from tests.helpers import rows

    return rows(engine, "SELECT count(*) AS n FROM features.model_input WHERE snapshot_date = :d", d=day)[0]["n"]


def _settled(api: AirflowApi, dag_id: str, expected_runs: int) -> list[dict] | None:
    """The DAG's runs once none is queued or running and there are `expected_runs` finished ones;
    fails at once naming a failed run."""
    waiting = dag_id == "churn_ingest"  # its scheduled latest night waits for an export that never comes
    runs = [run for run in api.runs(dag_id) if not (waiting and run["run_type"] == "scheduled")]
    failed = [run["dag_run_id"] for run in runs if run["state"] == "failed"]
    assert not failed, f"{dag_id} runs failed: {failed}"
    done = [run for run in runs if run["state"] == "success"]
    busy = [run for run in runs if run["state"] in ("queued", "running")]
    return done if len(done) >= expected_runs and not busy else None


@pytest.mark.parametrize("deployment", ["LocalExecutor", "CeleryExecutor"], indirect=True)
def test_a_backfill_scores_each_night_once_and_a_republished_night_is_rescored(warehouse, deployment):
    from etl import synth

    engine, api = warehouse["engine"], AirflowApi(deployment)
    dags = wait_for(lambda: len(found := api.dags()) == 3 and found, 120, "the three DAGs appear in the API")
    assert all(dag["is_paused"] for dag in dags.values())  # nothing runs before a person unpauses it
    for dag_id in dags:  # each DAG shows its schedule semantics in the UI
        assert "**" in api.get(f"/api/v2/dags/{dag_id}/details")["doc_md"], dag_id
    with urllib.request.urlopen(deployment.url + "/", timeout=30) as ui:
        assert ui.status == 200 and b"<html" in ui.read().lower()
    for dag_id in dags:
        api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})

    api.backfill("churn_ingest", "2026-11-27T00:00:00Z", "2026-11-29T23:00:00Z", max_active_runs=3)
    ingest_runs = wait_for(lambda: _settled(api, "churn_ingest", 3), RUNS_SETTLE_SECONDS, "three ingest runs")
    assert sorted(run["logical_date"][:10] for run in ingest_runs) == [day.isoformat() for day in DATES]
    wait_for(lambda: set(_scored(engine)) == set(DATES) and _settled(api, "churn_score", 1), RUNS_SETTLE_SECONDS,
             "the three nights scored")
    scored = _scored(engine)
    assert set(scored) == set(DATES)  # no night skipped, however Airflow merged the Asset events
    retrain_runs = wait_for(lambda: _settled(api, "churn_retrain", 1), 120, "the retrain runs settle")
    for run in retrain_runs:  # the champion is of this month: retraining skips, saying so
        due = api.get(f"/api/v2/dags/churn_retrain/dagRuns/{run['dag_run_id']}/taskInstances/retrain_due")
        assert due["state"] == "skipped"
    assert {day: n for day, (n, _) in scored.items()} == {day: _active(engine, day) for day in DATES}

    # Unpausing started the latest night too: its export is not there, so it waits, deferred.
    (latest,) = [run for run in api.runs("churn_ingest") if run["run_type"] == "scheduled"]
    wait_state = api.get(f"/api/v2/dags/churn_ingest/dagRuns/{latest['dag_run_id']}/taskInstances/wait_for_export")["state"]
    assert wait_state == "deferred"

    # Re-publish 2026-11-28 from a new export: that night, and only it, is rescored with it.
    synth.generate_snapshot(warehouse["exports"] / "2026-11-28", customers=CUSTOMERS + 50, seed=99)
    before = len(api.runs("churn_score"))
    wait_for(lambda: api.backfills_done("churn_ingest"), 60, "the first backfill is marked complete")
    api.backfill("churn_ingest", "2026-11-28T00:00:00Z", "2026-11-28T23:00:00Z", reprocess_behavior="completed")
    wait_for(lambda: _settled(api, "churn_score", before + 1) and _scored(engine)[DATES[1]][1] > scored[DATES[1]][1],
             RUNS_SETTLE_SECONDS, "2026-11-28 rescored")
    rescored = _scored(engine)
    assert rescored[DATES[1]][0] == _active(engine, DATES[1]) != scored[DATES[1]][0]
    assert {day: rescored[day] for day in (DATES[0], DATES[2])} == {day: scored[day] for day in (DATES[0], DATES[2])}


def test_every_component_gets_the_same_ports_secrets_and_a_postgres_metadata_database(tmp_path):
    """What the deployment's components are started with (no process started here)."""
    import stat

    import sqlalchemy as sa

    from etl.warehouse import server
    from job.deployment import Deployment

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
    listening = {port, first["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"], first["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"]}
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
