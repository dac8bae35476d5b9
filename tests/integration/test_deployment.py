"""The real deployment (job/deployment/stack.py, `make airflow`), driven as a data engineer would,
with the faults a night meets in production (etl/ops/README.md, "What happens when something goes
wrong").

`AIRFLOW__CORE__EXECUTOR=CeleryExecutor make airflow` (the compose stack's executor) started as a
person starts it (checkout.py), with the run's champion seeded as one of the dates' month (so
churn_retrain is not due), then in order:
- a backfill of three snapshot dates at once, during which every process of make airflow is
  SIGKILLed (a host crash) and `make airflow` started again from the same home: each date is
  scored once with its active customers, the killed task retried, the publishes of three dates
  at once never deadlocked (no retry);
- a re-published snapshot date is rescored with its new export, and only it, while its date is
  still claimed by a run Airflow reports finished, the scheduler is SIGKILLed, the warehouse
  server restarts as a task writes and the Celery worker is SIGKILLed mid-shard;
- a dag-processor killed is started again and `make airflow-status` counts every restart;
- `make airflow-stop` from another shell ends `make airflow` and nothing is left running.
After each fault the nights' published rows equal a clean rerun's (etl/ops/checksums.py), no run
failed and no claim is left. The task heartbeat timeout is 30 s here (90 s by default) to keep the
suite in its budget; `make soak` measures healing with the defaults. (The LocalExecutor, `make
airflow`'s default, scores a snapshot date and stops on Ctrl-C in test_readme_commands.py.) And
what every component is started with.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from etl.ops.checksums import layer_checksums
from job.deployment import processes
from job.deployment.client import wait_for
from tests.helpers import ROOT, rows
from tests.integration import checkout as person
from tests.integration.champion import seed_champion

DATES = [dt.date(2026, 11, 27), dt.date(2026, 11, 28), dt.date(2026, 11, 29)]
CUSTOMERS = 300
HEARTBEAT_TIMEOUT_SECONDS = 30
EARLY_TASKS = {"load_raw", "validate_raw"}  # a crash then hits no publish
INGEST_TASKS = {"load_raw", "validate_raw", "build_staging", "build_features", "validate_features", "publish_features"}


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
    tests below run in order on it, the first starts it again after a crash, the last stops it."""
    from etl import synth
    from job.deployment.stack import free_port

    for seed, snapshot_date in enumerate(DATES):
        synth.generate_snapshot(checkout["exports"] / snapshot_date.isoformat(), customers=CUSTOMERS, seed=20 + seed)
    # a port of its own (README: AIRFLOW_PORT): test_readme_commands' make airflow may be starting on the default
    env = {
        **checkout["env"],
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_SECONDS),
    }
    state = {"env": env, "logs": tmp_path_factory.mktemp("celery"), "scored": {}}
    _start(checkout, state)
    try:
        assert "(CeleryExecutor" in state["log"].read_text()
        dags = state["api"].dags()
        assert all(dag["is_paused"] for dag in dags.values())  # nothing runs before a person unpauses it
        for dag_id in dags:
            state["api"].patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
        yield state
    finally:
        person.kill_session(state["make"])


def _start(checkout, state: dict) -> None:
    """`make airflow > log 2>&1 &` (a new log each time), until its UI line and the three DAGs."""
    state["log"] = log = state["logs"] / f"make-airflow-{len(list(state['logs'].iterdir()))}.log"
    state["make"] = make = person.make_in_background(state["env"], log, "airflow")
    try:
        api = state["api"] = person.started(checkout, log, make)
        wait_for(lambda: len(api.dags()) == 3, 120, "the three DAGs appear in the API")
    except BaseException:
        person.kill_session(make)
        raise


def _pids(checkout) -> dict[str, int]:
    return json.loads((checkout["local"] / "deployment" / "deployment.json").read_text())["pids"]


def _kill(checkout, *names: str) -> None:
    """SIGKILL the process groups of the components `names` (every component when none named)."""
    for name, pid in _pids(checkout).items():
        if not names or name in names:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _running(api, dag_id: str, task_ids: set[str]) -> list[dict]:
    return [ti for ti in api.task_instances(dag_id, state="running") if ti["task_id"] in task_ids]


def _try_number(api, ti: dict) -> int:
    path = f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}"
    return api.get(path + (f"/{ti['map_index']}" if ti["map_index"] >= 0 else ""))["try_number"]


def _writing(engine) -> bool:
    """Whether a session other than this test's is in a statement or a transaction on the warehouse."""
    query = (
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
    )
    return rows(engine, query)[0]["n"] > 0


