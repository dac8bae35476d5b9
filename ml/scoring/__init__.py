"""Nightly scoring: the champion scores every active customer of a snapshot, in chunks.

Why chunks: at 1M customers the features do not fit comfortably in a worker next to the model,
so features stream by COPY; memory depends on the chunk size only. Per
customer: calibrated churn probability, risk band, segment and offer from the rule file
(ml/segments.py, config/segments.yaml) and the top factors.

Modules (the names below are re-exported here, so `from ml import scoring` is all callers need):
- `shards` — the one scoring path: `plan_shards` → `score_shard` (mapped, in parallel) →
  `collect_shards`; one shard is still this path.
- `steps` — then the gate and publish (`validate`, `publish`); the due dates
  (`snapshots_to_score`, `latest_features_snapshot`); the chunk scorer and stream (ml/monitoring.py
  reuses the stream). job/pipelines/score.py declares the order.
- `champion` — the registry's champion wrapped for scoring (`Champion`, training baseline).
- `reasons` — the top factors: what-if impacts (`Explainer`), exact for linear models and RBF SVC.
- `scored_snapshot` — `scored_snapshot` / `render_scored_snapshot`: what the published scores of a
  date show, and their lines in the summary `make run` prints.

Light on import: the submodules load numpy, pandas and scikit-learn inside the functions.
"""

from ml.scoring.champion import Champion, baseline_from_bundle
from ml.scoring.reasons import Explainer
from ml.scoring.scored_snapshot import render_scored_snapshot, scored_snapshot
from ml.scoring.shards import ShardsIncomplete, collect_shards, plan_shards, score_shard, shard_count_from_env
from ml.scoring.steps import (
    OUTPUT_COLUMNS,
    chunk_size_from_env,
    iter_feature_chunks,
    latest_features_snapshot,
    publish,
    score_chunk,
    snapshots_to_score,
    validate,
)

__all__ = [
    "OUTPUT_COLUMNS",
    "Champion",
    "ShardsIncomplete",
    "collect_shards",
    "plan_shards",
    "score_shard",
    "shard_count_from_env",
    "Explainer",
    "baseline_from_bundle",
    "chunk_size_from_env",
    "iter_feature_chunks",
    "latest_features_snapshot",
    "publish",
    "render_scored_snapshot",
    "score_chunk",
    "snapshots_to_score",
    "scored_snapshot",
    "validate",
]
