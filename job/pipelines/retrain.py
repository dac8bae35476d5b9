"""churn_retrain's steps: the training set, one search per candidate family (side by side in
Airflow), the best family registered as challenger, the promotion gate. Whether a snapshot
retrains at all is one rule for every caller: ml.training.retrain_reason."""

from job.pipelines.declaration import Pipeline, Step
from ml.training import dataset, promotion, search, selection

RETRAIN = Pipeline(
    "retrain",
    (
        Step(dataset.prepare, name="prepare_training_set"),
        Step(search.train_family, takes="item", name="train_candidate", cpu_bound=True),
        Step(selection.select_and_register, takes="previous", name="register_challenger", cpu_bound=True),
        Step(promotion.apply_gate, takes="previous", name="apply_promotion_gate"),
    ),
)