def _assert_as_a_clean_run(checkout, snapshot_dates: list[dt.date]) -> None:
    """No claim left, and each date's published rows exactly those of a clean rerun of the date,
    in-process, on the same export."""
    from etl.ops import claims
    from job import pipelines

    engine = checkout["engine"]
    assert claims.list_claims(engine) == []
    for snapshot_date in snapshot_dates:
        after_faults = layer_checksums(engine, snapshot_date)
        pipelines.execute(pipelines.INGEST, engine, snapshot_date, data_dir=checkout["exports"] / str(snapshot_date))
        pipelines.execute(pipelines.SCORE, engine, snapshot_date)
        assert layer_checksums(engine, snapshot_date) == after_faults, snapshot_date


def test_a_backfill_of_three_nights_survives_a_crash_and_scores_each_night_once(checkout, celery):
    """Every process of make airflow SIGKILLed while the backfill's first tasks run, then `make
    airflow` started again from the same home: the nights finish with no manual step."""
    engine, api = checkout["engine"], celery["api"]
    api.backfill("churn_ingest", f"{DATES[0]}T00:00:00Z", f"{DATES[-1]}T23:00:00Z", max_active_runs=3)
    [killed, *_] = wait_for(lambda: _running(api, "churn_ingest", EARLY_TASKS), 240, "the backfill's first tasks", 0.5)
    killed_groups = _pids(checkout)
    person.kill_session(celery["make"])  # make airflow first, or it would start the components again
    _kill(checkout)
    person.wait_until_ended(celery["make"], 60)
    wait_for(lambda: not any(map(processes.group_alive, killed_groups.values())), 30, "every component gone")
    _start(checkout, celery)
    restarted_at, api = time.monotonic(), celery["api"]
    ingest_runs = wait_for(
        lambda: person.settled(api, "churn_ingest", DATES, 3), person.RUNS_SETTLE_SECONDS, "three ingest runs"
    )
    assert sorted(run["logical_date"][:10] for run in ingest_runs) == [
        snapshot_date.isoformat() for snapshot_date in DATES
    ]
    assert _try_number(api, killed) >= 2  # the task the crash killed was retried
    for run in ingest_runs:  # three dates published side by side: none deadlocked and waited for a retry
        path = f"/api/v2/dags/churn_ingest/dagRuns/{run['dag_run_id']}/taskInstances/publish_features"
        assert api.get(path)["try_number"] == 1
    wait_for(
        lambda: set(person.scored(engine)) == set(DATES) and person.settled(api, "churn_score", DATES, 1),
        person.RUNS_SETTLE_SECONDS,
        "the three snapshot dates scored",
    )
    print(f"the crashed backfill was scored {time.monotonic() - restarted_at:.0f} s after make airflow started again")
    scored = celery["scored"] = person.scored(engine)
    assert set(scored) == set(DATES)  # no date skipped, however Airflow merged the Asset events
    assert {snapshot_date: n for snapshot_date, (n, _) in scored.items()} == {
        snapshot_date: person.active(engine, snapshot_date) for snapshot_date in DATES
    }
    retrain_runs = wait_for(lambda: person.settled(api, "churn_retrain", [], 1), 120, "the retrain runs settle")
    for run in retrain_runs:  # the champion is of this month: retraining skips, saying so
        due = api.get(f"/api/v2/dags/churn_retrain/dagRuns/{run['dag_run_id']}/taskInstances/retrain_due")
        assert due["state"] == "skipped"
    _assert_as_a_clean_run(checkout, [DATES[0]])
    celery["scored"] = person.scored(engine)

    # Unpausing started the latest date's run too: its export is not there, so it waits, deferred.
    (latest,) = [run for run in api.runs("churn_ingest") if run["run_type"] == "scheduled"]
    path = f"/api/v2/dags/churn_ingest/dagRuns/{latest['dag_run_id']}/taskInstances/wait_for_export"
    assert api.get(path)["state"] == "deferred"


def _claim_of_a_finished_run(checkout, api, snapshot_date: dt.date) -> str:
    """The date's scoring claim left by the backfill's first churn_score run, which Airflow reports
    finished (as if killed at its publish, its failure callback lost); held on another host, so
    only Airflow's word can release it before it expires in 30 min."""
    finished = [run for run in person.runs(api, "churn_score", []) if run["state"] == "success"]
    label = f"churn_score/{finished[0]['dag_run_id']}"
    with checkout["engine"].begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ops.snapshot_claims (pipeline, snapshot_date, run_id, step, holder, holder_is_run, "
            "expires_at) VALUES ('score', %(d)s, %(run)s, 'publish', 'elsewhere:1:1', false, "
            "now() + interval '30 minutes')",
            {"d": snapshot_date, "run": label},
        )
    return label


