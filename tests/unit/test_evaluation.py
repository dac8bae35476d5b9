"""Splits keep duplicate customers together; the threshold rule; metrics; the promotion gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import evaluation, features
from tests.helpers import synthetic_frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthetic_frame(n_customers=300, seed=3, duplicate_pairs=12)


def _duplicate_pairs(X: pd.DataFrame) -> list[tuple[int, int]]:
    key = X[list(features.DUPLICATE_KEY)].astype(str).agg("|".join, axis=1)
    return [tuple(idx) for idx in key.groupby(key).groups.values() if len(idx) == 2]


def test_duplicates_differ_only_in_id_and_profit_and_get_one_group(frame):
    X = features.to_model_input(frame)
    pairs = _duplicate_pairs(X)
    assert len(pairs) == 12
    groups = features.duplicate_groups(X)
    for a, b in pairs:
        assert groups[a] == groups[b]
        assert X.loc[a, "profit"] != X.loc[b, "profit"]  # the profit difference does not split them
    assert len(set(groups)) == len(X) - 12


@pytest.mark.parametrize("n_splits,n_repeats", [(5, 3), (3, 2)])
def test_duplicate_customers_never_split_across_folds(frame, n_splits, n_repeats):
    X, y = features.to_model_input(frame), features.target(frame)
    cv = evaluation.RepeatedStratifiedGroupKFold(n_splits, n_repeats, random_state=7)
    splits = list(cv.split(X, y))  # groups derived from X itself
    assert len(splits) == cv.get_n_splits() == n_splits * n_repeats
    pairs = _duplicate_pairs(X)
    for train, test in splits:
        test_set = set(test.tolist())
        assert not test_set & set(train.tolist())
        for a, b in pairs:
            assert (a in test_set) == (b in test_set), f"pair {a},{b} split across a fold"
    for r in range(n_repeats):  # each repeat is a partition of all rows
        tests = np.concatenate([t for _, t in splits[r * n_splits : (r + 1) * n_splits]])
        assert sorted(tests.tolist()) == list(range(len(X)))
    for _, test in splits:  # stratified: every fold close to the overall churn share
        assert abs(y[test].mean() - y.mean()) < 0.08
    first = [t.tolist() for _, t in splits[:n_splits]]
    second = [t.tolist() for _, t in splits[n_splits : 2 * n_splits]]
    if n_repeats > 1:
        assert first != second  # repeats reshuffle


def test_plain_stratified_kfold_would_split_some_pairs(frame):
    """Guards the test above: without groups, pairs do land on both sides."""
    from sklearn.model_selection import StratifiedKFold

    X, y = features.to_model_input(frame), features.target(frame)
    pairs = _duplicate_pairs(X)
    split_pairs = 0
    for _, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        test_set = set(test.tolist())
        split_pairs += sum((a in test_set) != (b in test_set) for a, b in pairs)
    assert split_pairs > 0


def test_splits_are_reproducible(frame):
    X, y = features.to_model_input(frame), features.target(frame)
    a = [t.tolist() for _, t in evaluation.RepeatedStratifiedGroupKFold(5, 2, 1000).split(X, y)]
    b = [t.tolist() for _, t in evaluation.RepeatedStratifiedGroupKFold(5, 2, 1000).split(X, y)]
    assert a == b


def test_threshold_is_the_highest_reaching_target_recall():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    proba = np.clip(0.35 * y + rng.uniform(0, 0.65, 500), 0, 1)
    t = evaluation.choose_threshold(y, proba, target_recall=0.8)

    def recall_at(thr):
        return (proba[y == 1] >= thr).mean()

    assert recall_at(t) >= 0.8
    higher = np.unique(proba[proba > t])
    assert higher.size == 0 or recall_at(higher.min()) < 0.8  # the next threshold up misses the target


def test_threshold_small_example():
    y = [1, 1, 1, 1, 0, 0, 0, 0, 1, 0]
    p = [0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05, 0.65, 0.35]
    # positives sorted: .9 .8 .7 .65 .3 → recall 0.8 needs 4 of 5 → threshold 0.65
    assert evaluation.choose_threshold(y, p, 0.8) == pytest.approx(0.65)
    assert evaluation.choose_threshold(y, p, 1.0) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        evaluation.choose_threshold([0, 0], [0.1, 0.2])


def test_cv_metrics_report_mean_and_spread_at_the_pooled_threshold(frame):
    X, y = features.to_model_input(frame), features.target(frame)
    cv = evaluation.RepeatedStratifiedGroupKFold(3, 2, 0)
    rng = np.random.default_rng(1)
    test_indices = [t.tolist() for _, t in cv.split(X, y)]
    probabilities = [np.clip(0.5 * y[t] + rng.uniform(0, 0.5, len(t)), 0, 1).tolist() for t in test_indices]
    folds = evaluation.FoldPredictions(test_indices, probabilities, 3)
    metrics = evaluation.cv_metrics(y, folds)
    assert metrics["folds"] == 6
    assert len(metrics["fold_roc_auc"]) == 6
    assert metrics["roc_auc"]["mean"] == pytest.approx(np.mean(metrics["fold_roc_auc"]))
    assert metrics["roc_auc"]["std"] == pytest.approx(np.std(metrics["fold_roc_auc"], ddof=1))
    assert metrics["recall"]["mean"] >= 0.7  # chosen for recall ≥ 0.8 on the pooled predictions
    assert 0 < metrics["brier"]["mean"] < 0.25
    pooled_y = np.concatenate([y[t] for t in test_indices])
    pooled_p = np.concatenate(probabilities)
    assert metrics["threshold"] == evaluation.choose_threshold(pooled_y, pooled_p)


def test_calibrated_model_gives_probabilities_and_keeps_the_pipeline_inspectable(frame):
    from ml import candidates

    X, y = features.to_model_input(frame), features.target(frame)
    model = evaluation.calibrated(candidates.build_pipeline("svc", {"model__C": 1.0, "model__gamma": 0.05})).fit(X, y)
    proba = model.predict_proba(X)[:, 1]
    assert ((proba >= 0) & (proba <= 1)).all() and proba.std() > 0.1
    inner = evaluation.base_pipeline(model)
    assert type(inner.named_steps["model"]).__name__ == "SVC"
    assert inner.named_steps["model"].get_params()["probability"] == "deprecated"  # not SVC(probability=True)
    # sigmoid calibration with ensemble=False is monotone: same ranking as the SVC's margin
    assert np.array_equal(np.argsort(proba, kind="stable"), np.argsort(inner.decision_function(X), kind="stable"))


# --- promotion gate ---------------------------------------------------------------------------


def test_first_model_needs_085():
    assert evaluation.decide_promotion([0.86, 0.84, 0.87]).promote  # mean 0.8567
    rejected = evaluation.decide_promotion([0.84, 0.85, 0.855])
    assert not rejected.promote and "0.85" in rejected.rule


def test_worse_challenger_on_same_folds_is_rejected():
    champion = [0.91, 0.90, 0.92, 0.89, 0.91]
    worse = [a - 0.01 for a in champion]
    decision = evaluation.decide_promotion(worse, champion, champion_version="v1")
    assert not decision.promote
    assert decision.mean_difference == pytest.approx(-0.01)
    assert decision.champion_version == "v1"


def test_challenger_within_margin_on_newer_snapshot_is_promoted():
    champion = [0.91, 0.90, 0.92, 0.89, 0.91]
    slightly_worse = [a - 0.004 for a in champion]
    assert evaluation.decide_promotion(slightly_worse, champion).promote
    assert not evaluation.decide_promotion([a - 0.006 for a in champion], champion).promote


def test_same_snapshot_needs_strict_improvement():
    champion = [0.91, 0.90, 0.92, 0.89, 0.91]
    assert not evaluation.decide_promotion(champion, champion, same_snapshot=True).promote  # identical retrain
    assert not evaluation.decide_promotion([a - 0.001 for a in champion], champion, same_snapshot=True).promote
    assert evaluation.decide_promotion([a + 0.001 for a in champion], champion, same_snapshot=True).promote


def test_paired_comparison_needs_same_folds():
    with pytest.raises(ValueError):
        evaluation.decide_promotion([0.9, 0.9], [0.9, 0.9, 0.9])


def test_paired_differences_not_means_decide():
    """Pairing matters: the challenger wins on every fold although fold scores vary a lot."""
    champion = [0.80, 0.95, 0.85, 0.93, 0.88]
    challenger = [a + 0.002 for a in champion]
    decision = evaluation.decide_promotion(challenger, champion, same_snapshot=True)
    assert decision.promote
    assert decision.std_difference == pytest.approx(0.0, abs=1e-12)
    assert decision.fold_differences == pytest.approx([0.002] * 5)
