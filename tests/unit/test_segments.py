"""The rule file and its interpretation: risk bands, precedence, one segment per customer."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from ml import features, segments


@pytest.fixture(scope="module")
def rules() -> segments.Rules:
    return segments.load_rules()


@pytest.fixture(scope="module")
def raw_rules() -> dict:
    return yaml.safe_load(segments.DEFAULT_RULES_PATH.read_text(encoding="utf-8"))


def customer(**overrides) -> dict:
    """A low-risk, low-profit customer of a neutral category; override what a test needs."""
    base = {
        "churn_probability": 0.05,
        "risk_band": "low",
        "profit": 3.0,
        "promo_share": 0.2,
        "unpaid_items_quarter": 1,
        "popular_category": "Домашний текстиль",
        "service_type": "стандарт",
        "allow_messages": True,
        "marketing_6m": 4.0,
        "marketing_current_month": 4,
        "tenure_days": 600,
        "avg_categories_per_visit": 3,
        "service_errors": 4,
        "pages_per_visit": 8,
        "revenue_two_months_ago": 4800.0,
        "revenue_last_month": 4900.0,
        "revenue_current_month": 5100.0,
        "minutes_last_month": 13,
        "minutes_current_month": 13,
    }
    base.update(overrides)
    return base


HIGH = {"churn_probability": 0.9, "risk_band": "high"}


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({**HIGH, "profit": 5.0, "promo_share": 0.95, "unpaid_items_quarter": 8}, "high_risk_high_profit"),
        ({**HIGH, "profit": 4.0}, "high_risk_high_profit"),  # the profit cut-off is inclusive
        ({**HIGH, "unpaid_items_quarter": 5, "promo_share": 0.95}, "abandoned_cart"),
        (
            {**HIGH, "unpaid_items_quarter": 4, "promo_share": 0.8, "popular_category": "Товары для детей"},
            "promo_dependent",
        ),
        ({**HIGH, "promo_share": 0.79, "popular_category": "Товары для детей"}, "kids_goods"),
        ({**HIGH, "popular_category": "Косметика и аксессуары", "service_type": "премиум"}, "cosmetics"),
        ({**HIGH, "popular_category": "Техника для красоты и здоровья"}, "beauty_tech_premium"),
        ({**HIGH, "popular_category": "Кухонная посуда", "service_type": "премиум"}, "beauty_tech_premium"),
        ({**HIGH, "popular_category": "Кухонная посуда"}, "high_risk_low_profit"),
        (
            {"churn_probability": 0.3, "risk_band": "medium", "profit": 6.0, "promo_share": 0.95},
            "medium_risk_high_profit",
        ),
        (
            {"risk_band": "medium", "unpaid_items_quarter": 9, "popular_category": "Товары для детей"},
            "medium_risk_low_profit",
        ),
        ({"profit": 6.0}, "low_risk_high_profit"),
        ({}, "low_risk_low_profit"),
    ],
)
def test_precedence_gives_the_first_matching_segment(rules, overrides, expected):
    codes, offers = segments.assign(pd.DataFrame([customer(**overrides)]), rules)
    assert codes[0] == expected
    assert offers[0] == rules.segment(expected).offer


def test_every_customer_gets_exactly_the_first_matching_segment(rules):
    rng = np.random.default_rng(3)
    n = 3000
    categories = [
        "Товары для детей",
        "Домашний текстиль",
        "Косметика и аксессуары",
        "Кухонная посуда",
        "Мелкая бытовая техника и электроника",
        "Техника для красоты и здоровья",
    ]
    probability = rng.uniform(0, 1, n)
    frame = pd.DataFrame([customer() for _ in range(n)]).assign(
        churn_probability=probability,
        risk_band=segments.risk_bands(probability, 0.45, rules),
        profit=rng.uniform(0.8, 7.5, n).round(2),
        promo_share=rng.uniform(0, 1, n).round(2),
        unpaid_items_quarter=rng.integers(0, 11, n),
        popular_category=rng.choice(categories, n),
        service_type=rng.choice(["премиум", "стандарт"], n),
    )
    codes, offers = segments.assign(frame, rules)
    masks = np.column_stack([s.when.mask(frame) for s in rules.segments])
    first = masks.argmax(axis=1)
    assert masks.any(axis=1).all()  # the catch-all
    assert list(codes) == [rules.codes[i] for i in first]
    assert set(codes) == set(rules.codes)  # every segment reachable on varied customers
    assert all(o == rules.segment(c).offer for c, o in zip(codes, offers))


def test_risk_bands_use_the_model_threshold_and_half_of_it(rules):
    t = 0.42
    bands = segments.risk_bands([0.0, 0.2099, 0.21, 0.4199, 0.42, 1.0], t, rules)
    assert list(bands) == ["low", "low", "medium", "medium", "high", "high"]
    assert segments.threshold_for(None, rules) == rules.fallback_threshold == 0.5
    assert segments.threshold_for(0.3, rules) == 0.3


def test_rule_file_is_complete_and_versioned(rules):
    assert rules.version and len(rules.sha256) == 64
    assert rules.segments[-1].when.is_catch_all
    assert set(rules.phrases) == set(features.FEATURES)
    assert rules.codes[0] == "high_risk_high_profit"  # high risk × high profit first
    assert {"promo_dependent", "kids_goods", "cosmetics", "beauty_tech_premium", "abandoned_cart"} <= set(rules.codes)
    assert all(0 < len(s.offer) <= segments.MAX_OFFER_LENGTH for s in rules.segments)
    records = rules.records()
    assert [r["precedence"] for r in records] == list(range(1, len(records) + 1))


def test_every_segment_holds_one_band_and_its_title_names_it(rules, raw_rules):
    """On varied customers, each segment's customers share one band, the one its title starts with."""
    rng = np.random.default_rng(5)
    probability = rng.uniform(0, 1, 4000)
    frame = pd.DataFrame([customer() for _ in range(4000)]).assign(
        churn_probability=probability,
        risk_band=segments.risk_bands(probability, 0.45, rules),
        profit=rng.uniform(0.8, 7.5, 4000),
        unpaid_items_quarter=rng.integers(0, 11, 4000),
    )
    codes, _ = segments.assign(frame, rules)
    titles = raw_rules["risk_bands"]["titles"]
    for code, bands in frame.groupby(codes)["risk_band"]:
        [band] = set(bands)
        assert rules.segment(code).title.startswith(titles[band]), code


