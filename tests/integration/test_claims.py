"""Overlapping runs: one run per pipeline and date at a time, the other refused with a message
naming the holder; runs of different dates go on side by side. Nothing is lost or duplicated
(layer checksums equal those of a clean run), nothing deadlocks (every process ends in time).

Runs in the scoring chain's database (it has a champion) on dates before the chain's snapshot,
so the newest scores the mart tests read stay the chain's.
"""

from __future__ import annotations

import datetime as dt

import pytest

from etl.ops import claims
from etl.ops.checksums import layer_checksums
from job import pipelines
from tests.integration.run_step import release
from tests.integration.scoring_chain import _chain_warehouse, chain, engine  # noqa: F401 (fixtures)

SNAPSHOT = dt.date(2026, 6, 30)
SNAPSHOT_BEFORE = dt.date(2026, 6, 29)


def _clean_run(engine, data_dir, snapshot: dt.date) -> dict:
    pipelines.execute(pipelines.INGEST, engine, snapshot, data_dir=data_dir)
    pipelines.execute(pipelines.SCORE, engine, snapshot)
    return layer_checksums(engine, snapshot)


@pytest.fixture(scope="module")
def clean(engine, real_data_dir):
    return {snapshot: _clean_run(engine, real_data_dir, snapshot) for snapshot in (SNAPSHOT_BEFORE, SNAPSHOT)}


def _race(step_server, chain, runs: list[tuple[str, dt.date, str]], data_dir) -> list[dict]:
    """The pipelines in processes of their own, released together once each is connected."""
    processes = [
        step_server.spawn(pipeline, snapshot, chain["url"], run=run, data_dir=data_dir, barrier=True, app_name=run)
        for pipeline, snapshot, run in runs
    ]
    release(processes)
    return [p.outcome(timeout=240) for p in processes]


def _assert_one_wins_or_both_in_turn(outcomes: list[dict], runs: list[str]) -> None:
    assert any(o["ok"] for o in outcomes), outcomes
    for outcome, other in zip(outcomes, reversed(runs)):
        if not outcome["ok"]:  # refused, never a wall of SQL or a half-published date
            assert outcome["error"] == "SnapshotBusy", outcome
            assert f"run {other}" in outcome["message"] and "python -m etl.ops.claims clear" in outcome["message"]


@pytest.mark.parametrize("pipeline", ["ingest", "score"])
def test_two_runs_of_one_date_at_once(pipeline, step_server, chain, engine, clean, real_data_dir):
    """One trial each: released on a barrier, both are under way within milliseconds."""
    runs = [f"race/{pipeline}-a", f"race/{pipeline}-b"]
    outcomes = _race(step_server, chain, [(pipeline, SNAPSHOT, run) for run in runs], real_data_dir)
    _assert_one_wins_or_both_in_turn(outcomes, runs)
    assert layer_checksums(engine, SNAPSHOT) == clean[SNAPSHOT]
    assert claims.list_claims(engine) == []  # the winner released, the loser never held it


def test_a_date_runs_while_the_date_before_publishes(step_server, chain, engine, clean, real_data_dir):
    outcomes = _race(
        step_server,
        chain,
        [
            ("ingest", SNAPSHOT_BEFORE, "race/ingest-before"),
            ("ingest", SNAPSHOT, "race/ingest-day"),
        ],
        real_data_dir,
    )
    assert all(o["ok"] for o in outcomes), outcomes
    outcomes = _race(
        step_server,
        chain,
        [
            ("score", SNAPSHOT_BEFORE, "race/score-before"),
            ("score", SNAPSHOT, "race/score-day"),
        ],
        real_data_dir,
    )
    assert all(o["ok"] for o in outcomes), outcomes
    for snapshot in (SNAPSHOT_BEFORE, SNAPSHOT):
        assert layer_checksums(engine, snapshot) == clean[snapshot]


