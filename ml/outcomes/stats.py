"""The statistics of settled scores and offer effects, as pure functions of arrays.

Every result is made of plain Python floats, ints, strings and None so a row is JSON-able,
goes straight into SQL parameters and is the same on every run (no bootstrap, no randomness).

- `roc_auc_ci`: ROC-AUC with ties counted half and a DeLong interval (the fast midrank
  algorithm of Sun & Xu 2014), so a realized AUC can be held against the model's CV AUC.
- `brier_score` and `calibration_deciles`: are the probabilities right, not only the ranking?
- `offer_effect`: treated vs random holdout — the «Снизилась» rate difference with Newcombe's
  hybrid score interval (Newcombe 1998, method 10), which keeps its coverage at small groups
  and at rates near 0 or 1 where the Wald interval does not; a pooled two-proportion z test; and
  the revenue-change difference with a Welch t interval (unequal variances: the groups differ
  in size and spread).

Wilson, Welch and the normal quantiles come from scipy; DeLong and Newcombe are written here
because neither scipy nor scikit-learn has them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as sps

TOO_SMALL = "too small to tell"
LOWERS = "offer lowers churn"
RAISES = "offer raises churn"
NO_CLEAR = "no clear effect"


def _z(level: float) -> float:
    """The two-sided normal quantile of a confidence level."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(sps.norm.ppf(0.5 + level / 2.0))


def _binary(labels: Any) -> np.ndarray:
    """Labels as a 0/1 int array; anything else is a caller's bug, not a label."""
    array = np.asarray(labels).ravel()
    if array.size and not np.isin(array, (0, 1)).all():
        raise ValueError("labels must be 0 or 1 («Снизилась» = 1)")
    return array.astype(int)


