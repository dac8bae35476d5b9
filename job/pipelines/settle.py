"""After a snapshot's scores are published: drift of inputs and score, and the outcomes its
labels settle (realized performance, offer effects). Independent of each other."""

from job.pipelines.declaration import Pipeline, Step
from ml import monitoring
from ml.outcomes import settle

SETTLE = Pipeline(
    "settle",
    (
        Step(monitoring.compute_psi, name="monitor_drift"),
        Step(settle.settle_outcomes),
    ),
    side_by_side=True,
)
