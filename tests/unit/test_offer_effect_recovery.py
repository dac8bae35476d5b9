"""The effect estimate against a known truth, over many synthetic histories (no warehouse, so
many seeds fit in seconds): the history gives the treated customers of one segment a true
effect and another segment none; the groups are the job's own holdout draw and the estimate is
the job's own `offer_effect`. The end-to-end run through the DAGs is tests/integration/test_outcomes.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.synth.history import History, HistorySpec
from etl.warehouse.sources import SOURCES
from ml import experiments
from ml.outcomes import stats

pytestmark = pytest.mark.unit

SEEDS = range(16)
CUSTOMERS, HORIZON, TRUE_EFFECT = 5000, 3, 0.15
LABEL_HEADER = next(s for s in SOURCES if s.file_name == "market_file.csv").columns[1].header


def _labels(folder: Path) -> np.ndarray:
    frame = pd.read_csv(folder / "market_file.csv")
    return (frame[LABEL_HEADER] == "Снизилась").to_numpy(dtype=int)


def _revenue(folder: Path) -> np.ndarray:
    frame = pd.read_csv(folder / "market_money.csv")
    return frame.groupby(frame.columns[0], sort=True)[frame.columns[2]].sum().to_numpy(dtype=float)


def _one_history(seed: int, folder: Path) -> dict[str, dict]:
    """Night 0's riskier half (by the truth, as a perfect model would see it) is the segment with
    an effect; the other half has none. Estimated at night 3, which settles night 0."""
    history = History(HistorySpec(customers=CUSTOMERS, seed=seed, horizon=HORIZON))
    ids = np.arange(history.spec.start_id, history.spec.start_id + CUSTOMERS)
    risk = history.label_probability(HORIZON)  # untreated: P(«Снизилась») over the period after night 0
    segment = np.where(risk >= np.median(risk), "with_effect", "without_effect").astype(object)
    groups = experiments.assign_groups(ids, segment, experiments.Experiment(f"seed-{seed}", 0.3))
    treated = (groups == experiments.TREATMENT) & (segment == "with_effect")
    history.record_treatment(0, dict(zip(ids.tolist(), np.where(treated, TRUE_EFFECT, 0.0).tolist())))
    history.write(0, folder / "0")
    history.write(HORIZON, folder / "3")
    labels, change = _labels(folder / "3"), _revenue(folder / "3") - _revenue(folder / "0")
    estimates = {}
    for name in ("with_effect", "without_effect"):
        rows = segment == name
        on, off = rows & (groups == experiments.TREATMENT), rows & (groups == experiments.HOLDOUT)
        estimates[name] = stats.offer_effect(labels[on], labels[off], change[on], change[off], level=0.95, min_group=30)
    return estimates


@pytest.fixture(scope="module")
def estimates(tmp_path_factory) -> list[dict[str, dict]]:
    return [_one_history(seed, tmp_path_factory.mktemp(f"seed{seed}")) for seed in SEEDS]


def test_the_true_effect_lies_inside_the_interval_in_almost_every_history(estimates):
    covered = [
        e["with_effect"]["churn_rate_difference_low"] <= -TRUE_EFFECT <= e["with_effect"]["churn_rate_difference_high"]
        for e in estimates
    ]
    # a 95 % interval misses in 5 % of histories: 3 misses of 16 would already be unlikely (p ≈ 0.04)
    assert sum(covered) >= len(SEEDS) - 2, covered
    assert all(e["with_effect"]["verdict"] == "offer lowers churn" for e in estimates)
    mean = np.mean([e["with_effect"]["churn_rate_difference"] for e in estimates])
    assert mean == pytest.approx(-TRUE_EFFECT, abs=0.02)  # unbiased over the histories
    # the offer prevents drops, and a drop costs revenue: the treated keep more of it
    assert np.mean([e["with_effect"]["revenue_change_difference"] for e in estimates]) > 0


def test_a_segment_without_an_effect_is_rarely_reported_as_one(estimates):
    significant = [e["without_effect"]["verdict"] != "no clear effect" for e in estimates]
    assert sum(significant) <= 2, significant  # at the 5 % level: ≈ 0.8 of 16 expected