def _pair(labels: Any, probabilities: Any) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities checked to match, so a misaligned join fails loudly."""
    y, p = _binary(labels), np.asarray(probabilities, dtype=float).ravel()
    if y.size != p.size:
        raise ValueError(f"{y.size} labels but {p.size} probabilities")
    if np.isnan(p).any():
        raise ValueError("probabilities contain NaN")
    return y, p


def _delong(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float]:
    """AUC and its DeLong variance by midranks (Sun & Xu 2014), O((m+n) log(m+n)).

    V10 (per positive) and V01 (per negative) are the structural components; the variance is
    var(V10)/m + var(V01)/n. Needs at least two of each class."""
    m, n = positive.size, negative.size
    combined = sps.rankdata(np.concatenate([positive, negative]))  # midranks: ties count half
    within_pos, within_neg = sps.rankdata(positive), sps.rankdata(negative)
    auc = (combined[:m].sum() - m * (m + 1) / 2.0) / (m * n)
    v10 = (combined[:m] - within_pos) / n
    v01 = 1.0 - (combined[m:] - within_neg) / m
    variance = np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n
    return float(auc), float(variance)


def roc_auc_ci(labels: Any, probabilities: Any, level: float = 0.95) -> dict[str, Any]:
    """ROC-AUC with a DeLong normal-approximation interval clipped to [0, 1].

    One class only: AUC and bounds None (nothing to rank). A class with a single member: the
    AUC, but no interval (the DeLong variance needs two of each)."""
    z = _z(level)
    y, p = _pair(labels, probabilities)
    positives, negatives = int(y.sum()), int(y.size - y.sum())
    row: dict[str, Any] = {
        "roc_auc": None,
        "roc_auc_low": None,
        "roc_auc_high": None,
        "positives": positives,
        "negatives": negatives,
    }
    if positives == 0 or negatives == 0:
        return row
    if positives < 2 or negatives < 2:
        combined = sps.rankdata(np.concatenate([p[y == 1], p[y == 0]]))
        row["roc_auc"] = float(
            (combined[:positives].sum() - positives * (positives + 1) / 2.0) / (positives * negatives)
        )
        return row
    auc, variance = _delong(p[y == 1], p[y == 0])
    half = z * math.sqrt(max(variance, 0.0))
    row.update(roc_auc=auc, roc_auc_low=max(0.0, auc - half), roc_auc_high=min(1.0, auc + half))
    return row


def weighted_roc_auc_ci(
    labels: Any, probabilities: Any, weights: Any, level: float = 0.95, draws: int = 200, seed: int = 0
) -> dict[str, Any]:
    """ROC-AUC of a weighted sample with a percentile bootstrap interval (resampling the rows).

    Why: customers sent no offer, weighted by the inverse probability of that, stand for the whole
    scored population as if nobody had been sent one, which is what the CV ROC-AUC is about."""
    from sklearn.metrics import roc_auc_score

    y, p = _pair(labels, probabilities)
    w = np.asarray(weights, dtype=float)
    positives, negatives = int(y.sum()), int(y.size - y.sum())
    row: dict[str, Any] = {"roc_auc": None, "roc_auc_low": None, "roc_auc_high": None}
    row.update(positives=positives, negatives=negatives)
    if positives == 0 or negatives == 0:
        return row
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(draws):
        rows = rng.integers(0, y.size, y.size)
        if 0 < y[rows].sum() < rows.size:
            samples.append(roc_auc_score(y[rows], p[rows], sample_weight=w[rows]))
    alpha = (1 - level) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha]) if samples else (None, None)
    row.update(roc_auc=float(roc_auc_score(y, p, sample_weight=w)), roc_auc_low=low, roc_auc_high=high)
    return {key: float(value) if isinstance(value, np.floating) else value for key, value in row.items()}


def brier_score(labels: Any, probabilities: Any, weights: Any = None) -> float:
    """Mean squared error of the probabilities against the 0/1 outcomes (lower is better);
    `weights`: a weighted mean."""
    y, p = _pair(labels, probabilities)
    if y.size == 0:
        raise ValueError("no settled customers: a Brier score of nothing is undefined")
    return float(np.average((p - y) ** 2, weights=weights))


def calibration_deciles(labels: Any, probabilities: Any, bins: int = 10) -> list[dict[str, Any]]:
    """Predicted vs realized «Снизилась» rate per probability decile (1 = the lowest).

    Customers with the same probability always share a decile — the one of their group's middle
    position in the sorted order — so the result does not depend on the input order. With heavy
    ties a decile can stay empty and is then left out; fewer customers than bins: one bin each."""
    if bins < 1:
        raise ValueError("bins must be >= 1")
    y, p = _pair(labels, probabilities)
    n = y.size
    if n == 0:
        return []
    bins = min(bins, n)
    order = np.argsort(p, kind="stable")
    y, p = y[order], p[order]
    values, first, counts = np.unique(p, return_index=True, return_counts=True)
    middle = first + (counts - 1) / 2.0  # 0-based mid position of each tie group, < n
    group_decile = np.floor(middle * bins / n).astype(int)
    decile = np.repeat(group_decile, counts)
    rows = []
    for d in np.unique(decile):
        members = decile == d
        rows.append(
            {
                "decile": int(d) + 1,
                "customers": int(members.sum()),
                "mean_predicted": float(p[members].mean()),
                "realized_rate": float(y[members].mean()),
                "min_probability": float(p[members].min()),
                "max_probability": float(p[members].max()),
            }
        )
    return rows


def wilson_interval(successes: int, total: int, z: float) -> tuple[float, float]:
    """Wilson score interval of one proportion: stays inside [0, 1] and honest at small n.

    scipy takes a confidence level, not a quantile: the level of `z` is 2Φ(z) − 1."""
    level = 2.0 * float(sps.norm.cdf(z)) - 1.0
    ci = sps.binomtest(successes, total).proportion_ci(confidence_level=level, method="wilson")
    return max(0.0, float(ci.low)), min(1.0, float(ci.high))


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) of p1 − p2 from the Wilson intervals of each."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided pooled z test of p1 = p2; 1.0 when the pooled rate is 0 or 1 (identical rates)."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / se
    return float(min(1.0, 2.0 * sps.norm.sf(abs(z))))


def welch_interval(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float]:
    """Welch t interval of mean(a) − mean(b); both groups need two customers.

    Both groups without spread: the interval shrinks to the point (width 0 whatever the df);
    scipy would give the same point but warn of a zero variance, so that case is answered here."""
    difference = float(a.mean() - b.mean())
    if np.var(a, ddof=1) + np.var(b, ddof=1) == 0.0:
        return difference, difference
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(confidence_level=level)
    return float(ci.low), float(ci.high)


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _revenue(treated: np.ndarray, holdout: np.ndarray, level: float, estimate: bool) -> dict[str, Any]:
    """The revenue-change columns of an offer effect: means always, the interval when estimable."""
    t_mean, h_mean = _mean(treated), _mean(holdout)
    low = high = None
    if estimate and treated.size >= 2 and holdout.size >= 2:
        low, high = welch_interval(treated, holdout, level)
    return {
        "treated_revenue_change": t_mean,
        "holdout_revenue_change": h_mean,
        "revenue_change_difference": None if t_mean is None or h_mean is None else t_mean - h_mean,
        "revenue_change_difference_low": low,
        "revenue_change_difference_high": high,
    }


def _verdict(low: float | None, high: float | None) -> str:
    """What BI shows: a direction only when the whole interval is on one side of zero."""
    if low is None or high is None:
        return TOO_SMALL
    if high < 0.0:
        return LOWERS
    if low > 0.0:
        return RAISES
    return NO_CLEAR


def offer_effect(
    treated_labels: Any,
    holdout_labels: Any,
    treated_revenue_change: Any,
    holdout_revenue_change: Any,
    level: float = 0.95,
    min_group: int = 30,
) -> dict[str, Any]:
    """Treated vs holdout of one segment and offer: «Снизилась» rates, their difference
    (treated − holdout, < 0 = the offer lowered churn) with a Newcombe interval and a z-test
    p-value, the revenue-change difference with a Welch interval, and a verdict.

    Either group below `min_group` (or empty): rates and means still reported, every interval and
    the p-value None, verdict «too small to tell» — a verdict from a handful of customers misleads."""
    z = _z(level)
    treated, holdout = _binary(treated_labels), _binary(holdout_labels)
    t_revenue = np.asarray(treated_revenue_change, dtype=float).ravel()
    h_revenue = np.asarray(holdout_revenue_change, dtype=float).ravel()
    if t_revenue.size != treated.size or h_revenue.size != holdout.size:
        raise ValueError("each group needs one revenue change per label")
    nt, nh, xt, xh = int(treated.size), int(holdout.size), int(treated.sum()), int(holdout.sum())
    t_rate, h_rate = (xt / nt if nt else None), (xh / nh if nh else None)
    estimate = min(nt, nh) >= max(min_group, 1)
    low = high = p_value = None
    if estimate:
        low, high = newcombe_interval(xt, nt, xh, nh, z)
        p_value = two_proportion_p_value(xt, nt, xh, nh)
    return {
        "treated_customers": nt,
        "holdout_customers": nh,
        "treated_churn_rate": t_rate,
        "holdout_churn_rate": h_rate,
        "churn_rate_difference": None if t_rate is None or h_rate is None else t_rate - h_rate,
        "churn_rate_difference_low": low,
        "churn_rate_difference_high": high,
        "churn_p_value": p_value,
        **_revenue(t_revenue, h_revenue, level, estimate),
        "verdict": _verdict(low, high),
    }
