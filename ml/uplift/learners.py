"""Uplift (CATE) learners: how much an offer lowers a customer's probability of «Снизилась».

Trained on settled experiment rows: the features at the score date, whether the offer was sent,
the probability the logging policy had of sending it (known: the experiment drew it), and the
label at settlement. Two meta-learners over scikit-learn estimators (measured against each other
in `make bench-uplift`, bench/README.md):

- `t`: one classifier per arm (sent / not sent), uplift = P(«Снизилась» | not sent) − P(… | sent).
  Simple, but the held-out arm is small (10 % holdout), so its model is noisy where it matters.
- `dr` (the default): doubly robust learner. Cross-fitted outcome models per arm give each row a
  doubly robust score of its own uplift, which is unbiased whatever the outcome models' errors
  because the propensities are the experiment's own; a shallow, strongly regularised boosted
  regression of those scores on the features is the uplift model.

Both use histogram gradient boosting, which reads the raw features (no scaling, categories
native) and copes with the step-shaped effects offers have (a trait present or not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

METHODS: tuple[str, ...] = ("dr", "t")
CROSS_FIT_FOLDS = 2
_OUTCOME = {"max_depth": 3, "learning_rate": 0.05, "max_iter": 150, "min_samples_leaf": 40, "l2_regularization": 1.0}
_EFFECT = {"max_depth": 1, "learning_rate": 0.05, "max_iter": 100, "min_samples_leaf": 400, "l2_regularization": 5.0}


@dataclass
class UpliftModel:
    """A fitted learner: `predict(X)` → estimated uplift per row (reduction of P(«Снизилась»))."""

    method: str
    features: list[str]
    effect: Any = None  # dr: the regression of the doubly robust scores
    outcome: dict[int, Any] = field(default_factory=dict)  # per arm (1 = sent): P(«Снизилась»)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        X = X.loc[:, self.features]
        if self.method == "dr":
            return self.effect.predict(X)
        return self.outcome[0].predict_proba(X)[:, 1] - self.outcome[1].predict_proba(X)[:, 1]

    def outcomes(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(«Снизилась») if not sent, if sent) per row: the outcome models a doubly robust
        estimate of a policy's value uses."""
        X = X.loc[:, self.features]
        return self.outcome[0].predict_proba(X)[:, 1], self.outcome[1].predict_proba(X)[:, 1]


def uplift_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The model features (`ml.features.to_model_input`) and the churn model's probability: an
    offer cannot keep a customer who would have stayed anyway, so the uplift is bounded by the risk."""
    from ml.features import to_model_input

    X = to_model_input(frame)
    X["churn_probability"] = frame["churn_probability"].to_numpy(dtype=float)
    return X


def fit(
    X: pd.DataFrame, sent: np.ndarray, churned: np.ndarray, propensity: np.ndarray, method: str = "dr", seed: int = 0
) -> UpliftModel:
    """Fit `method` on settled rows (`X`: their `uplift_input`)."""
    import numpy as np

    if method not in METHODS:
        raise ValueError(f"unknown uplift method {method!r}: one of {', '.join(METHODS)}")
    sent, churned = np.asarray(sent, dtype=bool), np.asarray(churned, dtype=int)
    propensity = np.asarray(propensity, dtype=float)
    if not ((propensity > 0) & (propensity < 1)).all():
        raise ValueError("every training row needs a sending probability strictly between 0 and 1")
    model = UpliftModel(method, list(X.columns))
    model.outcome = {arm: _outcome_model(X, sent == arm, churned, seed) for arm in (0, 1)}
    if method == "t":
        return model
    scores = dr_scores(X, sent, churned, propensity, seed)
    model.effect = _effect_model(seed).fit(X, scores)
    return model


def dr_scores(
    X: pd.DataFrame, sent: np.ndarray, churned: np.ndarray, propensity: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Each row's doubly robust score of its uplift, with outcome models fitted on the other folds."""
    import numpy as np
    from sklearn.model_selection import KFold

    mu0, mu1 = np.zeros(len(X)), np.zeros(len(X))
    for fit_rows, score_rows in KFold(CROSS_FIT_FOLDS, shuffle=True, random_state=seed).split(X):
        part = X.iloc[fit_rows]
        for arm, out in ((0, mu0), (1, mu1)):
            model = _outcome_model(part, sent[fit_rows] == arm, churned[fit_rows], seed)
            out[score_rows] = model.predict_proba(X.iloc[score_rows])[:, 1]
    return doubly_robust(mu0, mu1, sent, churned, propensity)


def doubly_robust(
    mu0: np.ndarray, mu1: np.ndarray, sent: np.ndarray, churned: np.ndarray, propensity: np.ndarray
) -> np.ndarray:
    """Γ = μ0 − μ1 + (1−T)(Y−μ0)/(1−e) − T(Y−μ1)/e: unbiased for the uplift of each row when e is
    the true sending probability, whatever μ0 and μ1 are."""
    import numpy as np

    t, y, e = np.asarray(sent, dtype=float), np.asarray(churned, dtype=float), np.asarray(propensity, dtype=float)
    return mu0 - mu1 + (1 - t) * (y - mu0) / (1 - e) - t * (y - mu1) / e


def _outcome_model(X: pd.DataFrame, rows: np.ndarray, churned: np.ndarray, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return _on_model_input(HistGradientBoostingClassifier, seed, _OUTCOME).fit(X[rows], churned[rows])


def _effect_model(seed: int):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return _on_model_input(HistGradientBoostingRegressor, seed, _EFFECT)


def _on_model_input(estimator: type, seed: int, params: dict[str, Any]):
    """Categories → integer codes (an unseen one → missing, which boosting routes on its own),
    numbers as they are; `X` is `ml.features.to_model_input`'s frame."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    from ml.features import CATEGORICAL

    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=float)
    columns = ColumnTransformer([("codes", codes, list(CATEGORICAL))], remainder="passthrough")
    categorical = list(range(len(CATEGORICAL)))  # the transformer puts them first
    return make_pipeline(columns, estimator(categorical_features=categorical, random_state=seed, **params))
