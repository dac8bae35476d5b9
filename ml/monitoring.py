"""Drift monitoring: population stability index (PSI) of every model input and of the score.

Why: a model is only as good as the resemblance of today's customers to its training snapshot.
Per scoring run the published scores and the snapshot's features are compared with the training
reference stored at registration (`ml.model_registry.reference`, built by ml/reference.py:
training deciles for numeric inputs and the score, category shares for categorical ones).

Counts are accumulated chunk by chunk, streamed by COPY (memory does not grow with the
number of customers) and binned exactly like ml/reference.py (numeric: `searchsorted(edges, v,
side="right")`, open outer bins; categorical: the training categories + one "__other__" bin).
PSI = Σ (actual − expected) · ln(actual / expected), shares floored at reference.EPSILON.

Results go to `scoring.drift_psi` (BI: `mart.model_drift`), the date's rows replaced in one
transaction; any PSI above 0.2 is logged as a WARNING naming the variables.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ml import features

if TYPE_CHECKING:
    import numpy as np
    import sqlalchemy as sa

log = logging.getLogger(__name__)

PSI_WARNING = 0.2  # above: 'shifted', logged as a warning (the usual PSI rule of thumb)
PSI_WATCH = 0.1  # from here: 'watch'
SCORE_VARIABLE = "churn_probability"


def status(psi: float) -> str:
    if psi > PSI_WARNING:
        return "shifted"
    return "watch" if psi >= PSI_WATCH else "stable"


def bin_counts(entry: Mapping[str, Any], values: Sequence[Any]) -> np.ndarray:
    """Counts of `values` in the reference entry's bins (same binning as ml/reference.py)."""
    import numpy as np
    import pandas as pd

    if entry["kind"] == "numeric":
        edges = np.asarray(entry["edges"], dtype=float)
        index = np.searchsorted(edges, np.asarray(values, dtype=float), side="right")
        return np.bincount(index, minlength=len(edges) + 1).astype(np.int64)
    categories = list(entry["proportions"])
    observed = pd.Series(values).astype(str)
    codes = pd.Categorical(observed, categories=categories).codes  # -1 = not a training category
    counts = np.bincount(np.where(codes < 0, len(categories), codes), minlength=len(categories) + 1)
    return counts.astype(np.int64)


def expected_shares(entry: Mapping[str, Any]) -> list[float]:
    """Training shares per bin (categorical: categories, then 0 for __other__)."""
    shares = entry["proportions"]
    return [*shares.values(), 0.0] if entry["kind"] == "categorical" else list(shares)


def bin_labels(entry: Mapping[str, Any]) -> list[str]:
    """Readable bin names for BI: '< 3.1', '3.1 – 4.0', …, '>= 5.2'; categories as they are."""
    if entry["kind"] == "categorical":
        from ml.reference import OTHER

        return [*entry["proportions"], OTHER]
    edges = [f"{e:.6g}" for e in entry["edges"]]
    if not edges:
        return ["all"]
    return [f"< {edges[0]}", *(f"{a} – {b}" for a, b in zip(edges, edges[1:])), f">= {edges[-1]}"]


