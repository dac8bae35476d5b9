"""A score date's offers: which policy decides, and its decisions for every customer.

`target(frame, rules, models)` is the one path: the nightly scoring job and the synthetic
simulations (bench/uplift.py, the many-seed test) call it with the same inputs, so what is proven
without a warehouse is what runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from ml.uplift import learners, policy

if TYPE_CHECKING:
    import pandas as pd

    from ml.segments import Rules

EXPLORATION_DRAW = "(exploration)"  # not a valid segment code: its draws never repeat a holdout's
OUTPUT_COLUMNS: tuple[str, ...] = (
    "offer_group",
    "send_offer",
    "treatment_probability",
    "expected_uplift",
    "expected_value",
    "contact_cost",
    "policy",
)


def target(frame: pd.DataFrame, rules: Rules, models: Mapping[str, learners.UpliftModel] | None = None) -> pd.DataFrame:
    """OUTPUT_COLUMNS for every row of `frame` (customer_id, churn_probability, segment, profit and
    the model features), in its order. `models`: an uplift model per offer family, given only when
    the uplift policy may decide (every family of the date has one); otherwise the rules decide."""
    import numpy as np
    import pandas as pd

    from ml import experiments

    targeting = rules.targeting
    segment_of = {s.code: s for s in rules.segments}
    codes = frame["segment"].to_numpy(dtype=object)
    ids = frame["customer_id"].to_numpy(dtype=np.int64)
    cost = np.asarray([segment_of[c].offer_cost for c in codes], dtype=float)
    family = np.asarray([segment_of[c].offer_family for c in codes], dtype=object)
    share = np.asarray([rules.experiment.share(c) for c in codes], dtype=float)
    treated = experiments.assign_groups(ids, codes, rules.experiment) == experiments.TREATMENT
    exploring = (
        experiments.uniform_draws(ids, rules.experiment.campaign, EXPLORATION_DRAW) < targeting.exploration_share
    )

    uplift = np.full(len(frame), np.nan)
    usable = bool(models) and not missing_families(frame, rules, models)
    if models:
        X = learners.uplift_input(frame)
        for name, model in models.items():
            rows = family == name
            if rows.any():
                uplift[rows] = model.predict(X[rows])
    value = policy.expected_value(uplift, frame["profit"].to_numpy(dtype=float), targeting.horizon_months, cost)
    chosen = policy.UPLIFT if usable else policy.RULES
    decisions = policy.decide(
        chosen,
        priority=value if usable else frame["churn_probability"].to_numpy(dtype=float),
        candidate=value > 0 if usable else treated,
        treatment_draw=treated,
        holdout_share=share,
        exploring=exploring,
        exploration_share=targeting.exploration_share,
        cost=cost,
        budget=targeting.budget,
    )
    decided_by = np.where(decisions.exploring, "exploration", chosen).astype(object)
    return pd.DataFrame(
        {
            "offer_group": decisions.group,
            "send_offer": decisions.send,
            "treatment_probability": decisions.propensity,
            "expected_uplift": uplift,
            "expected_value": value,
            "contact_cost": cost,
            "policy": decided_by,
        },
        index=frame.index,
    )


def missing_families(frame: pd.DataFrame, rules: Rules, models: Mapping[str, learners.UpliftModel] | None) -> list[str]:
    """Offer families of the date's customers without an uplift model (the rule file may have
    gained one since the model was trained): while any is missing, the rules decide."""
    families = {s.code: s.offer_family for s in rules.segments}
    return sorted({families[c] for c in frame["segment"].unique()} - set(models or {}))
