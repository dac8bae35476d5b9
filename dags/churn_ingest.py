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

import datetime as dt

from airflow.sdk import Param, dag, task

from job import runtime
from job.assets import CUSTOMER_FEATURES


@dag(
    dag_id="churn_ingest",
    schedule="@daily",
    default_args=runtime.default_args(retries=2, execution_timeout=dt.timedelta(hours=1)),
    params={"snapshot_date": Param(None, type=["null", "string"], format="date")},
    tags=["churn", "ingest"],
    doc_md=__doc__,
    **runtime.DAG_SETTINGS,
)
def churn_ingest():
    @task
    def load_raw(**context) -> dt.date:
        """The run's snapshot (runtime.snapshot_date) is resolved here, once, and handed on."""
        from etl import ingest
        from etl.warehouse import db

        with runtime.retry_only_transient():
            snapshot = runtime.snapshot_date(context)
            ingest.load_raw(db.get_engine(), runtime.data_dir_for(snapshot), snapshot, runtime.run_label(context))
        return snapshot

    snapshot = load_raw()
    for step, doc in (
        ("validate_raw", "GX gate on the snapshot's raw partitions (expectations/raw.*.json)."),
        ("build_staging", "The snapshot's cleaned staging tables (sql/staging)."),
        ("build_features", "The snapshot's features, staged: not yet visible to training or scoring."),
        ("validate_features", "GX gate on the staged features; nothing is published when it fails."),
    ):
        snapshot = runtime.snapshot_task(f"etl.ingest:{step}", doc=doc)(snapshot)
    runtime.snapshot_task(
        "etl.ingest:publish_features", outlet=CUSTOMER_FEATURES,
        doc="Publish the audited staged features; the Asset event makes `churn_score` score this snapshot.",
    )(snapshot)


churn_ingest()
