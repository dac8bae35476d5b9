"""PSI from chunk-accumulated bin counts, against an independent one-pass PSI (tests.helpers)."""

from __future__ import annotations

import numpy as np
import pytest

from ml import features, monitoring, reference
from tests.helpers import independent_psi, synthetic_frame


@pytest.fixture(scope="module")
def training():
    frame = synthetic_frame(800, seed=2)
    X = features.to_model_input(frame)
    scores = np.random.default_rng(0).beta(2, 3, len(X))
    return X, scores, reference.build_reference(X, scores, "2026-05-31")


def test_counts_give_the_same_psi_as_a_one_pass_computation(training):
    X, scores, ref = training
    shifted = features.to_model_input(synthetic_frame(500, seed=9))
    shifted["promo_share"] = np.clip(shifted["promo_share"] + 0.3, 0, 0.99)
    for column in features.FEATURES:
        entry = ref["features"][column]
        counts = monitoring.bin_counts(entry, shifted[column])
        assert counts.sum() == len(shifted)
        assert monitoring.psi_from_counts(entry, counts) == pytest.approx(
            independent_psi(entry, shifted[column]), abs=1e-12
        )


def test_chunked_accumulation_equals_one_pass(training):
    X, scores, ref = training
    frame = synthetic_frame(1000, seed=5)
    new_scores = np.random.default_rng(1).beta(2, 2, len(frame))
    whole = monitoring.DriftAccumulator(ref)
    whole.add(frame, new_scores)
    chunked = monitoring.DriftAccumulator(ref)
    for start in range(0, len(frame), 137):
        chunked.add(frame.iloc[start : start + 137], new_scores[start : start + 137])
    assert chunked.customers == whole.customers == 1000
    assert [r["psi"] for r in chunked.results()] == pytest.approx([r["psi"] for r in whole.results()], abs=1e-12)


def test_same_distribution_is_stable_and_a_shift_is_flagged(training):
    X, scores, ref = training
    same = monitoring.DriftAccumulator(ref)
    same.add(synthetic_frame(800, seed=2), scores)
    results = {r["variable"]: r for r in same.results()}
    assert set(results) == set(features.FEATURES) | {monitoring.SCORE_VARIABLE}
    assert all(r["psi"] < 1e-9 and r["status"] == "stable" for r in results.values())

    frame = synthetic_frame(800, seed=2)
    frame["tenure_days"] = frame["tenure_days"] * 3  # everyone much older than in training
    shifted = monitoring.DriftAccumulator(ref)
    shifted.add(frame, np.clip(scores + 0.4, 0, 1))
    results = {r["variable"]: r for r in shifted.results()}
    assert results["tenure_days"]["psi"] > monitoring.PSI_WARNING and results["tenure_days"]["status"] == "shifted"
    assert results["churn_probability"]["status"] == "shifted"
    assert results["pages_per_visit"]["status"] == "stable"
    bins = results["tenure_days"]["bins"]
    assert len(bins["labels"]) == len(bins["expected"]) == len(bins["actual"])
    assert sum(bins["actual"]) == pytest.approx(1.0)


def test_unseen_categories_count_in_the_other_bin(training):
    _, _, ref = training
    entry = ref["features"]["popular_category"]
    counts = monitoring.bin_counts(entry, ["Товары для детей", "Садовая мебель", "Садовая мебель"])
    assert counts[-1] == 2 and counts.sum() == 3
    assert monitoring.bin_labels(entry)[-1] == reference.OTHER


@pytest.mark.parametrize(
    "psi, status", [(0.0, "stable"), (0.0999, "stable"), (0.1, "watch"), (0.2, "watch"), (0.2001, "shifted")]
)
def test_status_levels(psi, status):
    assert monitoring.status(psi) == status


def test_numeric_bin_labels():
    entry = {"kind": "numeric", "edges": [1.0, 2.5], "proportions": [0.3, 0.3, 0.4]}
    assert monitoring.bin_labels(entry) == ["< 1", "1 – 2.5", ">= 2.5"]
    assert list(monitoring.bin_counts(entry, [0.5, 1.0, 2.4, 2.5, 9])) == [1, 2, 2]
