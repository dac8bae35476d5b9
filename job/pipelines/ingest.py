"""churn_ingest's steps: the four CSV exports → raw → raw gate → staging → staged features →
features gate → publish (write-audit-publish, etl/ops/batches.py)."""

from etl.ingest import steps
from job.pipelines.declaration import Pipeline, Step

INGEST = Pipeline(
    "ingest",
    (
        Step(steps.load_raw),
        Step(steps.validate_raw),
        Step(steps.build_staging),
        Step(steps.build_features),
        Step(steps.validate_features),
        Step(steps.publish_features),
    ),
)
