"""churn_retrain — monthly, after ingest: train the churn model from features.customer_features
and decide whether it replaces the champion.

**When.** Triggered by the features Asset that churn_ingest publishes, so training always comes
after the snapshot it learns from. `retrain_due` applies the job's one retrain rule
(ml.training.retrain_reason, also used by `make run` and `churn backfill`): the first snapshot
of a month (a champion trained on an earlier month), or no champion yet (the first published
snapshot bootstraps one); every other features event skips the run, saying why. Unpausing
never starts a retrain by itself. A manual run always trains.

**What.** The steps of job/pipelines/retrain.py: train_uplift (the offers' uplift models from
the settled experiments, their off-policy gate, ml/uplift/) → prepare_training_set → train_candidate (one mapped task per candidate family, two at
a time) → register_challenger (best family: final calibrated fit, paired comparison with the
champion on the same CV folds, artifact + model card, registry row) → apply_promotion_gate
(promote, retiring the old champion in the same transaction, or reject) → announce_champion
(only on promotion: emits the champion Asset, which makes churn_score rescore the newest
snapshot with the new model).

Training snapshot: the latest labelled snapshot on or before params.snapshot_date, else the
triggering snapshot (a manual run: its logical date, else today). params.search_budget ('full' | 'reduced')
overrides env CHURN_SEARCH_BUDGET; params.families restricts the candidate families. Only small
JSON goes through XCom; only transient failures are retried.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Param, dag, task

from job.orchestration import factory, runtime
from job.orchestration.assets import CHAMPION_MODEL, CUSTOMER_FEATURES
from job.pipelines import RETRAIN
from ml.candidates import FAMILIES  # names only: ml.candidates imports sklearn lazily


def search_options(context: dict[str, Any]) -> dict[str, Any]:
    """The run's params that the retrain steps take (budget, families)."""
    params = context["params"]
    return {"budget_name": params.get("search_budget"), "families": params.get("families")}


@dag(
    dag_id="churn_retrain",
    schedule=[CUSTOMER_FEATURES],
    default_args=runtime.default_args(retries=1, execution_timeout=dt.timedelta(minutes=45)),
    params={
        "snapshot_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="train on the latest labelled snapshot on or before this date",
        ),
        "search_budget": Param(
            None,
            type=["null", "string"],
            enum=[None, "full", "reduced"],
            description="hyperparameter search budget (default: env CHURN_SEARCH_BUDGET or full)",
        ),
        "families": Param(
            None,
            type=["null", "array"],
            items={"type": "string", "enum": list(FAMILIES)},
            description="candidate families to train (default: all)",
        ),
    },
    tags=["churn", "ml"],
    doc_md=__doc__,
    **runtime.DAG_SETTINGS,
)
def churn_retrain():
    @task
    def retrain_due(**context) -> dt.date:
        """The run's snapshot if the retrain rule (ml.training.retrain_reason) says it is due; else skip."""
        from airflow.sdk.exceptions import AirflowSkipException

        from etl.warehouse import db
        from ml import training

        with runtime.retry_only_transient():
            snapshot = runtime.snapshot_date(context, default=dt.date.today())
            if context.get("triggering_asset_events") and not context["params"].get("snapshot_date"):
                reason = training.retrain_reason(db.get_engine(), snapshot)
                if reason is None:
                    raise AirflowSkipException(f"snapshot {snapshot}: not the first of its month, the champion stays")
                print(f"retraining for snapshot {snapshot}: {reason}")
        return snapshot

    @task(outlets=[CHAMPION_MODEL], multiple_outputs=False)
    def announce_champion(outcome: dict, *, outlet_events=None) -> str:
        """A promoted challenger emits the champion Asset, which wakes churn_score: the newest
        snapshot is then due (its scores are not the champion's). A rejected one skips, emitting
        nothing."""
        from airflow.sdk.exceptions import AirflowSkipException

        if not outcome["promote"]:
            raise AirflowSkipException(f"{outcome['model_version']} rejected: {outcome['reason']}")
        outlet_events[CHAMPION_MODEL].extra = {"model_version": outcome["model_version"]}
        return outcome["model_version"]

    announce_champion(factory.add_pipeline(RETRAIN, retrain_due(), options=search_options))


churn_retrain()
