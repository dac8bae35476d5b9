"""The bounded-retraining rule: a stratified, grouped, deterministic sample above the row limit,
and the super-linear families left out above their size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import candidates, features

pytestmark = pytest.mark.unit


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {features.ID: np.arange(rows), features.TARGET: (rng.random(rows) < 0.3).astype(int)}
    for column in features.CATEGORICAL:
        data[column] = rng.choice(["a", "b", "c"], rows)
    for column in features.NUMERIC_INPUT:
        data[column] = rng.integers(0, 1000, rows).astype(float)
    frame = pd.DataFrame(data)
    pairs = min(2000, rows // 2)  # customers i and i + rows // 2 agree on all but profit
    key = list(features.DUPLICATE_KEY)
    frame.loc[rows // 2 : rows // 2 + pairs - 1, key] = frame.loc[: pairs - 1, key].to_numpy()
    # with opposite labels, so the two fall into different strata of the stratified draw
    frame.loc[rows // 2 : rows // 2 + pairs - 1, features.TARGET] = (
        1 - frame.loc[: pairs - 1, features.TARGET].to_numpy()
    )
    return frame


def test_small_sets_are_kept_whole():
    frame = _frame(1297)
    assert features.sample_training_rows(frame, 20_000) is frame


def test_large_sets_are_sampled_stratified_grouped_and_repeatably():
    frame = _frame(50_000)
    sample = features.sample_training_rows(frame, 5_000)
    assert abs(len(sample) - 5_000) <= 5
    assert abs(sample[features.TARGET].mean() - frame[features.TARGET].mean()) < 0.01
    assert sample[features.ID].is_monotonic_increasing and sample[features.ID].is_unique
    drawn = set(sample[features.ID])
    together = [(i in drawn) + (i + 25_000 in drawn) for i in range(2000)]  # the same customer twice
    assert set(together) <= {0, 2} and together.count(2) > 50
    again = features.sample_training_rows(frame.sample(frac=1, random_state=3), 5_000)
    assert again[features.ID].tolist() == sample[features.ID].tolist()


def test_super_linear_families_are_left_out_above_their_size():
    kept, left_out = candidates.families_for(candidates.FAMILIES, 1297)
    assert left_out == [] and kept == list(candidates.FAMILIES)
    kept, left_out = candidates.families_for(candidates.FAMILIES, 20_000)
    assert set(left_out) == {"svc", "knn"} and "logreg" in kept and "boosting" in kept


def test_large_training_sets_use_the_large_budget_unless_reduced_was_asked_for():
    full, reduced = candidates.budget("full"), candidates.budget("reduced")
    assert candidates.budget_for(full, 1297) is full  # the real export keeps its budget
    large = candidates.budget_for(full, candidates.LARGE_SET_ROWS + 1)
    assert large.name == "large" and large.eval_splits * large.eval_repeats < full.eval_splits * full.eval_repeats
    assert candidates.budget_for(reduced, 10_000) is reduced
    assert features.DEFAULT_MAX_TRAINING_ROWS > candidates.LARGE_SET_ROWS
