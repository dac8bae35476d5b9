"""Glue between Airflow task context and the plain functions in etl/ and ml/.

Kept light (no pandas, SQLAlchemy or GX at import): DAG files import it at parse time.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import logging
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, TypeVar

import pendulum

log = logging.getLogger(__name__)
T = TypeVar("T")

# What every DAG of the job shares; each DAG file adds its schedule, params and docs.
DAG_SETTINGS: dict[str, Any] = {
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
    "catchup": False,
    "max_active_runs": 1,
}


def default_args(retries: int, execution_timeout: dt.timedelta, **more: Any) -> dict[str, Any]:
    """Task defaults: retries (taken only by transient failures, see retry_only_transient) five
    minutes apart, a timeout for every task (a hung task fails instead of holding its date), and
    the failure callbacks: give up the run's snapshot claims, then alert (job/orchestration/alerts.py)."""
    return {
        "owner": "data-engineering",
        "retries": retries,
        "execution_timeout": execution_timeout,
        "retry_delay": dt.timedelta(minutes=5),
        "on_failure_callback": [release_claims, notify_failure],
        **more,
    }


def notify_failure(context: Mapping[str, Any]) -> None:
    """Failure callback: the alert of job/orchestration/alerts.py (imported when a task fails, not at parse)."""
    from job.orchestration import alerts

    alerts.notify_failure(context)


def snapshot_task(
    step: str,
    *,
    task_id: str | None = None,
    doc: str | None = None,
    outlet: Any = None,
    extra: Callable[[dt.date, Any], dict[str, Any]] | None = None,
):
    """A task that runs the pipeline step `step` ("package:function") on the snapshot the task
    before it hands on, and hands the snapshot on.

    The step's module is imported only when the task runs, so the DAG file stays light. With an
    `outlet` (an Asset) the task emits it, its event carrying `extra(snapshot, step_result)`.
    """
    from airflow.sdk import task

    module_name, function_name = step.split(":")

    def run_snapshot_step(snapshot: dt.date, *, outlet_events=None, **context: Any) -> dt.date:
        show_snapshot(snapshot)
        result = run_step(getattr(importlib.import_module(module_name), function_name), snapshot, context)
        if outlet is not None:
            outlet_events[outlet].extra = extra(snapshot, result) if extra else {"snapshot_date": snapshot.isoformat()}
        return snapshot

    run_snapshot_step.__doc__ = doc
    return task(
        task_id=task_id or function_name, outlets=[outlet] if outlet is not None else [],
        map_index_template=SNAPSHOT_MAP_INDEX,
    )(run_snapshot_step)


SNAPSHOT_MAP_INDEX = "{{ snapshot_date }}"  # a mapped task instance is named by its snapshot


def show_snapshot(snapshot: dt.date) -> None:
    """Name this (mapped) task instance by its snapshot date in the UI and the logs."""
    from airflow.sdk import get_current_context

    get_current_context()["snapshot_date"] = snapshot.isoformat()


def run_step(step: Callable[..., T], snapshot: dt.date, context: Mapping[str, Any]) -> T:
    """Call a pipeline step as every task does: `step(engine, snapshot_date, run=…)` on the
    warehouse of WAREHOUSE_URL, as this run, with only transient failures left to retries."""
    from etl.warehouse import db

    with retry_only_transient():
        return step(db.get_engine(), snapshot, run=run_label(context))


def snapshot_date(context: Mapping[str, Any], default: dt.date | None = None) -> dt.date:
    """The run's snapshot, the one resolver of all three DAGs: the `snapshot_date` param if
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
        raise AirflowFailException(f"{type(error).__name__}: {error}") from error


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


def data_dir_for(snapshot: dt.date) -> Path:
    """`DATA_DIR`, where a `{snapshot_date}` placeholder is replaced by the ISO date."""
    from etl.warehouse import settings

    value = settings.current().DATA_DIR
    if not value:
        raise RuntimeError("DATA_DIR is not set: point it at the folder with the four CSV exports")
    return Path(value.replace("{snapshot_date}", snapshot.isoformat()))
