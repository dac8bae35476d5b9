"""churn_score's steps for one snapshot: plan the shards, score each (side by side in Airflow),
check every shard is complete, decide the offers within the budget, gate, publish. One shard is
still this path."""

from job.pipelines.declaration import Pipeline, Step
from ml.scoring import shards, steps
from ml.uplift import steps as uplift

SCORE = Pipeline(
    "score",
    (
        Step(shards.plan_shards),
        Step(shards.score_shard, takes="item"),
        Step(shards.collect_shards),
        Step(uplift.target_offers),
        Step(steps.validate, name="validate_scores"),
        Step(steps.publish),
    ),
)
