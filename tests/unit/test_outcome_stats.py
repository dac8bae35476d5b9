"""The outcome statistics against independent references: sklearn's ROC-AUC, DeLong's variance
from its definition, published Newcombe intervals, scipy's Welch interval and chi-square test,
and simulations with a known truth (seeded, so every run sees the same samples)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.metrics import roc_auc_score

from ml.outcomes import stats

pytestmark = pytest.mark.unit


def _binormal(rng: np.random.Generator, positives: int, negatives: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Scores N(shift, 1) for positives, N(0, 1) for negatives: true AUC = Φ(shift / √2)."""
    scores = np.concatenate([rng.normal(shift, 1.0, positives), rng.normal(0.0, 1.0, negatives)])
    return np.r_[np.ones(positives, int), np.zeros(negatives, int)], scores


def _brute_delong_variance(labels: np.ndarray, scores: np.ndarray) -> float:
    """DeLong 1988 from the definition: ψ over every (positive, negative) pair, O(m·n)."""
    x, y = scores[labels == 1], scores[labels == 0]
    psi = (x[:, None] > y[None, :]).astype(float) + 0.5 * (x[:, None] == y[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(np.var(v10, ddof=1) / x.size + np.var(v01, ddof=1) / y.size)


# --- ROC-AUC ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_auc_equals_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) * 0.5 + 0.3 * labels, 1)  # one decimal: many ties, also across classes
    row = stats.roc_auc_ci(labels, scores)
    assert row["roc_auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert (row["positives"], row["negatives"]) == (int(labels.sum()), int((labels == 0).sum()))


@pytest.mark.parametrize("seed", range(3))
def test_delong_variance_matches_the_definition(seed):
    rng = np.random.default_rng(100 + seed)
    labels = rng.integers(0, 2, 80)
    scores = np.round(rng.random(80) + 0.4 * labels, 1)  # ties included
    row = stats.roc_auc_ci(labels, scores, level=0.9)
    auc = roc_auc_score(labels, scores)
    half = sps.norm.ppf(0.95) * math.sqrt(_brute_delong_variance(labels, scores))
    assert row["roc_auc_low"] == pytest.approx(max(0.0, auc - half), abs=1e-12)
    assert row["roc_auc_high"] == pytest.approx(min(1.0, auc + half), abs=1e-12)


def test_the_interval_narrows_with_more_customers():
    rng = np.random.default_rng(7)
    widths = []
    for n in (200, 2000, 20000):
        row = stats.roc_auc_ci(*_binormal(rng, n // 4, n - n // 4, 1.0))
        widths.append(row["roc_auc_high"] - row["roc_auc_low"])
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[0] / widths[1] == pytest.approx(math.sqrt(10), rel=0.25)  # width ∝ 1/√n


def test_the_95_percent_interval_covers_the_true_auc_about_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    shift = 1.0
    true_auc = sps.norm.cdf(shift / math.sqrt(2))  # ≈ 0.760
    covered = []
    for _ in range(200):
        row = stats.roc_auc_ci(*_binormal(rng, 60, 140, shift))
        covered.append(row["roc_auc_low"] <= true_auc <= row["roc_auc_high"])
    assert 0.90 <= np.mean(covered) <= 0.99, np.mean(covered)


def test_one_class_gives_no_auc_and_one_member_gives_no_interval():
    assert stats.roc_auc_ci([1, 1, 1], [0.2, 0.5, 0.9]) == {
        "roc_auc": None,
        "roc_auc_low": None,
        "roc_auc_high": None,
        "positives": 3,
        "negatives": 0,
    }
    assert stats.roc_auc_ci([], [])["roc_auc"] is None
    single = stats.roc_auc_ci([1, 0, 0, 0], [0.5, 0.1, 0.5, 0.9])
    assert single["roc_auc"] == pytest.approx(roc_auc_score([1, 0, 0, 0], [0.5, 0.1, 0.5, 0.9]))
    assert single["roc_auc_low"] is None and single["roc_auc_high"] is None


def test_perfect_ranking_is_clipped_inside_zero_one():
    row = stats.roc_auc_ci([0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    assert row["roc_auc"] == 1.0 and 0.0 <= row["roc_auc_low"] <= row["roc_auc_high"] <= 1.0


def test_bad_input_fails_loudly():
    with pytest.raises(ValueError):
        stats.roc_auc_ci([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError):
        stats.brier_score([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError):
        stats.roc_auc_ci([0, 1], [0.1, float("nan")])


# --- Brier and calibration -------------------------------------------------------------------


def test_brier_score_is_the_mean_squared_error():
    labels, probabilities = [1, 0, 1, 0], [0.9, 0.2, 0.4, 0.0]
    expected = ((0.9 - 1) ** 2 + 0.2**2 + (0.4 - 1) ** 2 + 0.0**2) / 4  # 0.1025
    assert stats.brier_score(labels, probabilities) == pytest.approx(expected, abs=1e-15)
    assert type(stats.brier_score(labels, probabilities)) is float


def test_perfectly_calibrated_probabilities_match_their_realized_rate_in_every_decile():
    rng = np.random.default_rng(11)
    probabilities = rng.random(20000)
    labels = (rng.random(20000) < probabilities).astype(int)
    deciles = stats.calibration_deciles(labels, probabilities)
    assert [d["decile"] for d in deciles] == list(range(1, 11))
    assert sum(d["customers"] for d in deciles) == 20000
    assert all(d["customers"] == 2000 for d in deciles)
    assert max(abs(d["mean_predicted"] - d["realized_rate"]) for d in deciles) < 0.04  # ≈ 3.5 SE
    means = [d["mean_predicted"] for d in deciles]
    assert means == sorted(means) and means[0] == min(means)
    assert all(a["max_probability"] <= b["min_probability"] for a, b in zip(deciles, deciles[1:]))


def test_miscalibrated_probabilities_show_the_gap():
    rng = np.random.default_rng(12)
    truth = rng.random(10000)
    labels = (rng.random(10000) < truth).astype(int)
    deciles = stats.calibration_deciles(labels, np.sqrt(truth))  # overconfident in «Снизилась»
    assert all(d["mean_predicted"] > d["realized_rate"] for d in deciles)


def test_ties_share_a_decile_whatever_the_input_order():
    rng = np.random.default_rng(13)
    probabilities = np.round(rng.random(997), 2)  # ~100 distinct values: tie groups straddle every cut
    labels = rng.integers(0, 2, 997)
    deciles = stats.calibration_deciles(labels, probabilities)
    assert sum(d["customers"] for d in deciles) == 997
    # no probability appears in two deciles: each decile's range ends below the next one's
    assert all(a["max_probability"] < b["min_probability"] for a, b in zip(deciles, deciles[1:]))
    order = rng.permutation(997)
    assert stats.calibration_deciles(labels[order], probabilities[order]) == deciles


def test_heavy_ties_and_fewer_customers_than_bins():
    same = stats.calibration_deciles([0, 1, 1, 0], [0.3] * 4)
    assert len(same) == 1 and same[0]["customers"] == 4 and same[0]["realized_rate"] == 0.5
    few = stats.calibration_deciles([0, 1, 1], [0.9, 0.1, 0.5])
    assert [(d["decile"], d["customers"], d["mean_predicted"]) for d in few] == [(1, 1, 0.1), (2, 1, 0.5), (3, 1, 0.9)]
    assert stats.calibration_deciles([], []) == []


# --- offer effects ---------------------------------------------------------------------------


def _groups(
    rng: np.random.Generator, treated_rate: float, holdout_rate: float, treated: int = 2000, holdout: int = 400
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t_labels = (rng.random(treated) < treated_rate).astype(int)
    h_labels = (rng.random(holdout) < holdout_rate).astype(int)
    return t_labels, h_labels, rng.normal(-100 * t_labels, 50), rng.normal(-100 * h_labels, 80)


def test_a_known_effect_lies_inside_the_interval():
    t, h, tr, hr = _groups(np.random.default_rng(21), 0.45, 0.60)
    effect = stats.offer_effect(t, h, tr, hr)
    assert effect["treated_customers"] == 2000 and effect["holdout_customers"] == 400
    assert effect["churn_rate_difference_low"] <= -0.15 <= effect["churn_rate_difference_high"]
    assert effect["churn_rate_difference"] == pytest.approx(t.mean() - h.mean())
    assert effect["verdict"] == "offer lowers churn" and effect["churn_p_value"] < 0.01
    # fewer drops cost less revenue: true revenue difference = -100 * (0.45 - 0.60) = +15
    assert effect["revenue_change_difference_low"] <= 15 <= effect["revenue_change_difference_high"]
    json.dumps(effect)  # a row BI can read as it is


def test_no_true_effect_is_rarely_called_significant():
    significant = []
    for seed in range(40):
        effect = stats.offer_effect(*_groups(np.random.default_rng(300 + seed), 0.5, 0.5))
        significant.append(effect["verdict"] != "no clear effect")
        if abs(effect["churn_p_value"] - 0.05) > 0.01:  # away from the edge the z test and Newcombe agree
            assert (effect["churn_p_value"] < 0.05) == significant[-1], effect
    assert sum(significant) <= 4, significant  # ≈ 2 expected at the 5 % level


def test_raised_churn_is_reported_as_such():
    effect = stats.offer_effect(*_groups(np.random.default_rng(22), 0.70, 0.50))
    assert effect["verdict"] == "offer raises churn" and effect["churn_rate_difference_low"] > 0


@pytest.mark.parametrize(
    "x1, n1, x2, n2, low, high",
    [
        (56, 70, 48, 80, 0.0524, 0.3339),  # Newcombe 1998, Table II, example (a), method 10
        (9, 10, 3, 10, 0.1705, 0.8090),  # example (b)
        (5, 56, 0, 29, -0.0381, 0.1926),  # example (f): a zero rate
        (0, 10, 0, 20, -0.1611, 0.2775),  # example (g): both rates zero
    ],
)
def test_newcombe_interval_matches_the_published_examples(x1, n1, x2, n2, low, high):
    effect = stats.offer_effect(
        [1] * x1 + [0] * (n1 - x1), [1] * x2 + [0] * (n2 - x2), np.zeros(n1), np.zeros(n2), min_group=5
    )
    assert effect["churn_rate_difference"] == pytest.approx(x1 / n1 - x2 / n2)
    assert effect["churn_rate_difference_low"] == pytest.approx(low, abs=5e-5)
    assert effect["churn_rate_difference_high"] == pytest.approx(high, abs=5e-5)


def test_p_value_is_the_pooled_two_proportion_z_test():
    t, h = [1] * 56 + [0] * 14, [1] * 48 + [0] * 32
    effect = stats.offer_effect(t, h, np.zeros(70), np.zeros(80))
    table = [[56, 14], [48, 32]]
    assert effect["churn_p_value"] == pytest.approx(sps.chi2_contingency(table, correction=False)[1], rel=1e-9)
    same = stats.offer_effect([0] * 40, [0] * 50, np.zeros(40), np.zeros(50))
    assert same["churn_p_value"] == 1.0 and same["verdict"] == "no clear effect"
    assert stats.offer_effect([1] * 40, [1] * 50, np.zeros(40), np.zeros(50))["churn_p_value"] == 1.0


def _textbook_welch(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float]:
    """Welch 1947 from the definition: the standard error and the Welch–Satterthwaite df."""
    va, vb = np.var(a, ddof=1) / a.size, np.var(b, ddof=1) / b.size
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = sps.t.ppf(0.5 + level / 2.0, df) * math.sqrt(va + vb)
    return a.mean() - b.mean() - half, a.mean() - b.mean() + half


def test_welch_interval_matches_scipy_and_the_textbook_formula():
    rng = np.random.default_rng(31)
    a, b = rng.normal(10, 3, 45), rng.normal(8, 9, 120)
    effect = stats.offer_effect(rng.integers(0, 2, 45), rng.integers(0, 2, 120), a, b, level=0.9)
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(confidence_level=0.9)
    low, high = _textbook_welch(a, b, 0.9)
    assert effect["revenue_change_difference"] == pytest.approx(a.mean() - b.mean())
    assert effect["revenue_change_difference_low"] == pytest.approx(ci.low, rel=1e-9)
    assert effect["revenue_change_difference_high"] == pytest.approx(ci.high, rel=1e-9)
    assert (effect["revenue_change_difference_low"], effect["revenue_change_difference_high"]) == pytest.approx(
        (low, high), rel=1e-9
    )


def test_welch_interval_without_spread_is_the_point():
    assert stats.welch_interval(np.full(5, 3.0), np.full(7, 1.0), 0.95) == (2.0, 2.0)


@pytest.mark.parametrize(
    "successes, total, low, high",
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe 1998 (single proportion), Table I, method 3 (Wilson)
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_the_published_examples(successes, total, low, high):
    interval = stats.wilson_interval(successes, total, sps.norm.ppf(0.975))
    assert interval == pytest.approx((low, high), abs=5e-5)
    assert all(type(bound) is float for bound in interval)


def test_too_small_groups_report_rates_but_no_intervals():
    effect = stats.offer_effect([1] * 10 + [0] * 10, [1] * 300 + [0] * 200, np.ones(20), np.zeros(500))
    assert effect["verdict"] == "too small to tell"
    assert effect["treated_churn_rate"] == 0.5 and effect["holdout_churn_rate"] == 0.6
    assert effect["churn_rate_difference"] == pytest.approx(-0.1)
    assert effect["revenue_change_difference"] == 1.0
    for key in (
        "churn_rate_difference_low",
        "churn_rate_difference_high",
        "churn_p_value",
        "revenue_change_difference_low",
        "revenue_change_difference_high",
    ):
        assert effect[key] is None, key


@pytest.mark.parametrize("min_group", [0, 30])
def test_empty_groups_do_not_crash(min_group):
    effect = stats.offer_effect([], [0, 1, 1], [], [1.0, 2.0, 3.0], min_group=min_group)
    assert effect["treated_customers"] == 0 and effect["holdout_customers"] == 3
    assert effect["treated_churn_rate"] is None and effect["holdout_churn_rate"] == pytest.approx(2 / 3)
    assert effect["churn_rate_difference"] is None and effect["revenue_change_difference"] is None
    assert effect["verdict"] == "too small to tell"
    both = stats.offer_effect([], [], [], [], min_group=min_group)
    assert both["treated_churn_rate"] is None and both["verdict"] == "too small to tell"
    json.dumps(both)


def test_a_weighted_roc_auc_is_the_roc_auc_of_the_population_the_weights_stand_for():
    rng = np.random.default_rng(3)
    p = rng.random(400)
    y = (rng.random(400) < p).astype(int)
    plain = stats.roc_auc_ci(y, p)
    same = stats.weighted_roc_auc_ci(y, p, np.ones(400))
    assert same["roc_auc"] == pytest.approx(plain["roc_auc"])
    assert same["roc_auc_low"] < same["roc_auc"] < same["roc_auc_high"]
    # weight 3 on the first 100 rows = those rows three times over
    weights = np.r_[np.full(100, 3.0), np.ones(300)]
    tripled = stats.roc_auc_ci(np.r_[y[:100], y[:100], y], np.r_[p[:100], p[:100], p])
    assert stats.weighted_roc_auc_ci(y, p, weights)["roc_auc"] == pytest.approx(tripled["roc_auc"])
    assert stats.brier_score(y, p, weights) == pytest.approx(
        stats.brier_score(np.r_[y[:100], y[:100], y], np.r_[p[:100], p[:100], p])
    )
