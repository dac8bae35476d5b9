"""Training-time reference distributions for drift monitoring (population stability index).

Stored in the artifact bundle and in `ml.model_registry.reference`, so the scoring job can compare
today's features and scores with what the model was trained on, binned the same way:

    {"snapshot_date": "2026-10-31", "rows": 1297,
     "features": {"tenure_days": {"kind": "numeric", "edges": [...], "proportions": [...]},
                  "service_type": {"kind": "categorical", "proportions": {"премиум": 0.29, ...}}, ...},
     "score": {"kind": "numeric", "edges": [...], "proportions": [...]},   # out-of-fold scores
     "score_in_sample": {...}}                                            # final model, training rows

Numeric bins are training deciles: `edges` are the interior cut points (unique), a value v falls
into bin `searchsorted(edges, v, side="right")`, so there are len(edges) + 1 bins and the outer
bins are open-ended. Categories unseen in training count as one extra bin "__other__".
The PSI against these bins is computed by ml/monitoring.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import pandas as pd

N_BINS = 10
EPSILON = 1e-4  # floor for empty bins in PSI (log of zero)
OTHER = "__other__"


def numeric_entry(values: Sequence[float], n_bins: int = N_BINS) -> dict[str, Any]:
    import numpy as np

    values = np.asarray(values, dtype=float)
    quantiles = np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1])
    edges = np.unique(quantiles)
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return {"kind": "numeric", "edges": edges.tolist(), "proportions": (counts / counts.sum()).tolist()}


def categorical_entry(values: Sequence[Any]) -> dict[str, Any]:
    import pandas as pd

    shares = pd.Series(values).astype(str).value_counts(normalize=True).sort_index()
    return {"kind": "categorical", "proportions": {str(k): float(v) for k, v in shares.items()}}


def build_reference(
    X: pd.DataFrame, scores: Sequence[float], snapshot_date: str, in_sample_scores: Sequence[float] | None = None
) -> dict[str, Any]:
    """Reference bins of every model feature and of the training score distribution.

    `scores` should be out-of-fold probabilities (what the model gives customers it has not
    seen); `in_sample_scores`, the final model on its own training rows, is kept beside them.
    """
    from ml.features import CATEGORICAL, FEATURES

    features = {
        column: categorical_entry(X[column]) if column in CATEGORICAL else numeric_entry(X[column])
        for column in FEATURES
    }
    reference = {
        "snapshot_date": snapshot_date,
        "rows": int(len(X)),
        "features": features,
        "score": numeric_entry(scores),
    }
    if in_sample_scores is not None:
        reference["score_in_sample"] = numeric_entry(in_sample_scores)
    return reference
