"""The model card's "Intended use and limitations": what the scores are for, and what not.

The purpose and the uses ruled out are the project's decision, written once here. Every fact
beside them (snapshot, rows, label share, cross-validation spread, calibration, threshold, drift
levels) comes from the training run or the code that applies it, so it is this version's own.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Mapping

from ml import monitoring

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SECTION_TITLE = "Intended use and limitations"

INTENDED = (
    "Ranking the customers who were active in each of the last three months by the probability "
    "that their purchasing activity drops over the next three months, so that retention offers "
    "go first to those most at risk.",
    "Planning and sizing retention campaigns from the distribution of the scores.",
)
NOT_FOR = (
    "Credit, pricing or any decision on a customer's terms: the model knows nothing about ability to pay.",
    "Individual adverse decisions (refusing service, closing or limiting an account), automated or not: "
    "a score ranks customers for an offer, it is not a verdict on a person.",
    "Customers outside the training population: not active in all three months, or without the history "
    "the features need.",
)


def intended_use_section(
    frame: pd.DataFrame, y: np.ndarray, snapshot: dt.date, metrics: Mapping[str, Any]
) -> dict[str, Any]:
    """The section's content for the card's template: its title, the intended use, the uses
    ruled out, and the limitations with this run's facts."""
    return {
        "title": SECTION_TITLE,
        "intended": INTENDED,
        "not_for": NOT_FOR,
        "limitations": limitations(frame, y, snapshot, metrics),
    }


def limitations(frame: pd.DataFrame, y: np.ndarray, snapshot: dt.date, metrics: Mapping[str, Any]) -> list[str]:
    """What limits the scores, each point with the number that shows it for this version."""
    roc = metrics["roc_auc"]
    positives = int(y.sum())
    return [
        f"Trained on one snapshot ({snapshot.isoformat()}) of {len(frame)} customers, {positives} of them "
        f"«Снизилась» ({positives / max(len(frame), 1):.1%}). The label is the store's own «Снизилась» flag "
        "(its definition of a drop in purchasing activity), not an observed departure.",
        f"Small sample: cross-validated ROC-AUC {roc['mean']:.3f} ± {roc['std']:.3f} over {metrics['folds']} "
        f"folds, from {roc['min']:.3f} to {roc['max']:.3f} between folds; differences between models "
        "smaller than this spread are noise.",
        f"Probabilities are calibrated ({metrics['calibration']}) on this training snapshot only; on later "
        "snapshots the share of «Снизилась» may differ from the mean score. The threshold "
        f"{metrics['threshold']:.3f} follows the rule: {metrics['threshold_rule']}.",
        "Drift: every input and the score are compared with this training snapshot by the population "
        f"stability index after each scoring run (watch from {monitoring.PSI_WATCH}, warning above "
        f"{monitoring.PSI_WARNING}); above the warning level retrain before trusting the scores.",
        "The factors on this card (permutation importance, correlations) say what the model uses to "
        "predict, not what causes a drop: changing a factor for a customer need not change their behaviour.",
    ]
