"""Candidate families build and fit; parameters survive JSON; PSI reference bins; feature input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ml import candidates, evaluation, features, monitoring, reference
from tests.helpers import independent_psi, synthetic_frame


@pytest.fixture(scope="module")
def data():
    frame = synthetic_frame(n_customers=240, seed=5)
    return features.to_model_input(frame), features.target(frame)


def test_feature_list_excludes_keys_and_bookkeeping():
    assert len(features.FEATURES) == len(set(features.FEATURES)) == 17
    for column in ("snapshot_date", "customer_id", "churn_label", "is_active_3m", "revenue_outlier_fixed"):
        assert column not in features.FEATURES
    assert set(features.CATEGORICAL) == {"service_type", "popular_category"}
    assert "profit" in features.FEATURES and "profit" not in features.DUPLICATE_KEY


def test_model_input_types():
    frame = synthetic_frame(20, seed=1)
    X = features.to_model_input(frame.sample(frac=1, random_state=0).assign(extra=1))
    assert list(X.columns) == list(features.FEATURES)
    assert X["allow_messages"].isin([0, 1]).all() and X["allow_messages"].dtype == "int64"
    with pytest.raises(KeyError, match="profit"):
        features.to_model_input(frame.drop(columns=["profit"]))


@pytest.mark.parametrize("name", candidates.FAMILIES)
def test_family_params_round_trip_and_fit(name, data):
    X, y = data
    [params] = candidates.sample_params(name, 1, seed=0)
    params = json.loads(json.dumps(params))  # as stored in the registry
    pipeline = candidates.build_pipeline(name, params)
    assert type(pipeline.named_steps["model"]).__name__ == candidates.family(name).estimator
    encoder = pipeline.named_steps["prep"].transformers[0][1]
    assert type(encoder).__name__ == {"onehot": "OneHotEncoder", "ordinal": "OrdinalEncoder"}[params["encoder"]]
    if name in ("tree", "forest", "boosting"):
        assert params["scaler"] == "none"
    if name == "forest":
        pipeline.set_params(model__n_estimators=20)
    model = evaluation.calibrated(pipeline).fit(X, y)
    proba = model.predict_proba(X)[:, 1]
    assert proba.shape == (len(X),) and ((proba >= 0) & (proba <= 1)).all()


def test_search_space_covers_encoders_and_scalers():
    draws = candidates.sample_params("logreg", 60, seed=1)
    assert {d["encoder"] for d in draws} == {"onehot", "ordinal"}
    assert {d["scaler"] for d in draws} == {"standard", "minmax", "robust"}


def test_budgets():
    full, reduced = candidates.budget("full"), candidates.budget("reduced")
    assert candidates.n_iter("svc", full) > candidates.n_iter("svc", reduced) >= 1
    assert full.eval_splits * full.eval_repeats >= 20
    with pytest.raises(ValueError):
        candidates.budget("huge")


def test_budget_from_env(monkeypatch):
    monkeypatch.setenv("CHURN_SEARCH_BUDGET", "reduced")
    assert candidates.budget().name == "reduced"
    assert candidates.budget("full").name == "full"


def test_psi_reference(data):
    X, _ = data
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, len(X))
    ref = reference.build_reference(X, scores, "2026-01-31")
    assert set(ref["features"]) == set(features.FEATURES)
    tenure = ref["features"]["tenure_days"]
    assert len(tenure["proportions"]) == len(tenure["edges"]) + 1
    assert sum(tenure["proportions"]) == pytest.approx(1)
    assert independent_psi(tenure, X["tenure_days"]) < 0.01  # the training data against itself
    assert independent_psi(tenure, X["tenure_days"] + 400) > 0.25  # a real shift
    assert independent_psi(ref["score"], rng.uniform(0, 1, 5000)) < 0.05
    category = ref["features"]["service_type"]
    assert independent_psi(category, X["service_type"]) < 0.01
    assert independent_psi(category, pd.Series(["премиум"] * 100)) > 0.25
    assert monitoring.bin_counts(category, ["новый тип"])[-1] == 1  # unseen → __other__ bin


def test_search_picks_the_best_draw_reproducibly(data):
    from ml.training import search

    X, y = data
    chosen = candidates.budget("reduced")
    first = search.search_family("logreg", X, y, chosen)
    again = search.search_family("logreg", X, y, chosen)
    assert first["best_params"] == again["best_params"]
    scores = [c["mean"] for c in first["candidates"]]
    assert first["n_iter"] == len(scores) == candidates.n_iter("logreg", chosen)
    assert first["best_score"] == max(scores) and first["candidates"][0]["params"] == first["best_params"]
    assert first["folds"] == chosen.search_splits * chosen.search_repeats
    assert 0.7 < first["best_score"] <= 1.0  # the synthetic label is learnable
