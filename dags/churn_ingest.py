"""churn_ingest — nightly: the store's four CSV exports → raw → GX gate → staging → features → GX gate → publish.

Each task is a thin call into `etl.ingest`; every write is keyed by the snapshot date (the run's
logical date, or params.snapshot_date) and done in one transaction, so reruns and backfills give
the same rows. Features are staged, gated, then published (write-audit-publish);
publishing emits the Asset that triggers `churn_score`. A retry of any task after it succeeded
changes nothing.

One run per date at a time: the run claims its snapshot date at its first task; a task of
another run of the same date fails with a message naming the run that holds it (retried, as it
heals when that run ends). Only transient failures (lost connection, server restart, a busy
date) are retried; bad input, a failed gate or a refused publish fail at once.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from job.assets import CUSTOMER_FEATURES
from job.runtime import release_claims

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,  # only transient failures are retried (runtime.retry_only_transient)
    "retry_delay": timedelta(minutes=5),
    "on_failure_callback": release_claims,
}


@dag(
    dag_id="churn_ingest",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"snapshot_date": Param(None, type=["null", "string"], format="date")},
    tags=["churn", "ingest"],
    doc_md=__doc__,
)
def churn_ingest():
    @task
    def load_raw(**context) -> str:
        from etl import ingest
        from etl.warehouse import db
        from job import runtime

        with runtime.retry_only_transient():
            snapshot = runtime.snapshot_date(context)
            ingest.load_raw(db.get_engine(), runtime.data_dir_for(snapshot), snapshot, runtime.run_label(context))
        return snapshot.isoformat()

    @task
    def validate_raw(snapshot: str, **context) -> str:
        """GX gate on the snapshot's raw partitions (expectations/raw.*.json)."""
        from etl import ingest
        from etl.warehouse import db
        from job import runtime

        with runtime.retry_only_transient():
            ingest.validate_raw(db.get_engine(), runtime.as_date(snapshot), runtime.run_label(context))
        return snapshot

    @task
    def build_staging(snapshot: str, **context) -> str:
        from etl import ingest
        from etl.warehouse import db
        from job import runtime

        with runtime.retry_only_transient():
            ingest.build_staging(db.get_engine(), runtime.as_date(snapshot), runtime.run_label(context))
        return snapshot

    @task
    def build_features(snapshot: str, **context) -> str:
        from etl import ingest
        from etl.warehouse import db
        from job import runtime

        with runtime.retry_only_transient():
            ingest.build_features(db.get_engine(), runtime.as_date(snapshot), runtime.run_label(context))
        return snapshot

    @task
    def validate_features(snapshot: str, **context) -> str:
        """GX gate on the snapshot's staged features; nothing is published when it fails."""
        from etl import ingest
        from etl.warehouse import db
        from job import runtime

        with runtime.retry_only_transient():
            ingest.validate_features(db.get_engine(), runtime.as_date(snapshot), runtime.run_label(context))
        return snapshot

    @task(outlets=[CUSTOMER_FEATURES])
    def publish_features(snapshot: str, *, outlet_events=None, **context) -> str:
        """Publish the audited staged features; the Asset event makes `churn_score` score this snapshot."""
        from etl import ingest
        from etl.warehouse import db
        from job import runtime

        with runtime.retry_only_transient():
            ingest.publish_features(db.get_engine(), runtime.as_date(snapshot), runtime.run_label(context))
        outlet_events[CUSTOMER_FEATURES].extra = {"snapshot_date": snapshot}
        return snapshot

    publish_features(validate_features(build_features(build_staging(validate_raw(load_raw())))))


churn_ingest()
