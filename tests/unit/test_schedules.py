"""The schedule semantics the DAG docs promise: ingest at 02:00 UTC after waiting for the export,
retraining only after ingest (on the features Asset), scoring on features or a new champion, a
deadline on the nightly path (no database, no Airflow metadata)."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from job.orchestration.assets import CHAMPION_MODEL, CUSTOMER_FEATURES
from tests.helpers import load_dag

pytestmark = pytest.mark.unit


def _asset_names(timetable) -> set[str]:
    return (
        {asset.name for asset in timetable.asset_condition.objects}
        if hasattr(timetable.asset_condition, "objects")
        else {timetable.asset_condition.name}
    )


def test_ingest_runs_nightly_at_two_for_the_night_of_its_logical_date():
    from airflow.serialization.encoders import coerce_to_core_timetable

    dag = load_dag("churn_ingest")
    after = pendulum.datetime(2026, 11, 27, 12, tz="UTC")
    timetable = coerce_to_core_timetable(dag.timetable)  # the DAG file declares it from airflow.sdk
    nxt = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=_unrestricted(after))
    assert nxt.logical_date == pendulum.datetime(2026, 11, 28, 2, tz="UTC")
    assert nxt.run_after == nxt.logical_date  # a cron trigger: the run for D starts at D 02:00
    assert dag.catchup is False  # unpausing runs only the latest snapshot date


def test_ingest_waits_for_the_export_first_deferred_and_retried_only_when_killed():
    dag = load_dag("churn_ingest")
    wait = dag.task_dict["wait_for_export"]
    assert not wait.upstream_task_ids and dag.task_dict["load_raw"].upstream_task_ids == {"wait_for_export"}
    # a process killed while it starts or resumes (a crash) is retried; a timeout fails once,
    # clearly (AirflowFailException: test_export_wait), since the wait itself is the retry
    assert wait.retries == dag.default_args["retries"] > 0
    assert wait.wait_timeout < wait.execution_timeout
    assert dt.timedelta(0) < wait.poke_interval < wait.wait_timeout


def test_retraining_follows_ingest_and_scoring_follows_features_or_a_new_champion():
    retrain, score = load_dag("churn_retrain"), load_dag("churn_score")
    assert _asset_names(retrain.timetable) == {CUSTOMER_FEATURES.name}
    assert _asset_names(score.timetable) == {CUSTOMER_FEATURES.name, CHAMPION_MODEL.name}
    assert [a.name for a in retrain.task_dict["announce_champion"].outlets] == [CHAMPION_MODEL.name]


@pytest.mark.parametrize(
    ("dag_id", "reference"), [("churn_ingest", "DagRunLogicalDateDeadline"), ("churn_score", "DagRunQueuedAtDeadline")]
)
def test_the_nightly_path_has_a_deadline_that_alerts(dag_id, reference, monkeypatch):
    monkeypatch.setenv("CHURN_DEADLINES", "on")  # as under a scheduler (job/deployment/stack.py)
    (alert,) = load_dag(dag_id).deadline
    assert type(alert.reference).__name__ == reference
    assert alert.interval <= dt.timedelta(hours=5)
    assert alert.callback.path == "job.orchestration.alerts.deadline_missed"


def _unrestricted(after):
    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=after, latest=None, catchup=True)


def test_deadlines_are_off_where_no_scheduler_runs(monkeypatch):
    monkeypatch.setenv("CHURN_DEADLINES", "off")  # `make run`, dag.test() (job/orchestration/alerts.py says why)
    assert not load_dag("churn_ingest").deadline
