"""The model's inputs, in one place: feature lists, the training set, the model input frame.

Used by training and by the scoring worker (`to_model_input` turns any frame with the columns of
`features.customer_features` into what a fitted model expects).

Features are all columns of `features.customer_features` except keys and bookkeeping:
`snapshot_date`, `customer_id`, `churn_label` (the target), `is_active_3m` (a filter: only active
customers are modelled, so it is constant in training) and `revenue_outlier_fixed` (a data-quality
flag that is true for one customer in the real export; as a feature it could only memorise that
row, and the corrected revenue is already in the revenue columns).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

from etl.warehouse import settings

if TYPE_CHECKING:  # keep the import light for DAG parsing
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

TARGET = "churn_label"  # 1 = «Снизилась» (activity dropped: at risk), 0 = «Прежний уровень»
ID = "customer_id"

CATEGORICAL: tuple[str, ...] = ("service_type", "popular_category")
BOOLEAN: tuple[str, ...] = ("allow_messages",)  # bool in the warehouse, 0/1 for the model
NUMERIC: tuple[str, ...] = (
    "marketing_6m",
    "marketing_current_month",
    "tenure_days",
    "promo_share",
    "avg_categories_per_visit",
    "unpaid_items_quarter",
    "service_errors",
    "pages_per_visit",
    "revenue_two_months_ago",
    "revenue_last_month",
    "revenue_current_month",
    "minutes_last_month",
    "minutes_current_month",
    "profit",
)
# Columns that go through the numeric (scaler) branch of the pipelines.
NUMERIC_INPUT: tuple[str, ...] = BOOLEAN + NUMERIC
# The model input, in this order.
FEATURES: tuple[str, ...] = CATEGORICAL + NUMERIC_INPUT

# Two customers are "the same customer twice" when they agree on every feature except profit:
# in the real export 11 pairs differ only in id and profit (profit comes from a separate file,
# money.csv). Such rows must stay in one CV fold, or the copy on the other side inflates scores.
DUPLICATE_KEY: tuple[str, ...] = tuple(c for c in FEATURES if c != "profit")


def latest_labelled_snapshot(engine: sa.Engine, as_of: dt.date) -> dt.date | None:
    """Newest snapshot on or before `as_of` with labelled active customers (None if none)."""
    from etl.warehouse import db

    with engine.connect() as conn:
        value = db.run_sql(conn, "ml", "select_latest_labelled_snapshot", {"as_of": as_of}).scalar()
    return value


def load_training_frame(engine: sa.Engine, snapshot_date: dt.date) -> pd.DataFrame:
    """Labelled active customers of `snapshot_date`, at most `max_training_rows()` of them
    (`sample_training_rows`); LookupError when it has none.

    Columns: customer_id, churn_label, then FEATURES as stored; ordered by customer_id.
    """
    import pandas as pd

    from etl.warehouse import frames

    with engine.connect() as conn:
        chunks = list(
            frames.stream_frames(conn, "ml", "select_training_set", {"snapshot_date": snapshot_date}, 250_000)
        )
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    if frame.empty:
        raise LookupError(f"no labelled active customers in features.customer_features for {snapshot_date}")
    frame = sample_training_rows(frame[[ID, TARGET, *FEATURES]], max_training_rows())
    frame.attrs["snapshot_date"] = snapshot_date
    return frame


# Training rows per retraining unless CHURN_TRAINING_MAX_ROWS says otherwise (why this many:
# etl/warehouse/settings.py and ml/README.md, "Training at scale").
DEFAULT_MAX_TRAINING_ROWS: int = settings.default("CHURN_TRAINING_MAX_ROWS")


def max_training_rows() -> int:
    return max(100, settings.current().CHURN_TRAINING_MAX_ROWS)


def sample_training_rows(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """All rows when there are at most `limit`; else a sample of about `limit` rows that keeps
    the label shares (stratified) and keeps duplicate customers together (grouped, see
    DUPLICATE_KEY). Deterministic: rows are ranked by the hash of their group's features, so
    every task of a run, and a rerun, draws the same rows."""
    import numpy as np

    if len(frame) <= limit:
        return frame
    groups = duplicate_groups(to_model_input(frame))
    labels = frame[TARGET].to_numpy()
    keep = np.zeros(len(frame), dtype=bool)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        wanted = round(limit * len(rows) / len(frame))
        ranked = rows[np.lexsort((frame[ID].to_numpy()[rows], groups[rows]))]
        keep[ranked[:wanted]] = True
    keep |= np.isin(groups, groups[keep])  # a group is in or out as a whole
    return frame[keep].sort_values(ID).reset_index(drop=True)


def to_model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """FEATURES in order, typed as the pipelines expect (categories as str, booleans as 0/1)."""
    missing = [c for c in FEATURES if c not in frame.columns]
    if missing:
        raise KeyError(f"frame lacks model features: {', '.join(missing)}")
    X = frame.loc[:, list(FEATURES)].copy()
    for column in CATEGORICAL:
        X[column] = X[column].astype(object)
    for column in BOOLEAN:
        X[column] = X[column].astype(bool).astype("int64")
    for column in NUMERIC:
        X[column] = X[column].astype("float64")
    return X.reset_index(drop=True)


def target(frame: pd.DataFrame) -> np.ndarray:
    return frame[TARGET].astype("int64").to_numpy()


def duplicate_groups(X: pd.DataFrame) -> np.ndarray:
    """A group id per row: equal for rows that agree on DUPLICATE_KEY (see its comment).

    Falls back to hashing whole rows when X is not a frame with those columns.
    """
    import numpy as np
    import pandas as pd

    if isinstance(X, pd.DataFrame) and all(c in X.columns for c in DUPLICATE_KEY):
        key = X.loc[:, list(DUPLICATE_KEY)]
    else:
        key = pd.DataFrame(np.asarray(X))
    return pd.util.hash_pandas_object(key.astype(str), index=False).to_numpy()


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the training rows, so mapped tasks can check they all saw the same data."""
    payload = frame.to_csv(index=False, float_format="%.10g").encode("utf-8")
    return hashlib.sha256(payload).hexdigest()