def test_factor_texts(rules):
    assert segments.factor_text(rules, "pages_per_visit", "low") == rules.phrases["pages_per_visit"]["low"]
    assert "Товары для детей" in segments.factor_text(rules, "popular_category", "value", "Товары для детей")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["segments"][0]["when"].update({"favourite_colour": ["red"]}), "unknown field"),
        (lambda d: d["segments"].pop(), "catch-all|must have `when: {}`"),
        (lambda d: d["segments"].insert(0, {**d["segments"][-1], "code": "everyone"}), "matches everyone"),
        (lambda d: d["segments"][1].update({"code": d["segments"][0]["code"]}), "repeat"),
        (lambda d: d["segments"][0]["when"].update({"risk_band": ["extreme"]}), "risk_band"),
        (lambda d: d["segments"][0]["when"].update({"profit": {"above": 3}}), "min"),
        (lambda d: d.update({"colour": "red"}), "unknown keys"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d["top_factors"]["phrases"].pop("promo_share"), "lacks"),
        (lambda d: d["segments"][0]["offer"].update({"text": "x" * 300}), "longer"),
        (lambda d: d["segments"][0].pop("when"), "required"),
        # a title that names another band, or a segment two bands can reach, could mislead BI
        (lambda d: d["segments"][1].update({"title": "Брошенная корзина"}), "must start with «Высокий риск»"),
        (lambda d: d["segments"][-4]["when"].pop("risk_band"), r"risk bands \['medium', 'low'\]"),
        (
            lambda d: d["segments"][-3]["when"].update({"risk_band": ["medium", "low"]}),
            r"risk bands \['medium', 'low'\]",
        ),
        (lambda d: d["segments"].insert(-1, {**d["segments"][-3], "code": "never"}), "none"),
        (lambda d: d["risk_bands"].pop("titles"), "titles"),
    ],
)
def test_bad_rule_files_are_refused(raw_rules, edit, message):
    data = copy.deepcopy(raw_rules)
    edit(data)
    with pytest.raises(segments.RulesError, match=message):
        segments.parse_rules(data)


def test_rules_path_from_env(monkeypatch, tmp_path, raw_rules):
    data = copy.deepcopy(raw_rules)
    data["version"] = "test-1"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SEGMENT_RULES", str(path))
    loaded = segments.load_rules()
    assert loaded.version == "test-1" and loaded.path == path