def _restart_the_warehouse_while_a_task_writes(api, engine, env: dict[str, str]) -> None:
    """`python -m etl.warehouse.server restart` (`-m fast`: connections cut) at a moment a
    churn_ingest task runs and a session other than this test's is in a statement."""
    deadline = time.monotonic() + 240
    while not (_writing(engine) and _running(api, "churn_ingest", INGEST_TASKS)):
        assert time.monotonic() < deadline, f"no ingest task seen writing: {api.task_instances('churn_ingest')}"
        time.sleep(0.1)
    restarted = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "etl.warehouse.server", "restart"],
        **{"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 120},
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]


def test_a_republished_night_is_rescored_through_a_stale_claim_and_three_faults(checkout, celery):
    """Only that night is rescored, with its new export, though a finished run's claim is left on
    it, the scheduler is killed as the re-ingest starts (make airflow starts it again), the
    warehouse restarts while a task writes, and the Celery worker is killed mid-shard."""
    from etl import synth

    engine, api, scored = checkout["engine"], celery["api"], celery["scored"]
    assert set(scored) == set(DATES), "runs after the backfill test"
    synth.generate_snapshot(checkout["exports"] / DATES[1].isoformat(), customers=CUSTOMERS + 50, seed=99)
    before = len(person.runs(api, "churn_score", DATES))
    stale = _claim_of_a_finished_run(checkout, api, DATES[1])
    wait_for(lambda: api.backfills_done("churn_ingest"), 60, "the first backfill is marked complete")
    api.backfill("churn_ingest", f"{DATES[1]}T00:00:00Z", f"{DATES[1]}T23:00:00Z", reprocess_behavior="completed")
    wait_for(
        lambda: any(run["state"] in ("queued", "running") for run in person.runs(api, "churn_ingest", [DATES[1]])),
        60,
        "the re-ingest run under way",
    )
    _kill(checkout, "scheduler")
    wait_for(lambda: "scheduler started again (restart 1)" in celery["log"].read_text(), 60, "the scheduler restart")
    _restart_the_warehouse_while_a_task_writes(api, engine, celery["env"])
    [shard, *_] = wait_for(lambda: _running(api, "churn_score", {"score_shard"}), 240, "a shard being scored", 0.5)
    _kill(checkout, "celery-worker")
    wait_for(
        lambda: (
            person.settled(api, "churn_score", DATES, before + 1)
            and person.scored(engine)[DATES[1]][1] > scored[DATES[1]][1]
        ),
        person.RUNS_SETTLE_SECONDS,
        f"{DATES[1]} rescored",
    )
    assert _try_number(api, shard) >= 2  # the killed shard was retried, not lost or scored twice
    log = celery["log"].read_text()  # the worker wedged by the server restart was started again, then the kill's
    assert "the database server restarted: celery-worker started again (restart 1)" in log, log
    assert "celery-worker started again (restart 2)" in log, log
    assert stale not in {claim["run_id"] for claim in rows(engine, "SELECT run_id FROM ops.snapshot_claims")}
    rescored = person.scored(engine)
    assert rescored[DATES[1]][0] == person.active(engine, DATES[1]) != scored[DATES[1]][0]
    untouched = (DATES[0], DATES[2])
    assert {snapshot_date: rescored[snapshot_date] for snapshot_date in untouched} == {
        snapshot_date: scored[snapshot_date] for snapshot_date in untouched
    }
    _assert_as_a_clean_run(checkout, [DATES[1]])


def test_a_component_that_dies_is_started_again_and_make_airflow_status_shows_it(checkout, celery):
    """make airflow supervises: a component killed (an OOM kill, a crash) is started again after
    its backoff, the log says so, and the deployment goes on (the stop test below stops it)."""
    state_file = checkout["local"] / "deployment" / "deployment.json"
    restart = json.loads(state_file.read_text()).get("restarts", {}).get("dag-processor", 0) + 1  # the warehouse's
    _kill(checkout, "dag-processor")  # restart may have killed it already
    wait_for(lambda: f"dag-processor started again (restart {restart})" in celery["log"].read_text(), 60, "the restart")
    assert "dag-processor stopped by itself (log: " in celery["log"].read_text()
    wait_for(
        lambda: (celery["api"].get("/api/v2/monitor/health").get("dag_processor") or {}).get("status") == "healthy",
        120,
        "the restarted dag-processor reports healthy",
    )
    status = person.make(checkout["env"], "airflow-status")
    assert status.returncode == 0, status.stdout + status.stderr
    restarts = {
        found[1]: int(found[2])
        for found in re.finditer(r"^  (\S+): running, restarted (\d+) times$", status.stdout, re.M)
    }
    assert restarts.keys() == {"scheduler", "dag-processor", "triggerer", "api-server", "celery-worker"}, status.stdout
    # the scheduler killed once (more if the warehouse restart killed it too); the worker restarted
    # after the warehouse restart, then after its kill
    assert restarts["dag-processor"] == restart and restarts["scheduler"] >= 1 and restarts["celery-worker"] >= 2


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
