"""Training the uplift models and judging, before any is used, whether their policy pays.

From the settled experiment rows (features at the score date, sent or not, the sending
probability, «Снизилась» at settlement):
1. customers are split by a hash of their id: a quarter is held out for evaluation (the same
   customer, in any month, is always on the same side);
2. per offer family with at least `min_settled_rows` rows, an uplift model is fitted on the rest;
3. on the held-out customers: Qini and AUUC of the model's ranking (bootstrap intervals) against
   random targeting and the rules' ranking, uplift by decile, and the off-policy value of the
   uplift policy and of the rules policy on each score date at the budget scaled to the sample,
   with the gain's interval. The policy may decide only when the gain's lower bound is above 0.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ml.uplift import estimates, learners, targeting

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ml.segments import Rules

EVALUATION_SHARE = 0.25
EVALUATION_DRAW = ("uplift-evaluation", "(held out)")


@dataclass
class Verdict:
    """Whether the uplift policy may decide, why, and the figures behind it."""

    use_uplift: bool
    reason: str
    models: dict[str, learners.UpliftModel] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)  # JSON: what the registry and the card show
    evaluation_send: np.ndarray | None = None  # the uplift policy's decisions on the held-out rows
    evaluation_rows: pd.DataFrame | None = None
    evaluation_scores: np.ndarray | None = None  # their doubly robust scores


def held_out(customer_ids: np.ndarray) -> np.ndarray:
    """True for the customers kept for evaluation (a pure function of the id)."""
    from ml import experiments

    return experiments.uniform_draws(customer_ids, *EVALUATION_DRAW) < EVALUATION_SHARE


def family_of(rows: pd.DataFrame, rules: Rules) -> np.ndarray:
    import numpy as np

    families = {s.code: s.offer_family for s in rules.segments}
    return np.asarray([families.get(s, "") for s in rows["segment"].tolist()], dtype=object)


def train_and_judge(rows: pd.DataFrame, rules: Rules, method: str = "dr", seed: int = 0) -> Verdict:
    """Fit a model per family and decide whether their policy may be used (module docstring)."""
    import numpy as np

    settings = rules.targeting
    family = family_of(rows, rules) if len(rows) else np.zeros(0, dtype=object)
    needed = sorted({s.offer_family for s in rules.segments})
    counts = {name: int((family == name).sum()) for name in needed}
    short = {name: n for name, n in counts.items() if n < settings.min_settled_rows}
    if short:
        have = sum(min(n, settings.min_settled_rows) for n in counts.values())
        need = settings.min_settled_rows * len(needed)
        detail = ", ".join(f"{name} {n} of {settings.min_settled_rows}" for name, n in short.items())
        per_family = f": settled experiment rows per offer family, {detail}" if len(needed) > 1 else ""
        return Verdict(
            False,
            f"uplift policy: not enough experiment data yet ({have} of {need}){per_family}",
            metrics={"settled_rows": counts},
        )
    evaluation = held_out(rows["customer_id"].to_numpy(dtype=np.int64))
    X = learners.uplift_input(rows)
    sent = rows["send_offer"].to_numpy(dtype=bool)
    churned = rows["churned"].to_numpy(dtype=int)
    propensity = rows["treatment_probability"].to_numpy(dtype=float)
    models, metrics = {}, {"settled_rows": counts, "families": {}}
    scores = np.zeros(len(rows))
    for name in needed:
        fit_rows = (family == name) & ~evaluation
        model = learners.fit(X[fit_rows], sent[fit_rows], churned[fit_rows], propensity[fit_rows], method, seed)
        models[name] = model
        test = (family == name) & evaluation
        mu0, mu1 = model.outcomes(X[test])
        scores[test] = learners.doubly_robust(mu0, mu1, sent[test], churned[test], propensity[test])
        ranking = model.predict(X[test])
        metrics["families"][name] = {
            **_ranking_metrics(ranking, scores[test], rows.loc[test, "churn_probability"]),
            "drivers": drivers(model, X[test]),
        }
    value, evaluation_send = _policy_values(rows[evaluation], scores[evaluation], rules, models)
    metrics.update(value)
    gain = value["gain"]
    if gain["low"] > 0:
        reason = f"uplift policy: off-policy gain over the rules {gain['value']:.1f} [{gain['low']:.1f}, {gain['high']:.1f}] > 0"
    else:
        reason = (
            f"uplift policy: its off-policy gain over the rules {gain['value']:.1f} "
            f"[{gain['low']:.1f}, {gain['high']:.1f}] is not surely above 0: the rules stay"
        )
    return Verdict(gain["low"] > 0, reason, models, metrics, evaluation_send, rows[evaluation], scores[evaluation])


def _ranking_metrics(ranking: np.ndarray, scores: np.ndarray, churn_probability: pd.Series) -> dict[str, Any]:
    """Qini and AUUC of the model's ranking and of the rules' (riskiest first), uplift by decile."""
    risk = churn_probability.to_numpy(dtype=float)
    return {
        "customers": int(ranking.size),
        "qini": estimates.bootstrap(estimates.qini, ranking, scores).as_dict(),
        "auuc": estimates.bootstrap(estimates.auuc, ranking, scores).as_dict(),
        "qini_rules": estimates.bootstrap(estimates.qini, risk, scores).as_dict(),
        "auuc_random": float(scores.mean() / 2),
        "deciles": estimates.by_decile(ranking, scores),
        "curve": [list(map(float, part)) for part in estimates.uplift_curve(ranking, scores)],
        "curve_rules": [list(map(float, part)) for part in estimates.uplift_curve(risk, scores)],
    }


def drivers(model: learners.UpliftModel, X: pd.DataFrame, top: int = 8, seed: int = 0) -> list[dict[str, Any]]:
    """The inputs the estimated uplift depends on most: mean absolute change of the estimate when
    one input is shuffled across the customers (model-agnostic; no noisy outcome involved)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base = model.predict(X)
    changes = []
    for column in X.columns:
        shuffled = X.copy()
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
        changes.append((column, float(np.mean(np.abs(model.predict(shuffled) - base)))))
    changes.sort(key=lambda item: -item[1])
    return [{"feature": name, "mean_abs_change": change} for name, change in changes[:top]]


