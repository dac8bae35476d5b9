"""What a policy or an uplift model is worth, estimated from logged experiment rows.

Every estimate here stands on each settled row's doubly robust score of its own uplift
(`learners.doubly_robust`, Γ): unbiased because the sending probabilities are the experiment's
own, with the outcome models only lowering its variance. So:

- **off-policy value** of a policy π on logged rows = Σ π_i · (Γ_i · profit_i · horizon − cost_i):
  the retained profit, net of the offers' cost, that π would have made on those customers. Its
  interval is normal over the rows (a sum of independent terms given the customers). The gain
  of π over the rules policy ρ is Σ (π_i − ρ_i) · (…), with its own, paired interval.
- **uplift curve** of a ranking: customers taken best first, the cumulative Σ Γ (customers kept
  from «Снизилась»); **AUUC** its mean height, **Qini coefficient** AUUC minus random
  targeting's (the straight line); intervals by bootstrap over the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval (level `level`)."""

    value: float
    low: float
    high: float
    level: float = 0.95

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high, "level": self.level}


def policy_value(
    send: np.ndarray, scores: np.ndarray, profit: np.ndarray, horizon_months: int, cost: np.ndarray, z: float = Z95
) -> Estimate:
    """Off-policy estimate of the net retained profit of contacting `send` (a doubly robust sum)."""
    import numpy as np

    terms = np.asarray(send, dtype=float) * (scores * profit * horizon_months - cost)
    return _sum_estimate(terms, z)


def policy_gain(
    send: np.ndarray,
    baseline: np.ndarray,
    scores: np.ndarray,
    profit: np.ndarray,
    horizon_months: int,
    cost: np.ndarray,
    z: float = Z95,
) -> Estimate:
    """Off-policy estimate of how much more `send` makes than `baseline` on the same rows (paired)."""
    import numpy as np

    diff = np.asarray(send, dtype=float) - np.asarray(baseline, dtype=float)
    return _sum_estimate(diff * (scores * profit * horizon_months - cost), z)


def _sum_estimate(terms: np.ndarray, z: float) -> Estimate:
    import numpy as np

    total = float(terms.sum())
    spread = z * float(np.sqrt(terms.size * terms.var(ddof=1))) if terms.size > 1 else float("inf")
    return Estimate(total, total - spread, total + spread)


def uplift_curve(ranking: np.ndarray, scores: np.ndarray, points: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """(share of customers targeted, customers kept per customer of the sample) at `points` steps,
    taking the highest `ranking` first."""
    import numpy as np

    order = np.lexsort((np.arange(len(ranking)), -np.asarray(ranking, dtype=float)))
    gains = np.concatenate([[0.0], np.cumsum(scores[order])]) / len(order)
    shares = np.linspace(0.0, 1.0, points + 1)
    return shares, gains[np.rint(shares * len(order)).astype(int)]


def auuc(ranking: np.ndarray, scores: np.ndarray) -> float:
    """Mean height of the uplift curve over every targeting depth (customers kept per customer)."""
    import numpy as np

    order = np.lexsort((np.arange(len(ranking)), -np.asarray(ranking, dtype=float)))
    return float(np.mean(np.cumsum(scores[order]) / len(order)))


def qini(ranking: np.ndarray, scores: np.ndarray) -> float:
    """AUUC minus random targeting's (the straight line to the same total): 0 for a random ranking."""
    import numpy as np

    n = len(scores)
    random_line = float(np.sum(scores)) / n * np.mean(np.arange(1, n + 1) / n)
    return auuc(ranking, scores) - random_line


def bootstrap(statistic, ranking: np.ndarray, scores: np.ndarray, draws: int = 200, seed: int = 0) -> Estimate:
    """`statistic(ranking, scores)` with a percentile bootstrap interval over the rows."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(scores)
    samples = [statistic(ranking[rows], scores[rows]) for rows in (rng.integers(0, n, n) for _ in range(draws))]
    low, high = np.quantile(samples, [0.025, 0.975])
    return Estimate(float(statistic(ranking, scores)), float(low), float(high))


def by_decile(ranking: np.ndarray, scores: np.ndarray) -> list[dict[str, float]]:
    """Mean estimated uplift (Γ) and mean predicted ranking per decile of the ranking, best first."""
    import numpy as np

    order = np.lexsort((np.arange(len(ranking)), -np.asarray(ranking, dtype=float)))
    return [
        {
            "decile": index + 1,
            "customers": int(rows.size),
            "predicted": float(np.mean(ranking[rows])),
            "observed": float(np.mean(scores[rows])),
        }
        for index, rows in enumerate(np.array_split(order, 10))
        if rows.size
    ]
