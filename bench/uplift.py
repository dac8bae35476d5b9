"""Offers by value against the truth: the job's targeting on a synthetic history, no warehouse.

One history per seed, at `make run`'s size (SYNTH_CUSTOMERS, 2 000): nights 0 … `logged - 1` are
decided by the rules policy, as the job does before it has data (the churn model replaced by the
truth's own risk, a perfect model, which favours the rules). The uplift models are trained and
judged (ml.uplift.training) on the nights settled by the decision night, and on the decision
night the rules, the learned and the oracle policy (the same shape, ranking by the true
expected value) decide at the rule file's budget. Their true values come from the history's
known effects (etl/synth/truth.py).

    python -m bench.uplift [--seeds 20] [--method dr|t] [--logged 8]   (make bench-uplift)

tests/unit/test_uplift_policy.py runs it over many seeds and holds it to the issue's acceptance.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from etl.synth import truth
from etl.synth.history import History, HistorySpec
from etl.warehouse import settings
from ml import segments
from ml.uplift import policy, targeting, training

CUSTOMERS = settings.default("SYNTH_CUSTOMERS")
EFFECTS = settings.default("SYNTH_OFFER_EFFECTS")
HORIZON = 3  # the history's horizon: the scores of night k settle at night k + 3
LOGGED_NIGHTS = 8  # decided by the rules before the comparison: nights 0 … 5 are settled by night 8


class Simulation:
    """One synthetic history run through the job's targeting, night after night."""

    def __init__(self, seed: int, customers: int = CUSTOMERS, rules: segments.Rules | None = None) -> None:
        self.history = History(HistorySpec(customers=customers, seed=seed, horizon=HORIZON))
        self.ids = np.arange(self.history.spec.start_id, self.history.spec.start_id + customers)
        self.rules = rules or segments.load_rules()
        self.nights: dict[int, pd.DataFrame] = {}

    def scored(self, k: int) -> pd.DataFrame:
        """Night k's customers as the scoring job sees them, with the truth beside them."""
        block = self.history.features(k)
        frame = truth.feature_frame(block, self.ids)
        frame["churn_probability"] = self.history.untreated_probability(k)  # a perfect churn model
        frame["risk_band"] = segments.risk_bands(frame["churn_probability"], self.rules.fallback_threshold, self.rules)
        frame["segment"], _ = segments.assign(frame, self.rules)
        effect = truth.offer_effects(block, frame["segment"], EFFECTS)
        frame["true_effect"] = effect
        frame["true_uplift"] = truth.true_uplift(frame["churn_probability"].to_numpy(), effect)
        frame["score_date"] = k
        frame["customers_of_date"] = len(frame)
        return frame

    def decide(self, k: int, models=None) -> pd.DataFrame:
        """Night k decided (by the uplift models if given, else the rules); its offers recorded."""
        frame = self.scored(k)
        frame = pd.concat([frame, targeting.target(frame, self.rules, models)], axis=1)
        sent = frame["send_offer"].to_numpy()
        self.history.record_treatment(k, dict(zip(self.ids.tolist(), np.where(sent, frame["true_effect"], 0.0))))
        self.nights[k] = frame
        return frame

    def settled(self, nights: range) -> pd.DataFrame:
        """The decided nights' rows with «Снизилась» at settlement (night k + HORIZON's labels)."""
        parts = []
        for k in nights:
            rows = self.nights[k].copy()
            rows["churned"] = self.history.labels(k + HORIZON)
            parts.append(rows)
        return pd.concat(parts, ignore_index=True)

    def true_value(self, frame: pd.DataFrame, send: np.ndarray) -> float:
        """Net retained profit of contacting `send` on `frame`, from the true uplift."""
        months = self.rules.targeting.horizon_months
        terms = frame["true_uplift"] * frame["profit"] * months - frame["contact_cost"]
        return float(np.sum(np.asarray(send, dtype=bool) * terms))


def oracle(frame: pd.DataFrame, rules: segments.Rules) -> np.ndarray:
    """The same policy shape, ranking by the true expected value (what no model can beat)."""
    value = policy.expected_value(
        frame["true_uplift"].to_numpy(),
        frame["profit"].to_numpy(),
        rules.targeting.horizon_months,
        frame["contact_cost"].to_numpy(),
    )
    decided = policy.decide(
        policy.UPLIFT,
        priority=value,
        candidate=value > 0,
        treatment_draw=frame["offer_group"].isin([policy.TREATMENT]).to_numpy()
        | ~frame["policy"].eq("exploration").to_numpy(),
        holdout_share=np.zeros(len(frame)),
        exploring=frame["policy"].eq("exploration").to_numpy(),
        exploration_share=rules.targeting.exploration_share,
        cost=frame["contact_cost"].to_numpy(),
        budget=rules.targeting.budget,
    )
    return decided.send


