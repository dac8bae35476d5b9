"""Step 1 and the training set every later step re-reads.

`prepare` picks the snapshot, checks it can be cross-validated and hands out one JSON-able job
dict per family (XCom carries it, so its snapshot date is ISO text: `snapshot_of` is the one place
that reads it back). The later steps reload the rows with `training_set`, which refuses them when
their sha256 differs from the one `prepare` recorded: every candidate must see the same data.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from etl.warehouse import settings
from ml import candidates, evaluation, features

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)  # frames and arrays have no plain ==
class TrainingSet:
    """The labelled rows of one snapshot, as stored (`frame`) and as the pipelines take them."""

    snapshot_date: dt.date
    frame: pd.DataFrame
    X: pd.DataFrame
    y: np.ndarray


def default_n_jobs() -> int:
    """Worker processes per task: env CHURN_N_JOBS, default 1 (mapped tasks already run side by
    side on the 2 cores; set 2 when families run one after another, e.g. under dag.test())."""
    return max(1, settings.current().CHURN_N_JOBS)


def n_jobs_of(item: Mapping[str, Any]) -> int:
    return int(item.get("n_jobs") or 1)


def snapshot_of(item: Mapping[str, Any]) -> dt.date:
    """The training snapshot of a family item (ISO text after its trip through XCom)."""
    return settings.parse_date(item["snapshot_date"], "the family item's snapshot_date")


def resolve_snapshot(engine: sa.Engine, snapshot_date: dt.date) -> dt.date:
    """The latest labelled snapshot on or before `snapshot_date` (itself when it is labelled)."""
    found = features.latest_labelled_snapshot(engine, snapshot_date)
    if found is None:
        raise LookupError(f"features.customer_features has no labelled active customers on or before {snapshot_date}")
    if found != snapshot_date:
        log.info("snapshot %s has no labels: training on %s, the latest labelled before it", snapshot_date, found)
    return found


def training_set(engine: sa.Engine, snapshot_date: dt.date, fingerprint: str) -> TrainingSet:
    """The rows `prepare` saw, or RuntimeError if they changed since (features rebuilt mid-run)."""
    frame = features.load_training_frame(engine, snapshot_date)
    if features.fingerprint(frame) != fingerprint:
        raise RuntimeError(
            f"training rows of {snapshot_date} changed since this run started (features were "
            "rebuilt?): rerun churn_retrain so every candidate sees the same data"
        )
    return TrainingSet(snapshot_date, frame, features.to_model_input(frame), features.target(frame))


def eval_cv(chosen: candidates.Budget) -> evaluation.RepeatedStratifiedGroupKFold:
    """The evaluation folds: fixed seeds, so champion and challenger meet on the same folds."""
    return evaluation.RepeatedStratifiedGroupKFold(chosen.eval_splits, chosen.eval_repeats, candidates.EVAL_SEED)


def search_cv(chosen: candidates.Budget) -> evaluation.RepeatedStratifiedGroupKFold:
    """The search folds: other seeds than `eval_cv`, so the search does not tune to the test folds."""
    return evaluation.RepeatedStratifiedGroupKFold(chosen.search_splits, chosen.search_repeats, candidates.SEARCH_SEED)


def _check_cross_validatable(snapshot: dt.date, frame: pd.DataFrame, chosen: candidates.Budget) -> int:
    """Positive rows of `frame`; ValueError when a class has too few rows for the folds."""
    positives = int(frame[features.TARGET].sum())
    negatives = len(frame) - positives
    if min(positives, negatives) < 2 * max(chosen.eval_splits, chosen.search_splits):
        raise ValueError(
            f"snapshot {snapshot} has {positives} positive / {negatives} negative rows: too few to cross-validate"
        )
    return positives


# --- step 1 -----------------------------------------------------------------------------------


def prepare(
    engine: sa.Engine,
    snapshot_date: dt.date,
    run: str | None = None,
    budget_name: str | None = None,
    families: Sequence[str] | None = None,
    n_jobs: int | None = None,
) -> list[dict[str, Any]]:
    """Train on the latest labelled snapshot on or before `snapshot_date`; one JSON-able item
    per candidate family (the training steps pass on only small JSON)."""
    from etl.warehouse import db

    db.check_migrated(engine)  # retraining's first database step: fail at once on an unmigrated warehouse
    chosen = candidates.budget(budget_name)
    names = list(families or candidates.FAMILIES)
    for name in names:
        candidates.family(name)  # fail early on a typo
    snapshot = resolve_snapshot(engine, snapshot_date)
    frame = features.load_training_frame(engine, snapshot)
    positives = _check_cross_validatable(snapshot, frame, chosen)
    names, left_out = candidates.families_for(names, len(frame))
    sized = candidates.budget_for(chosen, len(frame))
    if sized is not chosen:
        log.warning(
            "retrain on %d rows uses the %s budget (more than %d rows)",
            len(frame),
            sized.name,
            candidates.LARGE_SET_ROWS,
        )
        chosen = sized
    if left_out:
        log.warning("retrain on %d rows leaves out %s (more rows than their max_rows)", len(frame), ", ".join(left_out))
    if not names:
        raise ValueError(f"no candidate family trains on {len(frame)} rows: every one asked for has a lower max_rows")
    started = dt.datetime.now(dt.timezone.utc)
    run_key = f"{snapshot:%Y%m%d}-{started:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    run_dir = settings.model_store_dir() / "runs" / run_key
    run_dir.mkdir(parents=True, exist_ok=True)
    common = {
        "run_key": run_key,
        "run_dir": str(run_dir),
        "snapshot_date": snapshot.isoformat(),
        "rows": len(frame),
        "positives": positives,
        "fingerprint": features.fingerprint(frame),
        "budget": chosen.name,
        "n_jobs": int(n_jobs or default_n_jobs()),
        "started_at": started.isoformat(),
    }
    log.info(
        "retrain %s on snapshot %s: %d rows (%d «Снизилась»), budget %s, families %s",
        run_key,
        snapshot,
        len(frame),
        positives,
        chosen.name,
        names,
    )
    return [{**common, "family": name} for name in names]