def decisions_on(rows: pd.DataFrame, rules: Rules, models) -> np.ndarray:
    """A policy's sends on held-out rows (the uplift policy with `models`, else the rules), each
    score date at its share of the budget."""
    import numpy as np
    import pandas as pd

    send = np.zeros(len(rows), dtype=bool)
    positions = pd.Series(np.arange(len(rows)), index=rows.index)
    for _, day in rows.groupby("score_date", sort=True):
        share = len(day) / max(int(day["customers_of_date"].iloc[0]), 1)
        scaled = dataclasses.replace(
            rules, targeting=dataclasses.replace(rules.targeting, budget=rules.targeting.budget.scaled(share))
        )
        send[positions[day.index].to_numpy()] = targeting.target(day, scaled, models)["send_offer"].to_numpy()
    return send


def versus(verdict: Verdict, rules: Rules, other_models) -> estimates.Estimate:
    """Off-policy gain of the verdict's policy over another uplift model's on the same held-out rows
    (the promotion gate's comparison with the champion)."""
    rows, scores = verdict.evaluation_rows, verdict.evaluation_scores
    other = decisions_on(rows, rules, other_models)
    profit, cost = rows["profit"].to_numpy(dtype=float), rows["contact_cost"].to_numpy(dtype=float)
    return estimates.policy_gain(verdict.evaluation_send, other, scores, profit, rules.targeting.horizon_months, cost)


def _policy_values(rows: pd.DataFrame, scores: np.ndarray, rules: Rules, models) -> tuple[dict[str, Any], np.ndarray]:
    """Off-policy value of both policies on the held-out rows, each date at its share of the budget;
    the uplift policy's decisions there."""
    uplift_send, rules_send = decisions_on(rows, rules, models), decisions_on(rows, rules, None)
    profit = rows["profit"].to_numpy(dtype=float)
    cost = rows["contact_cost"].to_numpy(dtype=float)
    months = rules.targeting.horizon_months
    figures = {
        "uplift_value": estimates.policy_value(uplift_send, scores, profit, months, cost).as_dict(),
        "rules_value": estimates.policy_value(rules_send, scores, profit, months, cost).as_dict(),
        "gain": estimates.policy_gain(uplift_send, rules_send, scores, profit, months, cost).as_dict(),
        "evaluation_rows": int(len(rows)),
        "evaluation_dates": sorted({str(d) for d in rows["score_date"]}),
        "uplift_contacts": int(uplift_send.sum()),
        "rules_contacts": int(rules_send.sum()),
        "uplift_cost": float(cost[uplift_send].sum()),
        "rules_cost": float(cost[rules_send].sum()),
        "budget_max_cost": _scaled_limit(rules.targeting.budget.max_cost, len(rows), rows),
        "budget_max_contacts": _scaled_limit(rules.targeting.budget.max_contacts, len(rows), rows),
    }
    return figures, uplift_send


def _scaled_limit(limit: float | None, sample: int, rows: pd.DataFrame) -> float | None:
    """A budget limit for the held-out sample: per date, the sample's share of the date's customers."""
    if limit is None:
        return None
    shares = rows.groupby("score_date")["customers_of_date"].agg(["size", "first"])
    return float(limit * (shares["size"] / shares["first"]).sum())