def trained(
    seed: int, method: str = "dr", logged: int = LOGGED_NIGHTS, customers: int = CUSTOMERS, rules=None
) -> tuple[Simulation, pd.DataFrame, training.Verdict]:
    """Nights 0 … logged-1 decided by the rules, the uplift models trained and judged on the
    nights settled by night `logged`: (the simulation, those rows, the verdict)."""
    sim = Simulation(seed, customers, rules)
    for k in range(logged):
        sim.decide(k)
    rows = sim.settled(range(0, logged - HORIZON + 1))
    return sim, rows, training.train_and_judge(rows, sim.rules, method, seed)


def run(seed: int, method: str = "dr", logged: int = LOGGED_NIGHTS, customers: int = CUSTOMERS) -> dict[str, Any]:
    """`trained`, then every policy decides night `logged`, valued by the truth."""
    sim, rows, verdict = trained(seed, method, logged, customers)
    decision = logged
    result: dict[str, Any] = {
        "seed": seed,
        "method": method,
        "use_uplift": verdict.use_uplift,
        "reason": verdict.reason,
    }
    if not verdict.models:
        return result
    held = rows[training.held_out(rows["customer_id"].to_numpy())]
    result["ope"] = verdict.metrics["uplift_value"]
    result["ope_true"] = sim.true_value(held, verdict.evaluation_send)
    result["ope_gain"] = verdict.metrics["gain"]
    frame = sim.scored(decision)
    rules_choice = targeting.target(frame, sim.rules, None)
    uplift_choice = targeting.target(frame, sim.rules, verdict.models)
    frame = pd.concat([frame, uplift_choice], axis=1)
    sends = {
        "rules": rules_choice["send_offer"].to_numpy(),
        "uplift": uplift_choice["send_offer"].to_numpy(),
        "oracle": oracle(frame, sim.rules),
    }
    dogs = frame["true_effect"].to_numpy() < 0
    chosen = ~frame["policy"].eq("exploration").to_numpy()  # the exploration slice is the same for all three
    for name, send in sends.items():
        result[f"{name}_value"] = sim.true_value(frame, send)
        result[f"{name}_contacts"] = int(send.sum())
        result[f"{name}_cost"] = float(frame["contact_cost"].to_numpy()[send].sum())
        result[f"{name}_sleeping_dogs"] = int((send & dogs).sum())
        result[f"{name}_sleeping_dogs_chosen"] = int((send & dogs & chosen).sum())
        result[f"{name}_value_chosen"] = sim.true_value(frame[chosen], send[chosen])
    return result


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The acceptance figures over the seeds of one method."""
    ratios = [r["uplift_value"] / r["oracle_value"] for r in results if "oracle_value" in r]
    return {
        "seeds": len(results),
        "value_share_of_oracle_mean": float(np.mean(ratios)),
        "seeds_at_least_80_percent_of_oracle": int(sum(x >= 0.8 for x in ratios)),
        "seeds_above_rules": int(sum(r["uplift_value"] > r["rules_value"] for r in results if "rules_value" in r)),
        "sleeping_dogs_chosen": {
            name: int(sum(r.get(f"{name}_sleeping_dogs_chosen", 0) for r in results))
            for name in ("rules", "uplift", "oracle")
        },
        "ope_covers_true_value": int(
            sum(r["ope"]["low"] <= r["ope_true"] <= r["ope"]["high"] for r in results if "ope" in r)
        ),
        "gate_lets_the_policy_decide": int(sum(r["use_uplift"] for r in results)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--methods", default="dr,t", help="comma-separated (ml.uplift.learners.METHODS)")
    parser.add_argument("--logged", type=int, default=LOGGED_NIGHTS)
    parser.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "customers": CUSTOMERS,
        "logged_nights": args.logged,
        "load_average": list(os.getloadavg()),
        "methods": {},
    }
    for method in args.methods.split(","):
        started = time.monotonic()
        results = [run(seed, method, args.logged) for seed in range(args.seeds)]
        report["methods"][method] = {
            **summary(results),
            "seconds": round(time.monotonic() - started, 1),
            "runs": results,
        }
        print(method, json.dumps(summary(results)))
    out = args.results_dir / f"{report['date']}-uplift.json"
    out.write_text(json.dumps(report, indent=1, default=float) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
