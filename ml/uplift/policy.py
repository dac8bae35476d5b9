"""Whom to send an offer on a score date: a policy's decisions within the campaign budget.

Both policies share one shape, so they are compared on equal terms:

1. **Exploration** (every policy): a random slice of the customers (`exploration_share`, a hash
   draw like the holdout's, ml/experiments.py) keeps the experiment's old assignment: its
   treatment group gets the segment's offer, its holdout nothing. Their contacts are paid first.
2. **The rest**, in priority order, until the budget is spent (the first customer who no longer
   fits ends the list, so the cut is a rank):
   - `rules`: the treatment group of every segment, riskiest first (priority = churn probability);
     the holdout inside the cut stays the experiment's control group;
   - `uplift`: customers whose expected value of a contact is positive, highest first
     (priority = expected value = uplift × profit × horizon months − the offer's cost). An
     estimated sleeping dog (uplift ≤ 0) never has a positive value.

Every decision carries the probability that the policy sends this customer the offer, over the
random draws (exploration, holdout): the propensity the next uplift model and any off-policy
estimate need. A rerun with the same inputs gives the same decisions: nothing here is random
beyond the hash draws the caller passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

RULES, UPLIFT = "rules", "uplift"
POLICIES: tuple[str, ...] = (RULES, UPLIFT)
# offer_group of a decided customer: the experiment's randomised groups, or the policy's choice
TREATMENT, HOLDOUT, TARGETED, NOT_TARGETED = "treatment", "holdout", "targeted", "not_targeted"


@dataclass(frozen=True)
class Budget:
    """A campaign's limit per score date: total cost (the export's money unit) and/or contacts."""

    max_cost: float | None = None
    max_contacts: int | None = None

    def scaled(self, share: float) -> Budget:
        """The same budget for `share` of the customers (an evaluation sample of them)."""
        cost = None if self.max_cost is None else self.max_cost * share
        contacts = None if self.max_contacts is None else int(round(self.max_contacts * share))
        return Budget(cost, contacts)


@dataclass(frozen=True)
class Decisions:
    """Per customer: send the offer?, the probability of that under the draws, the group."""

    send: np.ndarray
    propensity: np.ndarray
    group: np.ndarray
    exploring: np.ndarray

    @property
    def contacts(self) -> int:
        return int(self.send.sum())


def expected_value(uplift: np.ndarray, profit: np.ndarray, horizon_months: int, cost: np.ndarray) -> np.ndarray:
    """Retained profit a contact is expected to bring, net of its cost (the export's money unit)."""
    return uplift * profit * horizon_months - cost


def decide(
    policy: str,
    *,
    priority: np.ndarray,
    candidate: np.ndarray,
    treatment_draw: np.ndarray,
    holdout_share: np.ndarray,
    exploring: np.ndarray,
    exploration_share: float,
    cost: np.ndarray,
    budget: Budget,
) -> Decisions:
    """The policy's decisions (see the module docstring).

    priority: higher goes first (ties: row order); candidate: whom the uplift policy would contact
    (ignored by `rules`); treatment_draw: the experiment put the customer in its treatment group;
    holdout_share: the customer's segment's holdout share; exploring: in the exploration slice.
    """
    import numpy as np

    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: one of {', '.join(POLICIES)}")
    n = len(cost)
    cost = np.asarray(cost, dtype=float)
    exploring, treated = np.asarray(exploring, dtype=bool), np.asarray(treatment_draw, dtype=bool)
    explore_send = _fits(np.flatnonzero(exploring & treated), cost, budget, 0.0, 0)
    spent, contacted = float(cost[explore_send].sum()), int(explore_send.sum())

    wants = treated if policy == RULES else np.asarray(candidate, dtype=bool)
    order = np.lexsort((np.arange(n), -np.asarray(priority, dtype=float)))
    spend = np.where(wants & ~exploring, cost, 0.0)[order]
    counted = (wants & ~exploring)[order].astype(int)
    in_cut_sorted = _prefix_within(spend, counted, budget, spent, contacted)
    in_cut = np.zeros(n, dtype=bool)
    in_cut[order] = in_cut_sorted

    send = np.zeros(n, dtype=bool)
    send[explore_send] = True
    send |= ~exploring & wants & in_cut
    h = np.asarray(holdout_share, dtype=float)
    if policy == RULES:
        randomised = exploring | in_cut
        otherwise = (1 - h) * in_cut
    else:
        randomised = exploring
        otherwise = (wants & in_cut).astype(float)
    propensity = exploration_share * (1 - h) + (1 - exploration_share) * otherwise
    group = np.where(randomised, np.where(treated, TREATMENT, HOLDOUT), np.where(send, TARGETED, NOT_TARGETED)).astype(
        object
    )
    return Decisions(send, propensity, group, exploring)


def _fits(rows: np.ndarray, cost: np.ndarray, budget: Budget, spent: float, contacted: int) -> np.ndarray:
    """The first of `rows` (in their order) that fit the budget."""
    import numpy as np

    keep = _prefix_within(cost[rows], np.ones(rows.size, dtype=int), budget, spent, contacted)
    return rows[keep] if rows.size else np.zeros(0, dtype=int)


def _prefix_within(spend: np.ndarray, counted: np.ndarray, budget: Budget, spent: float, contacted: int) -> np.ndarray:
    """Rows of the longest prefix whose cumulative spend and contacts stay within the budget."""
    import numpy as np

    fits = np.ones(spend.size, dtype=bool)
    if budget.max_cost is not None:
        fits &= spent + np.cumsum(spend) <= budget.max_cost + 1e-9
    if budget.max_contacts is not None:
        fits &= contacted + np.cumsum(counted) <= budget.max_contacts
    # a prefix: once a customer does not fit, nobody after them is taken
    return np.cumprod(fits).astype(bool)
