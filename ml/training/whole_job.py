"""The retrain job in one process, and `make run`'s question whether it is due."""
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
