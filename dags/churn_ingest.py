"""churn_ingest — nightly: the store's four CSV exports → raw → GX gate → staging → features → GX gate → publish.

Each task is a thin call into `etl.ingest`; every write is keyed by the snapshot date (the run's
logical date, or params.snapshot_date) and done in one transaction, so reruns and backfills give
the same rows. Features are built as a candidate, gated, then published (write-audit-publish);
publishing emits the Asset that triggers `churn_score`.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from etl.assets import CUSTOMER_FEATURES

DEFAULT_ARGS = {"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=5)}


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
    @task(retries=0)  # bad input is not transient: fail fast, keep the previous partitions
    def load_raw(**context) -> str:
        from etl import db, ingest, runtime

        snapshot = runtime.snapshot_date(context)
        ingest.load_raw(db.get_engine(), runtime.data_dir_for(snapshot), snapshot)
        return snapshot.isoformat()

    @task(retries=0)  # a failed gate is a data problem, not transient: stop the run here
    def validate_raw(snapshot: str) -> str:
        """GX gate on the snapshot's raw partitions (expectations/raw.*.json)."""
        import datetime as dt

        from etl import db, quality

        quality.validate(db.get_engine(), "raw", dt.date.fromisoformat(snapshot))
        return snapshot

    @task
    def build_staging(snapshot: str) -> str:
        import datetime as dt

        from etl import db, ingest

        ingest.build_staging(db.get_engine(), dt.date.fromisoformat(snapshot))
        return snapshot

    @task
    def build_features(snapshot: str) -> str:
        import datetime as dt

        from etl import db, ingest

        ingest.build_features(db.get_engine(), dt.date.fromisoformat(snapshot))
        return snapshot

    @task(retries=0)
    def validate_features(snapshot: str) -> str:
        """GX gate on the snapshot's features; nothing is published when it fails."""
        import datetime as dt

        from etl import db, quality

        quality.validate(db.get_engine(), "features", dt.date.fromisoformat(snapshot))
        return snapshot

    @task(outlets=[CUSTOMER_FEATURES])
    def publish_features(snapshot: str, *, outlet_events=None) -> str:
        """Publish the gated candidate; the Asset event makes `churn_score` score this snapshot."""
        import datetime as dt

        from etl import db, ingest

        ingest.publish_features(db.get_engine(), dt.date.fromisoformat(snapshot))
        outlet_events[CUSTOMER_FEATURES].extra = {"snapshot_date": snapshot}
        return snapshot

    publish_features(validate_features(build_features(build_staging(validate_raw(load_raw())))))


churn_ingest()
