"""churn_score — when churn_ingest publishes a snapshot's features: score every active customer
with the champion model and publish the scores for BI.

score (champion hash-checked, features streamed in chunks, segments/offers/reasons, COPY into
scoring.churn_scores_staged) → validate_scores (GX suite expectations/scoring.churn_scores.json
on the staged rows) → publish (the date's rows of scoring.churn_scores replaced in one
transaction; emits the scores Asset) → monitor_drift (PSI of inputs and score into
scoring.drift_psi, a warning in the log above 0.2).

Snapshot date: params.snapshot_date, else the `snapshot_date` the features Asset event carries,
else the run's logical date; a manual run with none of these scores the newest features
snapshot. A failed gate leaves the published scores of that date untouched; a retry of any task
after it succeeded changes nothing. One run per date at a time (the run claims the date; a task
of another run fails naming it). Only transient failures are retried: no champion, a tampered
artifact or a failed gate fail at once.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from job.assets import CHURN_SCORES, CUSTOMER_FEATURES
from job.runtime import release_claims

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,  # only transient failures are retried (runtime.retry_only_transient)
    "retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": release_claims,
}


@dag(
    dag_id="churn_score",
    schedule=[CUSTOMER_FEATURES],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "snapshot_date": Param(None, type=["null", "string"], format="date",
                               description="score this snapshot (default: the features event's date, else the logical date)"),
    },
    tags=["churn", "scoring"],
    doc_md=__doc__,
)
def churn_score():
    @task
    def score(**context) -> dict:
        from etl.warehouse import db
        from job import runtime
        from ml import scoring

        engine = db.get_engine()
        with runtime.retry_only_transient():
            try:
                snapshot = runtime.snapshot_date(context)
            except LookupError:
                snapshot = scoring.latest_features_snapshot(engine)
                if snapshot is None:
                    raise
            return scoring.score_to_staged(engine, snapshot, run=runtime.run_label(context))

    @task
    def validate_scores(scored: dict, **context) -> dict:
        from etl.warehouse import db
        from job import runtime
        from ml import scoring

        with runtime.retry_only_transient():
            gate = scoring.validate(db.get_engine(), runtime.as_date(scored["score_date"]), runtime.run_label(context))
        return {**scored, "gate_run_id": gate.run_id if gate else None}

    @task(outlets=[CHURN_SCORES])
    def publish(scored: dict, *, outlet_events=None, **context) -> dict:
        """Replace the date's published scores; tell BI/downstream which date changed."""
        from etl.warehouse import db
        from job import runtime
        from ml import scoring

        with runtime.retry_only_transient():
            published = scoring.publish(db.get_engine(), runtime.as_date(scored["score_date"]), runtime.run_label(context))
        outlet_events[CHURN_SCORES].extra = {
            "score_date": published["score_date"],
            "model_version": published["model_version"],
            "rows": published["rows"],
        }
        return published

    @task
    def monitor_drift(published: dict) -> list[dict]:
        from etl.warehouse import db
        from job import runtime
        from ml import monitoring

        with runtime.retry_only_transient():
            return monitoring.compute_psi(db.get_engine(), runtime.as_date(published["score_date"]))

    monitor_drift(publish(validate_scores(score())))


churn_score()
