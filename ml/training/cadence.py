"""When a snapshot retrains the model: one rule for the scheduled DAG, `make run` and
`churn backfill`, which also gives the reason (logged, shown by the DAG's skip or run)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ml import registry

if TYPE_CHECKING:
    import sqlalchemy as sa


def retrain_reason(engine: sa.Engine, snapshot_date: dt.date) -> str | None:
    """Why the published features of `snapshot_date` should retrain the model, or None.

    Monthly: the first snapshot of a month whose champion was trained on an earlier month
    retrains; the other snapshots of that month, and older snapshots, do not. No champion →
    train the first one. The promotion gate still decides whether the challenger replaces it.
    """
    champion = registry.get_champion(engine)
    if champion is None:
        return "no champion model yet"
    trained = champion["training_snapshot"]
    if (trained.year, trained.month) < (snapshot_date.year, snapshot_date.month):
        return f"first snapshot of {snapshot_date:%Y-%m}; champion {champion['model_version']} was trained on {trained}"
    return None
