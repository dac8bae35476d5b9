"""churn_retrain's steps: the uplift models of the offers (ml/uplift/: they learn from settled
experiments, not from the churn model being trained), then the training set, one search per
candidate family (side by side in Airflow), the best family registered as challenger, the
promotion gate (its outcome is what the DAG announces). Whether a snapshot retrains at all is
one rule for every caller: ml.training.retrain_reason."""

from job.pipelines.declaration import Pipeline, Step
from ml.training import dataset, promotion, search, selection
from ml.uplift import steps as uplift

RETRAIN = Pipeline(
    "retrain",
    (
        Step(uplift.train_uplift, cpu_bound=True),
        Step(dataset.prepare, name="prepare_training_set"),
        Step(search.train_family, takes="item", name="train_candidate", cpu_bound=True),
        Step(selection.select_and_register, takes="previous", name="register_challenger", cpu_bound=True),
        Step(promotion.apply_gate, takes="previous", name="apply_promotion_gate"),
    ),
)
