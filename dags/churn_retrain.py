"""churn_retrain — monthly: train the churn model from features.customer_features and decide
whether it replaces the champion.

prepare_training_set → train_candidate (one mapped task per candidate family, in parallel)
→ register_challenger (best family: final calibrated fit, paired comparison with the champion on
the same CV folds, artifact + model card, registry row) → apply_promotion_gate (promote, retiring
the old champion in the same transaction, or reject).

Training snapshot: params.snapshot_date if given, else the latest labelled snapshot on or before
the run's logical date. params.search_budget ('full' | 'reduced') overrides env
CHURN_SEARCH_BUDGET; params.families restricts the candidate families. Tasks are thin calls into
`ml.training`; only small JSON goes through XCom.
"""
from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, task

from job import runtime

from ml.candidates import FAMILIES  # names only: ml.candidates imports sklearn lazily

@dag(
    dag_id="churn_retrain",
    schedule="@monthly",
    default_args=runtime.default_args(retries=1, execution_timeout=dt.timedelta(minutes=45)),
    params={
        "snapshot_date": Param(None, type=["null", "string"], format="date",
                               description="train on this snapshot (default: latest labelled as of the logical date)"),
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
    @task
    def prepare_training_set(**context) -> list[dict]:
        """params.snapshot_date pins the training snapshot; else the latest labelled one as of the
        run's date (runtime.snapshot_date: the logical date, today for a run without one)."""
        from etl.warehouse import db
        from ml import training

        params = context["params"]
        with runtime.retry_only_transient():
            day = runtime.snapshot_date(context, default=dt.date.today())
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

    results = train_candidate.expand(job=prepare_training_set())
    apply_promotion_gate(register_challenger(results))


churn_retrain()
