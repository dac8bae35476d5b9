"""churn_score — when churn_ingest publishes a snapshot's features: score every active customer
with the champion model and publish the scores for BI.

snapshots_to_score → per snapshot (one mapped instance each, named by its date):
score (champion hash-checked, features streamed in chunks, segments/offers/reasons, COPY into
scoring.churn_scores_staged) → validate_scores (GX suite expectations/scoring.churn_scores.json
on the staged rows) → publish (the date's rows of scoring.churn_scores replaced in one
transaction; emits the scores Asset) → monitor_drift (PSI of inputs and score into
scoring.drift_psi, a warning in the log above 0.2).

Snapshots: params.snapshot_date, else every `snapshot_date` the triggering features Asset events
carry (events that arrive while a run is busy are coalesced into the next run: each of their
dates is scored, with its newest features), else the run's logical date; a manual run with none
of these scores the newest features snapshot. A failed gate leaves the published scores of that date untouched; a retry of any task
after it succeeded changes nothing. One run per date at a time (the run claims the date; a task
of another run fails naming it). Only transient failures are retried: no champion, a tampered
artifact or a failed gate fail at once.
"""
from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, task

from job import runtime
from job.assets import CHURN_SCORES, CUSTOMER_FEATURES


@dag(
    dag_id="churn_score",
    schedule=[CUSTOMER_FEATURES],
    default_args=runtime.default_args(retries=2, execution_timeout=dt.timedelta(hours=2)),
    params={
        "snapshot_date": Param(None, type=["null", "string"], format="date",
                               description="score this snapshot (default: the features event's date, else the logical date)"),
    },
    tags=["churn", "scoring"],
    doc_md=__doc__,
    **runtime.DAG_SETTINGS,
)
def churn_score():
    @task
    def snapshots_to_score(**context) -> list[dt.date]:
        """Every snapshot this run was triggered for (runtime.snapshot_dates: a burst of Asset
        events reaches one run); a manual run without a date scores the newest features."""
        from etl.warehouse import db
        from ml import scoring

        with runtime.retry_only_transient():
            try:
                return runtime.snapshot_dates(context)
            except LookupError:
                newest = scoring.latest_features_snapshot(db.get_engine())
                if newest is None:
                    raise
                return [newest]

    score = runtime.snapshot_task(
        "ml.scoring:score_to_staged", task_id="score",
        doc="Score the snapshot's active customers with the champion into scoring.churn_scores_staged.",
    )
    validate_scores = runtime.snapshot_task(
        "ml.scoring:validate", task_id="validate_scores",
        doc="GX gate on the staged scores (expectations/scoring.churn_scores.json).",
    )
    publish = runtime.snapshot_task(
        "ml.scoring:publish", outlet=CHURN_SCORES,
        extra=lambda snapshot, published: {key: published[key] for key in ("score_date", "model_version", "rows")},
        doc="Replace the date's published scores; the Asset event tells BI/downstream which date changed.",
    )

    @task(map_index_template=runtime.SNAPSHOT_MAP_INDEX)
    def monitor_drift(snapshot: dt.date) -> list[dict]:
        """PSI of the inputs and the score against the champion's training reference."""
        from etl.warehouse import db
        from ml import monitoring

        runtime.show_snapshot(snapshot)
        with runtime.retry_only_transient():
            return monitoring.compute_psi(db.get_engine(), snapshot)

    # one mapped instance per snapshot, each step after the one before for the same date
    snapshots = snapshots_to_score()
    monitor_drift.expand(snapshot=publish.expand(snapshot=validate_scores.expand(snapshot=score.expand(snapshot=snapshots))))


churn_score()
