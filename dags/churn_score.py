"""churn_score — when churn_ingest publishes a snapshot's features, or churn_retrain promotes a
new champion: score every active customer with the champion model and publish the scores for BI.

The steps are job/pipelines/score.py's then settle.py's: snapshots_to_score → plan_shards (per
snapshot CHURN_SCORE_SHARDS shards, default 2, the champion version fixed for all of them) → score_shard (one mapped instance per snapshot and
shard, side by side; on Celery spread over the workers: champion hash-checked, features streamed
by COPY in chunks, segments/offers/reasons, COPY into scoring.churn_scores_staged) → then per
snapshot: collect_shards (every shard complete, one model) → target_offers (who gets an offer
within the budget: the uplift policy when an uplift model passed its gate, else the rules;
ml/uplift/) → validate_scores (the scoring
gate: GX suite expectations/scoring.churn_scores.json on the staged rows) → publish (the staged partition
replaces the date's partition of scoring.churn_scores in one transaction; emits the scores Asset) → monitor_drift (PSI
of inputs and score into scoring.drift_psi, a warning in the log above 0.2) and settle_outcomes
(the scored snapshot dates whose three-month horizon this snapshot's labels close: realized ROC-AUC,
Brier and calibration per model, treated-vs-holdout offer effects per segment, into outcomes.*
for mart.realized_performance and mart.offer_effects; a warning when the realized ROC-AUC falls
below the model's CV ROC-AUC minus its spread).

**Snapshots.** params.snapshot_date, or the run's logical date, is scored alone. An
Asset-triggered run scores every snapshot whose published features are newer than its published
scores, plus the newest one when the champion did not score it; with none due it skips. The
events only wake the DAG: Airflow merges events that arrive while a run is queued and can lose
some of them, so the warehouse, not the event, says what is due, and a date is scored once per
publication, with its newest features. A manual run with nothing due scores the newest
snapshot. An Asset-triggered run's id carries no date: each mapped task instance is named by
its snapshot.

**Failures.** No champion yet (the first snapshot ever): the run skips, and churn_retrain, which
the same event bootstraps, scores the snapshot when it promotes the first champion. A failed
gate leaves the published scores of that date untouched; a failed shard is retried alone and
nothing is published before every shard is complete; a retry of any task after it succeeded
changes nothing. One run per date at a time (the run claims the date; a task of another run
fails naming it). Only transient failures are retried: a tampered artifact or a failed gate fail
at once. Alerted: every failure, and a run not done within an hour of being queued.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, task

from job.orchestration import alerts, factory, pools, runtime
from job.orchestration.assets import CHAMPION_MODEL, CHURN_SCORES, CUSTOMER_FEATURES
from job.pipelines import SCORE, SETTLE
from ml import scoring


@dag(
    dag_id="churn_score",
    schedule=(CUSTOMER_FEATURES | CHAMPION_MODEL),
    default_args=runtime.default_args(retries=2, execution_timeout=dt.timedelta(hours=2)),
    params={
        "snapshot_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="score this snapshot alone (default: every snapshot the warehouse shows due)",
        ),
    },
    deadline=alerts.deadline("scores published", after_queued=dt.timedelta(hours=1)),
    tags=["churn", "scoring"],
    doc_md=__doc__,
    **runtime.DAG_SETTINGS,
)
def churn_score():
    @task(pool=pools.WAREHOUSE)
    def snapshots_to_score(**context) -> list[dt.date]:
        """A date asked for (params, logical date) is scored alone. Otherwise the warehouse says
        what is due (ml.scoring.snapshots_to_score): the Asset events only wake the DAG, as
        Airflow merges, and can drop, events that arrive while a run is queued. A bare manual
        run with nothing due scores the newest features."""
        from airflow.sdk.exceptions import AirflowSkipException

        from etl.warehouse import db
        from ml import registry

        with runtime.retry_only_transient():
            engine = db.get_engine()
            if registry.get_champion(engine) is None:
                raise AirflowSkipException("no champion model yet: churn_retrain trains the first one, then rescores")
            if context["params"].get("snapshot_date") or context.get("logical_date"):
                return [runtime.snapshot_date(context)]
            due = scoring.snapshots_to_score(engine)
            if not due and context.get("triggering_asset_events"):
                raise AirflowSkipException("nothing due: every published snapshot has current scores of the champion")
            newest = scoring.latest_features_snapshot(engine)
            if not due and newest is None:
                raise LookupError("no published features to score")
            return due or [newest]

    published = factory.add_pipeline(
        SCORE,
        snapshots_to_score(),
        per_snapshot=True,
        outlets={
            scoring.publish: (
                CHURN_SCORES,
                lambda snapshot, result: {key: result[key] for key in ("score_date", "model_version", "rows")},
            )
        },
    )
    factory.add_pipeline(SETTLE, published, per_snapshot=True)


churn_score()
