"""The targeting part of the rule file (config/segments.yaml): what an offer costs, which family
of offers it belongs to, the campaign budget and when the uplift policy may decide.

Parsed by `ml.segment_rules` like the experiment part, each refusal naming its key.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ml.uplift.policy import Budget

_KEYS = {"horizon_months", "exploration_share", "min_settled_rows", "budget"}
_BUDGET_KEYS = {"max_cost", "max_contacts"}
_OFFER_KEYS = {"code", "text", "cost", "family"}
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Targeting:
    """How offers are targeted on a score date (ml/uplift/README.md)."""

    horizon_months: int  # months of profit a kept customer is worth (the settling horizon)
    exploration_share: float  # customers who stay in the experiment under the old assignment
    min_settled_rows: int  # settled experiment rows an offer family needs before its uplift model may decide
    budget: Budget


def parse_targeting(raw: Any, fail: Callable[[str], Exception]) -> Targeting:
    """Validate the `targeting:` mapping (`fail` builds the loader's error)."""
    if not isinstance(raw, Mapping):
        raise fail("`targeting` is required: {horizon_months, exploration_share, min_settled_rows, budget}")
    unknown = set(raw) - _KEYS
    if unknown:
        raise fail(f"targeting: unknown keys {sorted(unknown)}")
    budget_raw = raw.get("budget")
    if not isinstance(budget_raw, Mapping) or not set(budget_raw) & _BUDGET_KEYS:
        raise fail("targeting.budget needs max_cost and/or max_contacts (per score date)")
    if set(budget_raw) - _BUDGET_KEYS:
        raise fail(f"targeting.budget: unknown keys {sorted(set(budget_raw) - _BUDGET_KEYS)}")
    max_cost, max_contacts = budget_raw.get("max_cost"), budget_raw.get("max_contacts")
    budget = Budget(
        None if max_cost is None else _number(max_cost, "targeting.budget.max_cost", fail),
        None if max_contacts is None else int(_number(max_contacts, "targeting.budget.max_contacts", fail)),
    )
    if (budget.max_cost is not None and budget.max_cost < 0) or (
        budget.max_contacts is not None and budget.max_contacts < 0
    ):
        raise fail("targeting.budget: limits must be >= 0")
    targeting = Targeting(
        int(_number(raw.get("horizon_months", 3), "targeting.horizon_months", fail)),
        _number(raw.get("exploration_share", 0.1), "targeting.exploration_share", fail),
        int(_number(raw.get("min_settled_rows", 4000), "targeting.min_settled_rows", fail)),
        budget,
    )
    if targeting.horizon_months < 1 or targeting.min_settled_rows < 100:
        raise fail("targeting: horizon_months must be >= 1 and min_settled_rows >= 100")
    if not 0 < targeting.exploration_share <= 1:
        raise fail("targeting.exploration_share must be in (0, 1]: the experiment never stops")
    return targeting


def parse_offer_terms(offer: Mapping[str, Any], segment: str, fail: Callable[[str], Exception]) -> tuple[float, str]:
    """(cost per contact, family) of a segment's offer."""
    unknown = set(offer) - _OFFER_KEYS
    if unknown:
        raise fail(f"segment {segment}: offer has unknown keys {sorted(unknown)}")
    if "cost" not in offer:
        raise fail(f"segment {segment}: offer needs a `cost` per contact (the export's money unit, like profit)")
    cost = _number(offer["cost"], f"segment {segment}: offer cost", fail)
    if cost < 0:
        raise fail(f"segment {segment}: offer cost must be >= 0")
    family = str(offer.get("family") or "")
    if not _CODE.match(family):
        raise fail(f"segment {segment}: offer needs a snake_case `family` (offers of a family share an uplift model)")
    return cost, family


def _number(value: Any, name: str, fail: Callable[[str], Exception]) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise fail(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or isinstance(value, bool):
        raise fail(f"{name} must be a finite number, got {value!r}")
    return number
