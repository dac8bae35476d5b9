"""Which failures Airflow may retry: only those a retry can heal."""

from __future__ import annotations

import datetime as dt

import psycopg2
import pytest
import sqlalchemy as sa
from airflow.sdk.exceptions import AirflowFailException

from etl.ingest.loader import LoadError
from etl.ops import claims
from etl.ops.batches import PublishRefused
from etl.warehouse import db, settings
from job.orchestration import runtime
from ml.registry import ArtifactIntegrityError, NoChampionError


def _lost_connection() -> sa.exc.OperationalError:
    return sa.exc.OperationalError(
        "SELECT 1", {}, psycopg2.OperationalError("server closed the connection unexpectedly")
    )


def _wrapped(error: Exception) -> Exception:
    try:
        try:
            raise error
        except Exception as inner:
            raise RuntimeError("step failed") from inner
    except RuntimeError as outer:
        return outer


TRANSIENT = {
    "connection lost": _lost_connection(),
    "connection lost, wrapped": _wrapped(_lost_connection()),
    "connection refused": psycopg2.OperationalError("connection to server failed: Connection refused"),
    "date busy": claims.SnapshotBusy("held by run x"),
}
PERMANENT = {
    "bad file": LoadError("money.csv", "value is not a number", column="Прибыль", lines=[3]),
    "tampered artifact": ArtifactIntegrityError("sha256 differs"),
    "no champion": NoChampionError("no champion"),
    "refused publish": PublishRefused("not gated"),
    "bad value in SQL": sa.exc.DataError("INSERT", {}, psycopg2.DataError("out of range")),
    "missing snapshot": LookupError("no active customers for 2026-11-27"),
    "bad setting": settings.ConfigError("SNAPSHOT_DATE='x' is not a date"),
}


@pytest.mark.parametrize("name", sorted(TRANSIENT))
def test_transient_failures_go_to_airflow_retries(name):
    assert db.is_transient(TRANSIENT[name])
    with pytest.raises(type(TRANSIENT[name])):
        with runtime.retry_only_transient():
            raise TRANSIENT[name]


@pytest.mark.parametrize("name", sorted(PERMANENT))
def test_other_failures_fail_at_once_with_their_message(name):
    error = PERMANENT[name]
    assert not db.is_transient(error)
    with pytest.raises(AirflowFailException) as failed:
        with runtime.retry_only_transient():
            raise error
    assert str(error) in str(failed.value) and failed.value.__cause__ is error


def _missing_table() -> sa.exc.ProgrammingError:
    from psycopg2 import errors as pg_errors

    return sa.exc.ProgrammingError(
        "SELECT * FROM ops.newer_table", {}, pg_errors.UndefinedTable('relation "ops.newer_table" does not exist')
    )


def test_a_missing_table_on_a_warehouse_behind_this_code_says_to_run_churn_migrate(monkeypatch):
    """New code deployed, `churn migrate` not run: the task says what to run, not just the SQL error."""

    def behind(_engine):
        raise db.NotMigrated(
            "the warehouse 'churn' is at schema revision 0001; this code needs revision 0002. Run `churn migrate`"
        )

    monkeypatch.setattr(db, "get_engine", lambda url=None: object())
    monkeypatch.setattr(db, "check_migrated", behind)
    error = _missing_table()
    assert db.names_missing_object(_wrapped(error)) and not db.is_transient(error)
    with pytest.raises(AirflowFailException, match=r"NotMigrated: .*Run `churn migrate`.*newer_table") as failed:
        with runtime.retry_only_transient():
            raise error
    assert failed.value.__cause__ is error


def test_a_missing_table_on_a_warehouse_at_head_fails_with_its_own_message(monkeypatch):
    monkeypatch.setattr(db, "get_engine", lambda url=None: object())
    monkeypatch.setattr(db, "check_migrated", lambda _engine: "0002")
    error = _missing_table()
    with pytest.raises(AirflowFailException, match="ProgrammingError: .*newer_table") as failed:
        with runtime.retry_only_transient():
            raise error
    assert "NotMigrated" not in str(failed.value)
    assert not db.names_missing_object(PERMANENT["bad value in SQL"])


