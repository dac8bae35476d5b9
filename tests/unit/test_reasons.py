"""Per-customer reasons (top factors) and chunk scoring, on synthetic data with real pipelines."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from ml import candidates, evaluation, features, scoring, segments
from tests.helpers import synthetic_frame


@pytest.fixture(scope="module")
def data():
    frame = synthetic_frame(600, seed=1)
    return frame, features.to_model_input(frame), features.target(frame)


@pytest.fixture(scope="module")
def rules():
    return segments.load_rules()


def _baseline(X):
    return {
        **{c: float(X[c].median()) for c in features.NUMERIC_INPUT},
        **{c: str(X[c].mode().iloc[0]) for c in features.CATEGORICAL},
    }


def _fit(family, params, X, y):
    return evaluation.calibrated(candidates.build_pipeline(family, params)).fit(X, y)


@pytest.fixture(
    scope="module",
    params=[
        {"encoder": "onehot", "scaler": "standard", "model__C": 1.0},
        {"encoder": "ordinal", "scaler": "robust", "model__C": 0.3},
        {"encoder": "onehot", "scaler": "minmax", "model__C": 0.5, "model__l1_ratio": 1.0},
    ],
)
def logreg(request, data):
    _, X, y = data
    return _fit("logreg", request.param, X, y)


def test_linear_impacts_equal_what_if_re_predictions(logreg, data, rules):
    _, X, _ = data
    proba = logreg.predict_proba(X)[:, 1]
    fast = scoring.Explainer(logreg, _baseline(X), rules)
    slow = scoring.Explainer(logreg, _baseline(X), rules, allow_exact=False)
    assert fast.method == "linear" and slow.method == "what-if"
    np.testing.assert_allclose(fast.impacts(X, proba), slow.impacts(X, proba), atol=1e-12)


def test_what_if_impact_is_the_drop_when_the_input_becomes_typical(data, rules):
    _, X, y = data
    model = _fit("tree", {"encoder": "ordinal", "model__max_depth": 4, "model__min_samples_leaf": 10}, X, y)
    baseline = _baseline(X)
    explainer = scoring.Explainer(model, baseline, rules)
    assert explainer.method == "what-if"
    proba = model.predict_proba(X)[:, 1]
    impacts = explainer.impacts(X, proba)
    j = features.FEATURES.index("pages_per_visit")
    changed = X.copy()
    changed["pages_per_visit"] = baseline["pages_per_visit"]
    np.testing.assert_allclose(impacts[:, j], proba - model.predict_proba(changed)[:, 1])
    at_baseline = (X["pages_per_visit"] == baseline["pages_per_visit"]).to_numpy()
    assert at_baseline.any() and np.all(impacts[at_baseline, j] == 0)


def test_top_factors_are_the_strongest_positive_impacts_in_words(logreg, data, rules):
    _, X, _ = data
    baseline = _baseline(X)
    explainer = scoring.Explainer(logreg, baseline, rules)
    proba = logreg.predict_proba(X)[:, 1]
    impacts = explainer.impacts(X, proba)
    texts = explainer.top_factors(X, impacts)
    assert len(texts) == len(X)
    for i, text in enumerate(texts):
        factors = json.loads(text)
        expected = [
            j
            for j in np.argsort(-impacts[i], kind="stable")[: rules.factor_count]
            if impacts[i, j] > 0 and impacts[i, j] >= rules.factor_min_impact
        ]
        assert [f["feature"] for f in factors] == [features.FEATURES[j] for j in expected]
        for factor, j in zip(factors, expected):
            assert factor["impact"] == pytest.approx(impacts[i, j], abs=5e-5)
            column = features.FEATURES[j]
            if column in features.CATEGORICAL:
                assert factor["direction"] == "value" and factor["value"] == X[column].iloc[i]
            else:
                direction = "low" if X[column].iloc[i] < baseline[column] else "high"
                assert factor["direction"] == direction
            assert "text" not in factor  # stored once per rule version, not per row


def test_score_chunk_outputs_one_row_per_customer(logreg, data, rules):
    frame, X, _ = data
    champion = scoring.Champion("test-model", logreg, 0.4, _baseline(X), {})
    explainer = scoring.Explainer(logreg, champion.baseline, rules)
    out = scoring.score_chunk(frame.iloc[100:350], champion, explainer, rules, dt.date(2026, 5, 31))
    assert list(out.columns) == list(scoring.OUTPUT_COLUMNS)
    assert list(out["customer_id"]) == list(frame["customer_id"].iloc[100:350])
    assert out["churn_probability"].between(0, 1).all()
    assert set(out["risk_band"]) <= {"high", "medium", "low"}
    assert (out["risk_band"] == "high").eq(out["churn_probability"] >= 0.4).all()
    assert set(out["segment"]) <= set(rules.codes)
    assert (out["score_date"] == "2026-05-31").all() and (out["rules_version"] == rules.version).all()
    # chunk boundaries do not matter: scoring two halves gives the same rows
    halves = [
        scoring.score_chunk(frame.iloc[a:b], champion, explainer, rules, dt.date(2026, 5, 31))
        for a, b in ((100, 200), (200, 350))
    ]
    import pandas as pd

    pd.testing.assert_frame_equal(pd.concat(halves, ignore_index=True), out)


def test_baseline_from_bundle_requires_medians_and_modes():
    with pytest.raises(KeyError, match="training medians"):
        scoring.baseline_from_bundle({"training_medians": {}, "training_modes": {}})


@pytest.mark.parametrize(
    "params",
    [
        {"encoder": "onehot", "scaler": "standard", "model__C": 1.0, "model__gamma": 0.05},
        {"encoder": "ordinal", "scaler": "minmax", "model__C": 3.0, "model__gamma": "scale"},
    ],
)
def test_rbf_svc_impacts_equal_what_if_re_predictions(data, rules, params):
    _, X, y = data
    model = _fit("svc", params, X, y)
    proba = model.predict_proba(X)[:, 1]
    fast = scoring.Explainer(model, _baseline(X), rules)
    slow = scoring.Explainer(model, _baseline(X), rules, allow_exact=False)
    assert fast.method == "rbf-svc"
    np.testing.assert_allclose(fast.impacts(X, proba), slow.impacts(X, proba), atol=1e-9)


def test_exact_path_falls_back_when_it_cannot_reproduce_the_model(logreg, data, rules):
    _, X, _ = data
    explainer = scoring.Explainer(logreg, _baseline(X), rules)
    proba = logreg.predict_proba(X)[:, 1]
    wrong = np.clip(proba + 0.01, 0, 1)  # as if the model were not what the path assumes
    impacts = explainer.impacts(X, wrong)
    assert explainer.method == "what-if"
    np.testing.assert_allclose(
        impacts, scoring.Explainer(logreg, _baseline(X), rules, allow_exact=False).impacts(X, wrong)
    )