def test_a_claim_belongs_to_one_run_until_released_expired_or_cleared(engine):
    snapshot = dt.date(2026, 6, 1)
    with engine.begin() as conn:
        claims.hold(conn, "ingest", snapshot, "dag/run-a", "load_raw")
    for intruder in ("dag/run-b", None):
        with pytest.raises(claims.SnapshotBusy) as refused, engine.begin() as conn:
            claims.hold(conn, "ingest", snapshot, intruder, "build_staging")
        assert "run dag/run-a (step load_raw" in str(refused.value)
        assert f"python -m etl.ops.claims clear ingest {snapshot}" in str(refused.value)
    with engine.begin() as conn:  # the same run's retry goes on, and the score pipeline is another lock
        claims.hold(conn, "ingest", snapshot, "dag/run-a", "build_staging")
        claims.hold(conn, "score", snapshot, "dag/run-b", "score")
    with engine.begin() as conn:
        claims.release(conn, "ingest", snapshot, "dag/run-a")
        claims.hold(conn, "ingest", snapshot, "dag/run-b", "load_raw")
    with engine.begin() as conn:  # a killed run's claim expires
        conn.exec_driver_sql("UPDATE ops.snapshot_claims SET expires_at = now() - interval '1 second'")
        claims.hold(conn, "ingest", snapshot, "dag/run-c", "load_raw")
    assert [c["run_id"] for c in claims.list_claims(engine) if c["pipeline"] == "ingest"] == ["dag/run-c"]
    assert [c["pipeline"] for c in claims.release_run(engine, "dag/run-b")] == ["score"]
    assert [c["run_id"] for c in claims.clear(engine, "ingest", snapshot)] == ["dag/run-c"]
    assert claims.list_claims(engine) == []


def _hold_and_die(engine, snapshot_date: dt.date, run: str, *, whole_run: bool) -> None:
    """A process that claims the date for `run` and ends without releasing it (a kill -9)."""
    import subprocess
    import sys

    from tests.helpers import ROOT

    code = (
        "import datetime as dt, os\n"
        "from etl.ops import claims\n"
        "from etl.warehouse import db\n"
        f"engine = db.get_engine({engine.url.render_as_string(hide_password=False)!r})\n"
        f"with (claims.whole_run() if {whole_run} else open(os.devnull)), engine.begin() as conn:\n"
        f"    claims.hold(conn, 'ingest', dt.date.fromisoformat({snapshot_date.isoformat()!r}), {run!r}, 'load_raw')\n"
        "os._exit(0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_claim_left_by_a_dead_whole_run_process_is_taken_over_at_once_and_only_that(engine, caplog):
    """make run or the CLI killed (OOM, reboot): the next run of the date goes on at once. A
    scheduler task's claim is not taken over when its process ends (the run goes on in its next
    task), and a whole-run holder that is alive still blocks."""
    import logging

    snapshot_date = dt.date(2026, 6, 2)
    _hold_and_die(engine, snapshot_date, "make-run/killed", whole_run=True)
    with caplog.at_level(logging.WARNING, logger=claims.__name__), engine.begin() as conn:
        claims.hold(conn, "ingest", snapshot_date, "make-run/next", "load_raw")
    assert "taking over the claim of run make-run/killed on ingest 2026-06-02" in caplog.text
    with claims.whole_run(), engine.begin() as conn:  # the holder is now this live process
        claims.hold(conn, "ingest", snapshot_date, "make-run/next", "build_staging")
    with pytest.raises(claims.SnapshotBusy), engine.begin() as conn:
        claims.hold(conn, "ingest", snapshot_date, "make-run/third", "load_raw")
    claims.release_run(engine, "make-run/next")

    _hold_and_die(engine, snapshot_date, "churn_ingest/scheduled__2026-06-02", whole_run=False)
    with pytest.raises(claims.SnapshotBusy, match="scheduled__2026-06-02"), engine.begin() as conn:
        claims.hold(conn, "ingest", snapshot_date, "make-run/next", "load_raw")
    # Under Airflow a step asks the holder run's state (job/orchestration/runtime.run_state): a
    # run still running blocks; one Airflow reports finished gives its claim up at once.
    states = {"churn_ingest/scheduled__2026-06-02": "running"}
    with claims.asking_run_state(states.get), pytest.raises(claims.SnapshotBusy), engine.begin() as conn:
        claims.hold(conn, "ingest", snapshot_date, "churn_ingest/manual__next", "load_raw")
    states["churn_ingest/scheduled__2026-06-02"] = "failed"
    with caplog.at_level(logging.WARNING, logger=claims.__name__), claims.asking_run_state(states.get):
        with engine.begin() as conn:
            claims.hold(conn, "ingest", snapshot_date, "churn_ingest/manual__next", "load_raw")
    assert "claim of run churn_ingest/scheduled__2026-06-02 on ingest 2026-06-02: Airflow reports that run failed" in (
        caplog.text
    )
    claims.release_run(engine, "churn_ingest/manual__next")