def test_a_task_deciding_to_skip_is_skipped_not_failed():
    from airflow.sdk.exceptions import AirflowSkipException

    with pytest.raises(AirflowSkipException, match="champion stays"):
        with runtime.retry_only_transient():
            raise AirflowSkipException("not the first snapshot of its month, the champion stays")


def test_the_snapshot_comes_from_params_events_or_the_logical_date():
    class Event:
        extra = {"snapshot_date": "2026-11-27"}

    assert runtime.snapshot_date({"params": {"snapshot_date": "2026-11-26"}}) == dt.date(2026, 11, 26)
    assert runtime.snapshot_date({"triggering_asset_events": {"a": [Event()]}}) == dt.date(2026, 11, 27)
    assert runtime.snapshot_date({"logical_date": dt.datetime(2026, 11, 28, 3)}) == dt.date(2026, 11, 28)
    with pytest.raises(LookupError, match="no snapshot date"):
        runtime.snapshot_date({})
    assert runtime.snapshot_date({}, default=dt.date(2026, 11, 30)) == dt.date(2026, 11, 30)
    assert runtime.snapshot_date(
        {"logical_date": dt.datetime(2026, 11, 28, 3)}, default=dt.date(2026, 11, 30)
    ) == dt.date(2026, 11, 28)
    import pendulum

    plain = runtime.snapshot_date({"logical_date": pendulum.datetime(2026, 11, 28, 3)})
    assert type(plain) is dt.date  # a plain date travels through XCom and SQL alike
    with pytest.raises(settings.ConfigError, match=r"params.snapshot_date='garbage' is not a date"):
        runtime.snapshot_date({"params": {"snapshot_date": "garbage"}})


def test_a_burst_of_merged_events_resolves_to_its_newest_snapshot():
    class Event:
        def __init__(self, snapshot_date: str | None) -> None:
            self.extra = {"snapshot_date": snapshot_date} if snapshot_date else {}

    burst = {
        "features": [Event("2026-11-28"), Event("2026-11-27"), Event("2026-11-29"), Event("2026-11-27")],
        "other": [Event(None)],
    }  # a backfill of three dates coalesced into one run, one re-published
    context = {"triggering_asset_events": burst, "logical_date": None}
    assert runtime.snapshot_date(context) == dt.date(2026, 11, 29)
    # a pinned date wins over the events
    assert runtime.snapshot_date({**context, "params": {"snapshot_date": "2026-11-01"}}) == dt.date(2026, 11, 1)


def test_a_bad_snapshot_date_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("SNAPSHOT_DATE", "garbage")
    with pytest.raises(settings.ConfigError, match=r"^SNAPSHOT_DATE='garbage' is not a date: use YYYY-MM-DD"):
        settings.snapshot_date_from_env()


def test_the_state_of_another_claims_run_is_asked_of_airflow_and_unknown_when_it_cannot_say():
    """etl.ops.claims takes a claim over when this says its run finished; None keeps the claim."""
    from airflow.sdk.api.datamodels._generated import DagRunState

    class Ti:
        asked: list[tuple[str, str]] = []

        def get_dagrun_state(self, dag_id: str, run_id: str) -> DagRunState:
            self.asked.append((dag_id, run_id))
            if run_id == "gone":
                raise RuntimeError("API unreachable")
            return DagRunState.FAILED  # what the Task SDK answers: an enum whose str() is "DagRunState.FAILED"

    state = runtime.run_state({"ti": Ti()})
    assert state("churn_ingest/backfill__2026-11-27T00:00:00+00:00") == "failed"
    assert Ti.asked == [("churn_ingest", "backfill__2026-11-27T00:00:00+00:00")]
    assert state("churn_ingest/gone") is None
    assert state(claims.script_run_id()) is None and state("no-slash") is None
    assert len(Ti.asked) == 2  # a script's run is never asked about
