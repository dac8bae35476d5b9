"""churn_retrain — monthly, after ingest: train the churn model from features.customer_features
and decide whether it replaces the champion.

**When.** Triggered by the features Asset that churn_ingest publishes, so training always comes
after the snapshot it learns from. `retrain_due` lets a run go on only for the first snapshot of
a month (a champion trained on an earlier month), or when there is no champion yet (the first
published snapshot bootstraps one); every other features event skips the run, saying why.
Unpausing never starts a retrain by itself. A manual run always trains.

**What.** prepare_training_set → train_candidate (one mapped task per candidate family, two at
a time) → register_challenger (best family: final calibrated fit, paired comparison with the
champion on the same CV folds, artifact + model card, registry row) → apply_promotion_gate
(promote, retiring the old champion in the same transaction, or reject) → announce_champion
(only on promotion: emits the champion Asset, which makes churn_score rescore the newest
snapshot with the new model).

Training snapshot: params.snapshot_date if given, else the latest labelled snapshot on or before
the triggering snapshot (a manual run: today). params.search_budget ('full' | 'reduced')
overrides env CHURN_SEARCH_BUDGET; params.families restricts the candidate families. Only small
JSON goes through XCom; only transient failures are retried.
"""
from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, task

from job.orchestration import runtime
from job.orchestration.assets import CHAMPION_MODEL, CUSTOMER_FEATURES
from ml.candidates import FAMILIES  # names only: ml.candidates imports sklearn lazily


@dag(
    dag_id="churn_retrain",
    schedule=[CUSTOMER_FEATURES],
    default_args=runtime.default_args(retries=1, execution_timeout=dt.timedelta(minutes=45)),
    params={
        "snapshot_date": Param(None, type=["null", "string"], format="date",
                               description="train on this snapshot (default: latest labelled as of the run's snapshot)"),
        "search_budget": Param(None, type=["null", "string"], enum=[None, "full", "reduced"],
                               description="hyperparameter search budget (default: env CHURN_SEARCH_BUDGET or full)"),
        "families": Param(None, type=["null", "array"], items={"type": "string", "enum": list(FAMILIES)},
                          description="candidate families to train (default: all)"),
    },
    tags=["churn", "ml"],
    doc_md=__doc__,
    **runtime.DAG_SETTINGS,
)
def churn_retrain():
    """Monthly retraining after ingest; long because a TaskFlow DAG declares its six tasks inside it."""

    @task
    def retrain_due(**context) -> dt.date:
        """The run's snapshot if training is due for it (ml.training.retrain_due); else skip."""
        from airflow.sdk.exceptions import AirflowSkipException

        from etl.warehouse import db
        from ml import training

        with runtime.retry_only_transient():
            day = runtime.snapshot_date(context, default=dt.date.today())
            if context.get("triggering_asset_events") and not context["params"].get("snapshot_date"):
                reason = training.retrain_due(db.get_engine(), day)
                if reason is None:
                    raise AirflowSkipException(f"snapshot {day}: not the first of its month, the champion stays")
                print(f"retraining for snapshot {day}: {reason}")
        return day

    @task
    def prepare_training_set(day: dt.date, **context) -> list[dict]:
        """params.snapshot_date pins the training snapshot; else the latest labelled one as of `day`."""
        from etl.warehouse import db
        from ml import training

        params = context["params"]
        with runtime.retry_only_transient():
            return training.prepare(
                db.get_engine(),
                day if params.get("snapshot_date") else None,
                as_of=day,
                budget_name=params.get("search_budget"),
                families=params.get("families"),
            )

    # 2 at a time: the workers have 2 cores and each task uses one (env CHURN_N_JOBS).
    @task(max_active_tis_per_dagrun=2, map_index_template="{{ family }}")
    def train_candidate(job: dict) -> dict:
        from airflow.sdk import get_current_context

        from etl.warehouse import db
        from ml import training

        get_current_context()["family"] = job["family"]
        with runtime.retry_only_transient():
            return training.train_family(db.get_engine(), job)

    @task
    def register_challenger(results: list[dict]) -> dict:
        from etl.warehouse import db
        from ml import training

        with runtime.retry_only_transient():
            return training.select_and_register(db.get_engine(), list(results))

    @task
    def apply_promotion_gate(registered: dict) -> dict:
        from etl.warehouse import db
        from ml import training

        with runtime.retry_only_transient():
            return training.apply_gate(db.get_engine(), registered)

    @task(outlets=[CHAMPION_MODEL])
    def announce_champion(outcome: dict, *, outlet_events=None) -> str:
        """A promoted challenger emits the champion Asset, which wakes churn_score: the newest
        snapshot is then due (its scores are not the champion's). A rejected one skips, emitting
        nothing."""
        from airflow.sdk.exceptions import AirflowSkipException

        if not outcome["promote"]:
            raise AirflowSkipException(f"{outcome['model_version']} rejected: {outcome['reason']}")
        outlet_events[CHAMPION_MODEL].extra = {"model_version": outcome["model_version"]}
        return outcome["model_version"]

    results = train_candidate.expand(job=prepare_training_set(retrain_due()))
    announce_champion(apply_promotion_gate(register_challenger(results)))


churn_retrain()
