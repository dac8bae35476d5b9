"""The targeting policy's rules on small hand-made inputs: the budget, the exploration slice,
sleeping dogs, the sending probabilities, reruns, the cold start; and the truth it is proven
against (etl/synth/truth.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bench import uplift as simulation
from ml import segments
from ml.uplift import policy, targeting, training
from ml.uplift.policy import Budget

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def rules() -> segments.Rules:
    return segments.load_rules()


@pytest.fixture(scope="module")
def night(rules) -> pd.DataFrame:
    return simulation.Simulation(seed=3).scored(0)


def _decide(name: str, n: int = 1000, budget: Budget = Budget(max_cost=100.0), seed: int = 0):
    """(decisions, cost, value) on random customers: costs 0.1–1.0, values around 0."""
    rng = np.random.default_rng(seed)
    value, cost = rng.normal(0, 1, n), rng.uniform(0.1, 1.0, n)
    decided = policy.decide(
        name,
        priority=value,
        candidate=value > 0,
        treatment_draw=rng.random(n) >= 0.1,
        holdout_share=np.full(n, 0.1),
        exploring=rng.random(n) < 0.1,
        exploration_share=0.1,
        cost=cost,
        budget=budget,
    )
    return decided, cost, value


@pytest.mark.parametrize("name", policy.POLICIES)
@pytest.mark.parametrize("budget", [Budget(max_cost=100.0), Budget(max_contacts=120), Budget(50.0, 400), Budget(0.0)])
def test_the_budget_is_never_exceeded(name, budget):
    decided, cost, _ = _decide(name, budget=budget, seed=1)
    assert budget.max_cost is None or cost[decided.send].sum() <= budget.max_cost + 1e-9
    assert budget.max_contacts is None or decided.contacts <= budget.max_contacts
    if budget.max_cost == 100.0 and budget.max_contacts is None:
        assert cost[decided.send].sum() > 99  # and spent: the next customer (cost <= 1) did not fit


def test_the_uplift_policy_takes_the_highest_values_first_and_never_a_negative_one():
    decided, _, value = _decide(policy.UPLIFT)
    chosen = decided.send & ~decided.exploring
    assert (value[chosen] > 0).all()
    assert value[chosen].min() >= value[~decided.exploring & ~decided.send & (value > 0)].max()
    # the policy's own choices are certain; the exploration slice keeps the experiment's odds
    assert set(np.round(decided.propensity[chosen], 6)) == {round(0.1 * 0.9 + 0.9, 6)}
    assert set(decided.group[decided.exploring]) == {policy.TREATMENT, policy.HOLDOUT}
    assert set(decided.group[~decided.exploring]) == {policy.TARGETED, policy.NOT_TARGETED}


def test_every_customer_can_be_sent_or_spared_so_effects_stay_measurable():
    for name in policy.POLICIES:
        decided, _, _ = _decide(name)
        assert ((decided.propensity > 0) & (decided.propensity < 1)).all()
        assert decided.propensity[decided.exploring & ~decided.send].min() > 0


def test_decisions_are_the_same_on_a_rerun_and_in_any_row_order(night, rules):
    frame = night.copy()
    first = targeting.target(frame, rules)
    again = targeting.target(frame, rules)
    pd.testing.assert_frame_equal(first, again)
    shuffled = frame.sample(frac=1.0, random_state=5)
    assert targeting.target(shuffled, rules).loc[frame.index, "offer_group"].equals(first["offer_group"])


def test_the_exploration_slice_keeps_the_experiments_assignment(night, rules):
    decided = targeting.target(night, rules)
    exploring = decided["policy"] == "exploration"
    assert 0.07 < exploring.mean() < 0.13  # exploration_share 0.10 of 2 000 customers
    assert set(decided.loc[exploring, "offer_group"]) == {"treatment", "holdout"}
    assert (decided.loc[exploring, "send_offer"] == (decided.loc[exploring, "offer_group"] == "treatment")).all()
    assert (decided["contact_cost"][decided["send_offer"]].sum()) <= rules.targeting.budget.max_cost


def test_without_models_the_rules_decide_riskiest_first_within_the_budget(night, rules):
    decided = targeting.target(night, rules)
    assert set(decided["policy"]) == {"rules", "exploration"}
    assert decided["expected_uplift"].isna().all()
    rules_rows = decided["policy"] == "rules"
    sent_risk = night.loc[rules_rows & decided["send_offer"], "churn_probability"]
    spared = night.loc[rules_rows & (decided["offer_group"] == "not_targeted"), "churn_probability"]
    assert sent_risk.min() >= spared.max()


def test_cold_start_says_how_much_data_is_missing(night, rules):
    rows = night.assign(churned=0, send_offer=True, treatment_probability=0.9)
    verdict = training.train_and_judge(rows.head(700), rules)
    assert not verdict.use_uplift and not verdict.models
    assert verdict.reason.startswith("uplift policy: not enough experiment data yet (700 of 2000")


def test_the_true_effects_vary_mostly_within_segments(night):
    # so segment rules alone cannot recover them (etl/synth/truth.py)
    for column in ("true_effect", "true_uplift"):
        total = night[column].var(ddof=0)
        within = night.groupby("segment")[column].var(ddof=0).mul(night["segment"].value_counts(normalize=True)).sum()
        assert within / total >= 0.5, (column, within / total)
    assert (night["true_effect"] < 0).mean() > 0.15  # sleeping dogs are common enough to matter


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("targeting"), "`targeting` is required"),
        (lambda d: d["targeting"].update(budget={}), "targeting.budget needs max_cost"),
        (lambda d: d["targeting"]["budget"].update(max_cost=-1), "limits must be >= 0"),
        (lambda d: d["targeting"].update(exploration_share=0), "the experiment never stops"),
        (lambda d: d["targeting"].update(surprise=1), "targeting: unknown keys"),
        (lambda d: d["segments"][0]["offer"].pop("cost"), "offer needs a `cost`"),
        (lambda d: d["segments"][0]["offer"].update(cost="free"), "offer cost must be a number"),
        (lambda d: d["segments"][0]["offer"].update(family="Big Family"), "snake_case `family`"),
    ],
)
def test_the_rule_file_refuses_bad_targeting(rules, change, message):
    import copy

    import yaml

    data = copy.deepcopy(yaml.safe_load(rules.path.read_text()))
    change(data)
    with pytest.raises(segments.RulesError, match=message.replace("(", r"\(")):
        segments.parse_rules(data)


def test_a_budget_scales_with_a_sample_of_the_customers():
    assert Budget(100.0, 40).scaled(0.25) == Budget(25.0, 10)
    assert dataclasses.replace(Budget(None, None)).scaled(0.5) == Budget(None, None)


def test_an_offer_family_without_a_model_leaves_the_decision_to_the_rules(night, rules):
    # e.g. the rule file gained a family after the champion uplift model was trained
    decided = targeting.target(night, rules, {"a_family_of_no_offer": None})
    assert set(decided["policy"]) == {"rules", "exploration"}
    assert targeting.missing_families(night, rules, {"a_family_of_no_offer": None}) == ["retention_offer"]
