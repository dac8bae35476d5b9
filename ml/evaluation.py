"""Honest evaluation on ~1300 rows: grouped repeated CV, calibration, threshold rule, promotion gate.

- Splits: stratified K-fold repeated with different seeds, grouped so that duplicate customers
  (`ml.features.duplicate_groups`) always land in the same fold. The splitter derives the groups
  from X itself, so it can be handed to any sklearn API (search, calibration, cross-validation)
  without metadata routing and is still grouped.
- Calibration: `CalibratedClassifierCV(method="sigmoid", ensemble=False)` with grouped inner
  folds. Platt scaling suits ~1000 rows (isotonic overfits at this size) and with ensemble=False
  the final model is ONE pipeline fitted on all rows plus a monotone map, so ranking metrics are
  the base model's and the pipeline stays inspectable (`base_pipeline`). SVC gets its
  probabilities this way instead of the deprecated `SVC(probability=True)`.
- Threshold rule (documented for BI): on the pooled out-of-fold calibrated probabilities, the
  HIGHEST threshold whose recall of the «at risk» class (label 1) is at least TARGET_RECALL = 0.80,
  i.e. catch at least 80 % of customers whose activity drops, with as few false alarms as that
  allows. F1, recall and precision are then reported per fold at that threshold.
- Promotion gate: see `decide_promotion`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Sequence

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

TARGET_RECALL = 0.80
FIRST_MODEL_MIN_ROC_AUC = 0.85
# A challenger trained on a NEWER snapshot may replace the champion when its mean paired fold
# difference in ROC-AUC is >= -0.005: within a quarter of the fold-to-fold spread (~0.02) the two
# are equally good, and the newer data wins. On the SAME snapshot there is nothing new to gain, so
# the challenger must be strictly better (mean paired difference > 0).
NON_INFERIORITY_MARGIN = -0.005
CALIBRATION_FOLDS = 3


class RepeatedStratifiedGroupKFold:
    """StratifiedGroupKFold(shuffle=True) repeated with seeds random_state, random_state+1, ….

    groups default to `ml.features.duplicate_groups(X)`: identical customers share a fold.
    `n_splits` is the per-repeat fold count (sklearn reads it for its class-count check).
    """

    def __init__(self, n_splits: int = 5, n_repeats: int = 1, random_state: int = 0) -> None:
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits * self.n_repeats

    def split(self, X: Any, y: Any, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import StratifiedGroupKFold

        from ml.features import duplicate_groups

        if groups is None:
            groups = duplicate_groups(X)
        for repeat in range(self.n_repeats):
            folds = StratifiedGroupKFold(self.n_splits, shuffle=True, random_state=self.random_state + repeat)
            yield from folds.split(X, y, groups)

    def __repr__(self) -> str:
        return f"RepeatedStratifiedGroupKFold(n_splits={self.n_splits}, n_repeats={self.n_repeats}, random_state={self.random_state})"


def calibrated(pipeline: Any, random_state: int = 0) -> Any:
    """Wrap a classifier so predict_proba is a calibrated probability (see module doc)."""
    from sklearn.calibration import CalibratedClassifierCV

    inner = RepeatedStratifiedGroupKFold(CALIBRATION_FOLDS, 1, random_state)
    return CalibratedClassifierCV(pipeline, method="sigmoid", cv=inner, ensemble=False)


def base_pipeline(model: Any) -> Any:
    """The fitted pipeline behind a calibrated model (for explanations and inspection)."""
    calibrators = getattr(model, "calibrated_classifiers_", None)
    if calibrators:
        return calibrators[0].estimator
    return model


@dataclass
class FoldPredictions:
    """Out-of-fold calibrated probabilities, one entry per (repeat, fold)."""

    test_indices: list[list[int]]
    probabilities: list[list[float]]
    n_splits: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FoldPredictions":
        return cls(data["test_indices"], data["probabilities"], data["n_splits"])


def _fit_predict(estimator: Any, X: pd.DataFrame, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> list[float]:
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X.iloc[train], y[train])
    return estimator.predict_proba(X.iloc[test])[:, 1].tolist()


def out_of_fold(
    model: Any, X: pd.DataFrame, y: np.ndarray, cv: RepeatedStratifiedGroupKFold, n_jobs: int = 1
) -> FoldPredictions:
    """Fit a clone of `model` on each training part, predict its held-out part."""
    from joblib import Parallel, delayed
    from sklearn.base import clone

    splits = list(cv.split(X, y))
    probabilities = Parallel(n_jobs=n_jobs)(
        delayed(_fit_predict)(clone(model), X, y, train, test) for train, test in splits
    )
    return FoldPredictions([test.tolist() for _, test in splits], list(probabilities), cv.n_splits)


def choose_threshold(y_true: Sequence[int], proba: Sequence[float], target_recall: float = TARGET_RECALL) -> float:
    """Highest threshold t with recall(proba >= t) >= target_recall for class 1 (module doc)."""
    import numpy as np

    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    positives = int(y_true.sum())
    if positives == 0:
        raise ValueError("no positive examples: the threshold rule needs the «at risk» class")
    candidates = np.unique(proba)[::-1]  # descending: recall only grows as t goes down
    for t in candidates:
        if (proba[y_true == 1] >= t).sum() / positives >= target_recall:
            return float(t)
    return float(candidates[-1])


def fold_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import brier_score_loss, f1_score, log_loss, precision_score, recall_score, roc_auc_score

    predicted = (proba >= threshold).astype(int)
    return {
        "roc_auc": float(roc_auc_score(y_true, proba)),
        "brier": float(brier_score_loss(y_true, proba)),
        "log_loss": float(log_loss(y_true, proba, labels=[0, 1])),
        "f1": float(f1_score(y_true, predicted, zero_division=0)),
        "recall": float(recall_score(y_true, predicted, zero_division=0)),
        "precision": float(precision_score(y_true, predicted, zero_division=0)),
    }


def cv_metrics(y: np.ndarray, folds: FoldPredictions, target_recall: float = TARGET_RECALL) -> dict[str, Any]:
    """Threshold from pooled out-of-fold probabilities; per-fold metrics with mean, std, min, max."""
    import numpy as np

    pooled_y = np.concatenate([y[idx] for idx in folds.test_indices])
    pooled_p = np.concatenate([np.asarray(p) for p in folds.probabilities])
    threshold = choose_threshold(pooled_y, pooled_p, target_recall)
    per_fold = [
        fold_metrics(y[idx], np.asarray(p), threshold) for idx, p in zip(folds.test_indices, folds.probabilities)
    ]
    metrics: dict[str, Any] = {
        "threshold": threshold,
        "threshold_rule": f"highest threshold with pooled out-of-fold recall(class 1) >= {target_recall}",
        "folds": len(per_fold),
        "fold_roc_auc": [m["roc_auc"] for m in per_fold],
    }
    for name in per_fold[0]:
        values = np.array([m[name] for m in per_fold])
        metrics[name] = {
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "min": float(values.min()),
            "max": float(values.max()),
        }
    return metrics


@dataclass
class Decision:
    promote: bool
    rule: str
    reason: str
    champion_version: str | None = None
    mean_difference: float | None = None
    std_difference: float | None = None
    fold_differences: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def decide_promotion(
    challenger_fold_auc: Sequence[float],
    champion_fold_auc: Sequence[float] | None = None,
    *,
    champion_version: str | None = None,
    same_snapshot: bool = False,
    first_min_roc_auc: float = FIRST_MODEL_MIN_ROC_AUC,
    margin: float = NON_INFERIORITY_MARGIN,
) -> Decision:
    """The promotion gate (pure; the registry applies it in one transaction).

    - No champion: promote iff the mean CV ROC-AUC >= first_min_roc_auc (0.85).
    - Champion, newer snapshot: promote iff mean(challenger - champion) over the SAME folds
      >= margin (-0.005; non-inferiority, newer data wins a tie).
    - Champion, same snapshot: promote iff that mean difference > 0 (strictly better), so a
      retrain on unchanged data never swaps in an equal or worse model.
    """
    import numpy as np

    challenger = np.asarray(challenger_fold_auc, dtype=float)
    if champion_fold_auc is None:
        mean = float(challenger.mean())
        promote = mean >= first_min_roc_auc
        return Decision(
            promote=promote,
            rule=f"first model: mean CV ROC-AUC >= {first_min_roc_auc}",
            reason=f"mean CV ROC-AUC {mean:.4f} {'>=' if promote else '<'} {first_min_roc_auc}",
        )
    champion = np.asarray(champion_fold_auc, dtype=float)
    if champion.shape != challenger.shape:
        raise ValueError("paired comparison needs the champion scored on the same folds")
    differences = challenger - champion
    mean = float(differences.mean())
    std = float(differences.std(ddof=1)) if len(differences) > 1 else 0.0
    if same_snapshot:
        promote = mean > 0
        rule = "same snapshot: mean paired fold difference in ROC-AUC > 0"
    else:
        promote = mean >= margin
        rule = f"newer snapshot: mean paired fold difference in ROC-AUC >= {margin}"
    verdict = "passes" if promote else "fails"
    return Decision(
        promote=promote,
        rule=rule,
        reason=f"challenger - champion {champion_version}: {mean:+.4f} ± {std:.4f} over {len(differences)} folds, {verdict}",
        champion_version=champion_version,
        mean_difference=mean,
        std_difference=std,
        fold_differences=[float(d) for d in differences],
    )