def psi_from_counts(entry: Mapping[str, Any], counts: Sequence[int]) -> float:
    """PSI of observed bin counts against the entry's training shares."""
    import numpy as np

    from ml.reference import EPSILON

    counts = np.asarray(counts, dtype=float)
    actual = counts / max(counts.sum(), 1.0)
    expected = np.asarray(expected_shares(entry), dtype=float)
    if expected.shape != actual.shape:
        raise ValueError(f"{len(actual)} bins observed, {len(expected)} in the reference")
    a = np.clip(actual, EPSILON, None)
    e = np.clip(expected, EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


class DriftAccumulator:
    """Bin counts of every referenced input and of the score, fed chunk by chunk."""

    def __init__(self, reference: Mapping[str, Any]) -> None:
        import numpy as np

        self.reference = reference
        self.entries: dict[str, Mapping[str, Any]] = {
            name: entry for name, entry in reference["features"].items() if name in features.FEATURES
        }
        self.score_entry = reference["score"]
        self.counts = {name: np.zeros(len(expected_shares(e)), dtype=np.int64) for name, e in self.entries.items()}
        self.score_counts = np.zeros(len(expected_shares(self.score_entry)), dtype=np.int64)
        self.customers = 0  # feature rows counted
        self.scored = 0  # scores counted

    def add(self, frame: Any, scores: Sequence[float]) -> None:
        """A chunk of customers: their feature rows and their scores."""
        self.add_features(frame)
        self.add_scores(scores)

    def add_features(self, frame: Any) -> None:
        """`frame`: rows of features.customer_features (model-input typing is applied here)."""
        X = features.to_model_input(frame)
        for name, entry in self.entries.items():
            self.counts[name] += bin_counts(entry, X[name])
        self.customers += len(X)

    def add_scores(self, scores: Sequence[float]) -> None:
        self.score_counts += bin_counts(self.score_entry, scores)
        self.scored += len(scores)

    def results(self) -> list[dict[str, Any]]:
        """One dict per variable: psi, status, customers and the bins (labels, shares)."""
        rows = []
        items = [(name, "feature", entry, self.counts[name]) for name, entry in self.entries.items()]
        items.append((SCORE_VARIABLE, "score", self.score_entry, self.score_counts))
        for name, kind, entry, counts in items:
            value = psi_from_counts(entry, counts)
            total = max(int(counts.sum()), 1)
            rows.append(
                {
                    "variable": name,
                    "variable_kind": kind,
                    "psi": value,
                    "status": status(value),
                    "customers": self.customers if kind == "feature" else self.scored,
                    "bins": {
                        "labels": bin_labels(entry),
                        "expected": expected_shares(entry),
                        "actual": [int(c) / total for c in counts],
                    },
                }
            )
        return rows


def compute_psi(
    engine: sa.Engine, snapshot_date: dt.date, run: str | None = None, chunk_size: int | None = None
) -> list[dict[str, Any]]:
    """PSI of the published scores of `snapshot_date`, stored in scoring.drift_psi (date replaced).
    Claims no date (`run` is the step signature's): it only reads published scores.

    Returns the stored rows (without bins); warns in the log for every PSI above 0.2.
    """
    from etl.warehouse import db, frames
    from ml import scoring

    chunk_size = chunk_size or scoring.chunk_size_from_env()
    with engine.connect() as conn:
        models = [
            dict(r)
            for r in db.run_sql(conn, "scoring", "select_published_model", {"score_date": snapshot_date}).mappings()
        ]
    if not models:
        raise LookupError(f"no published scores for {snapshot_date}: nothing to monitor")
    stored: list[dict[str, Any]] = []
    for model in models:
        if not model.get("reference"):
            log.warning("model %s has no training reference in ml.model_registry: PSI skipped", model["model_version"])
            continue
        accumulator = DriftAccumulator(model["reference"])
        # two plain streams (no join: a fresh partition has no planner statistics yet): the
        # snapshot's scored population (GX checked it equals the scores) and the scores
        with engine.connect() as conn:
            for chunk in scoring.iter_feature_chunks(conn, snapshot_date, chunk_size):
                accumulator.add_features(chunk)
        params = {"score_date": snapshot_date, "model_version": model["model_version"]}
        with engine.connect() as conn:
            for chunk in frames.stream_frames(conn, "scoring", "select_published_probabilities", params, chunk_size):
                accumulator.add_scores(chunk[SCORE_VARIABLE].to_numpy(dtype=float))
        for row in accumulator.results():
            stored.append(
                {
                    **row,
                    "score_date": snapshot_date,
                    "model_version": model["model_version"],
                    "reference_snapshot": model["training_snapshot"],
                    "reference_rows": model["training_rows"],
                }
            )
    _store(engine, snapshot_date, stored)
    _log_drift(snapshot_date, stored)
    return [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items() if k != "bins"} for r in stored]


def _store(engine: sa.Engine, snapshot_date: dt.date, rows: list[dict[str, Any]]) -> None:
    from etl.warehouse import db

    with engine.begin() as conn:
        db.run_sql(conn, "scoring", "delete_drift_psi_partition", {"score_date": snapshot_date})
        for row in rows:
            db.run_sql(
                conn, "scoring", "insert_drift_psi", {**row, "bins": json.dumps(row["bins"], ensure_ascii=False)}
            )


def _log_drift(snapshot_date: dt.date, stored: list[dict[str, Any]]) -> None:
    """A warning naming every variable whose PSI is above PSI_WARNING, else the largest PSI."""
    shifted = [r for r in stored if r["psi"] > PSI_WARNING]
    if shifted:
        log.warning(
            "DRIFT on %s: PSI above %.1f for %s — today's customers differ from the training snapshot; "
            "check the data and consider retraining (mart.model_drift)",
            snapshot_date,
            PSI_WARNING,
            ", ".join(f"{r['variable']} {r['psi']:.3f}" for r in shifted),
        )
        return
    worst = max(stored, key=lambda r: r["psi"], default=None)
    if worst is not None:
        log.info("PSI of %s: all <= %.1f (max %.3f, %s)", snapshot_date, PSI_WARNING, worst["psi"], worst["variable"])
