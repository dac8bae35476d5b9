"""The retrain job in one process, and the two questions whether it is due: `make run`'s
(training_needed) and the scheduled DAG's (retrain_due)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ml import features, registry
from ml.training import dataset, promotion, search, selection

if TYPE_CHECKING:
    import sqlalchemy as sa


def retrain(engine: sa.Engine, snapshot_date: dt.date | None, **options: Any) -> dict[str, Any]:
    """prepare → train every family → select_and_register → apply_gate, in this process.
    `options` are those of dataset.prepare (as_of, budget_name, families, n_jobs)."""
    jobs = dataset.prepare(engine, snapshot_date, **options)
    results = [search.train_family(engine, job) for job in jobs]
    return promotion.apply_gate(engine, selection.select_and_register(engine, results))


def training_needed(engine: sa.Engine, snapshot_date: dt.date) -> str | None:
    """Why `make run` should retrain before scoring `snapshot_date`, or None.

    No champion → train one. A labelled snapshot whose training rows differ from the rows the
    champion was trained on (its bundle keeps their fingerprint) → retrain; the promotion gate
    still decides whether the challenger replaces the champion. Unlabelled snapshot → nothing to
    train on.
    """
    champion = registry.get_champion(engine)
    if champion is None:
        return "no champion model yet"
    try:
        frame = features.load_training_frame(engine, snapshot_date)
    except LookupError:
        return None
    bundle, _ = registry.load_bundle(engine, champion["model_version"])
    if bundle.get("training_fingerprint") != features.fingerprint(frame):
        return f"champion {champion['model_version']} was trained on other rows than snapshot {snapshot_date}"
    return None


def retrain_due(engine: sa.Engine, snapshot_date: dt.date) -> str | None:
    """Why churn_retrain, triggered by the features of `snapshot_date`, should train, or None.

    Monthly: the first snapshot of a month whose champion was trained on an earlier month
    retrains; the other snapshots of that month do not. No champion → train the first one.
    """
    champion = registry.get_champion(engine)
    if champion is None:
        return "no champion model yet"
    trained = champion["training_snapshot"]
    if (trained.year, trained.month) < (snapshot_date.year, snapshot_date.month):
        return f"first snapshot of {snapshot_date:%Y-%m}; champion {champion['model_version']} was trained on {trained}"
    return None
