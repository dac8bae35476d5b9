"""Each pipeline of the job declared once, as its ordered steps (`declaration`): ingest, score,
settle, retrain. The DAGs are built from these objects, and `execute` runs them in-process for
the CLI, the bench and the tests, so every path runs the same steps in the same order."""

from job.pipelines.declaration import Pipeline, Step, execute
from job.pipelines.ingest import INGEST
from job.pipelines.retrain import RETRAIN
from job.pipelines.score import SCORE
from job.pipelines.settle import SETTLE

PIPELINES: tuple[Pipeline, ...] = (INGEST, SCORE, SETTLE, RETRAIN)

__all__ = ["INGEST", "PIPELINES", "RETRAIN", "SCORE", "SETTLE", "Pipeline", "Step", "execute"]
