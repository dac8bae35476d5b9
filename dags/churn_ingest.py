"""churn_ingest — nightly at 02:00 UTC: the store's four CSV exports → raw → GX gate → staging →
features → GX gate → publish.

**Snapshot.** The run of logical date D ingests snapshot D (params.snapshot_date overrides it),
read from `DATA_DIR` with `{snapshot_date}` replaced by D. `wait_for_export` waits for the four
files without holding a worker slot (deferred to the triggerer, a look every 5 minutes) for up
to 4 hours, then fails once naming the missing files. Unpausing starts only the run of the
latest snapshot date (catchup off); `churn backfill` or `airflow backfill create` runs earlier dates.

**Writes.** Each task is a thin call into `etl.ingest`; every write is keyed by the snapshot
date and done in one transaction, so reruns and backfills give the same rows. Features are
staged, gated, then published (write-audit-publish); publishing emits the features Asset, which
triggers `churn_score` (and `churn_retrain`, which trains only on a month's first snapshot).
A retry of any task after it succeeded changes nothing.

**Failures.** One run per date at a time: the run claims its snapshot date; a task of another
run of the same date fails naming the run that holds it (retried, as it heals when that run
ends). Only transient failures (lost connection, server restart, a busy date) are retried; bad
input, a failed gate or a refused publish fail at once. Every failure is alerted
(CHURN_ALERT_WEBHOOK), and so is a run whose features are not published by 07:00 UTC.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronTriggerTimetable, Param, dag

from etl import ingest
from job.orchestration import alerts, factory, runtime
from job.orchestration.assets import CUSTOMER_FEATURES
from job.orchestration.export_wait import WaitForExportOperator
from job.pipelines import INGEST


@dag(
    dag_id="churn_ingest",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="UTC"),
    default_args=runtime.default_args(retries=2, execution_timeout=dt.timedelta(hours=1)),
    params={"snapshot_date": Param(None, type=["null", "string"], format="date")},
    deadline=alerts.deadline("features published", after_logical_date=dt.timedelta(hours=5)),
    tags=["churn", "ingest"],
    doc_md=__doc__,
    **runtime.DAG_SETTINGS,
)
def churn_ingest():
    snapshot = WaitForExportOperator(
        task_id="wait_for_export",
        wait_timeout=dt.timedelta(hours=4),
        poke_interval=dt.timedelta(minutes=5),
        execution_timeout=dt.timedelta(hours=5),  # its retries (the DAG's) are only for a process killed meanwhile
        doc_md="Wait (deferred) for the snapshot's four CSVs in DATA_DIR.",
    ).output
    factory.add_pipeline(INGEST, snapshot, outlets={ingest.publish_features: (CUSTOMER_FEATURES, None)})


churn_ingest()
