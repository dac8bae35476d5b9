"""Glue between Airflow task context and the plain functions in etl/ and ml/.

Kept light (no pandas, SQLAlchemy or GX at import): DAG files import it at parse time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any, Iterator, Mapping

import pendulum

log = logging.getLogger(__name__)

# What every DAG of the job shares; each DAG file adds its schedule, params and docs.
DAG_SETTINGS: dict[str, Any] = {
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "max_active_runs": 1,
}


# Retries are taken only by transient failures (retry_only_transient): a lost connection, a
# restarting server, a busy date, a task whose worker died. They heal in seconds to a minute, so
# the first retry comes after 30 s, the next after 60 s (at most 5 min): a crashed night is done
# within minutes of the restart instead of waiting Airflow's default 5 min before each retry.
RETRY_DELAY = dt.timedelta(seconds=30)
RETRY_BACKOFF = 2.0
MAX_RETRY_DELAY = dt.timedelta(minutes=5)


def default_args(retries: int, execution_timeout: dt.timedelta, **more: Any) -> dict[str, Any]:
    """Task defaults: retries with backoff (above), a timeout for every task (a hung task fails
    instead of holding its date), and the failure callbacks: give up the run's snapshot claims,
    then alert (job/orchestration/alerts.py)."""
    return {
        "owner": "data-engineering",
        "retries": retries,
        "execution_timeout": execution_timeout,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": RETRY_BACKOFF,
        "max_retry_delay": MAX_RETRY_DELAY,
        "on_failure_callback": [release_claims, notify_failure],
        **more,
    }


def notify_failure(context: Mapping[str, Any]) -> None:
    """Failure callback: the alert of job/orchestration/alerts.py (imported when a task fails, not at parse)."""
    from job.orchestration import alerts

    alerts.notify_failure(context)


def snapshot_date(context: Mapping[str, Any], default: dt.date | None = None) -> dt.date:
    """The run's snapshot date, the one resolver of all three DAGs: the `snapshot_date` param if
    given; else the newest date the triggering Asset events carry (events that arrive while a
    run is queued are merged into it); else the logical date; else `default` (LookupError when
    there is none). Which snapshots churn_score must score, the warehouse says
    (ml.scoring.snapshots_to_score), not the events."""
    from etl.warehouse import settings

    params = context.get("params") or {}
    if params.get("snapshot_date"):
        return settings.parse_date(params["snapshot_date"], "params.snapshot_date")
    carried = {
        settings.parse_date(value, "the asset event's snapshot_date")
        for events in (context.get("triggering_asset_events") or {}).values()
        for event in events
        if (value := (event.extra or {}).get("snapshot_date"))
    }
    if carried:
        return max(carried)
    logical = context.get("logical_date")
    if logical is not None:
        return dt.date(logical.year, logical.month, logical.day)  # a plain date, not pendulum's
    if default is not None:
        return default
    raise LookupError("no snapshot date: pass params.snapshot_date or run with a logical date")


def run_label(context: Mapping[str, Any]) -> str:
    """`dag_id/run_id`: the run that claims a snapshot date (etl/ops/claims.py) and is named when
    another run is refused."""
    return f"{context['ti'].dag_id}/{context['run_id']}"


def run_state(context: Mapping[str, Any]):
    """What a step asks Airflow when another run claims its date (etl.ops.claims.asking_run_state):
    that run's state by its label `dag_id/run_id`, None when it is no Airflow run or the API
    cannot say (the claim then stands until it expires)."""
    ti = context["ti"]

    def state(label: str) -> str | None:
        dag_id, separator, run_id = label.partition("/")
        if not separator or dag_id == "script":
            return None
        try:
            found = ti.get_dagrun_state(dag_id, run_id)  # the SDK's DagRunState: str() names the member
        except Exception as error:  # an unknown run or an unreachable API says nothing either way
            log.info("could not ask Airflow the state of run %s: %s", label, error)
            return None
        return str(getattr(found, "value", found))

    return state


@contextlib.contextmanager
def retry_only_transient() -> Iterator[None]:
    """Let a failure a retry can heal (etl.warehouse.db.is_transient) go to Airflow's retries; fail any
    other at once (AirflowFailException), so bad data or a tampered model never looks hung. A
    task's own decision (fail now, skip) passes through as it is."""
    try:
        yield
    except Exception as error:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from etl.warehouse import db

        if isinstance(error, (AirflowFailException, AirflowSkipException)) or db.is_transient(error):
            raise
        if db.names_missing_object(error):
            fail_if_not_migrated(error)
        raise AirflowFailException(f"{type(error).__name__}: {error}") from error


def fail_if_not_migrated(error: BaseException) -> None:
    """A table or column the warehouse lacks usually means it is behind this code's schema
    revision (new code deployed, `churn migrate` not run): say that instead of the bare error."""
    from airflow.sdk.exceptions import AirflowFailException

    from etl.warehouse import db

    try:
        db.check_migrated(db.get_engine())
    except db.NotMigrated as behind:
        raise AirflowFailException(f"NotMigrated: {behind} ({type(error).__name__}: {error})") from error
    except Exception:  # the check failing too says nothing new: the task's own error follows
        log.debug("could not check the warehouse's schema revision", exc_info=True)


def release_claims(context: Mapping[str, Any]) -> None:
    """Failure callback: a run that failed for good gives up its snapshot claims, so the next
    run of its date does not wait for the claim to expire."""
    from etl.ops import claims
    from etl.warehouse import db

    run = run_label(context)
    try:
        released = claims.release_run(db.get_engine(), run)
    except Exception as error:  # a callback must not hide the task's own failure
        log.warning("could not release the snapshot claims of %s: %s", run, error)
        return
    if released:
        log.info("released the snapshot claims of %s: %s", run, released)
