"""What the job sees of a synthetic customer and what is true about them: the feature row (named
like `features.customer_features`) and the true effect of an offer on that customer.

Why: an uplift model and a targeting policy can only be proven against effects that are known.
A segment rule sees risk, profit and a few behaviours; the true effect here depends mostly on
other traits of the customer, so most of its variance lies *within* segments and segment rules
alone cannot recover it (tests/unit/test_synth_truth.py measures the share).

The effect of contacting a customer with an offer is an absolute reduction of their probability
of «Снизилась» over the three months after the contact (negative: the contact raises it):

    effect = segment part (`SYNTH_OFFER_EFFECTS`, 0 for segments it does not name)
           + SLEEPING_DOG   if marketing_current_month >= SLEEPING_DOG_FROM (contacted 5 times this
                              month already: one more pushes them away; ~25 % of customers)
           + PERSUADABLE    elif service_errors >= PERSUADABLE_FROM (had service failures: an
                              offer reads as an apology and wins them back; ~19 %)
           + BASELINE       otherwise (a small nudge)

Both traits barely move the risk of «Снизилась» (this month's contacts are drawn fresh every month;
service errors have a small coefficient in the label model), so high-risk segments hold as many
sleeping dogs as low-risk ones.

The probability moves by the effect clipped to [0, 1], so a customer who would stay anyway cannot
be kept by much: the true uplift of a contact is `p0 - clip(p0 - effect, 0, 1)` (`true_uplift`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from etl.synth import model
from etl.synth.model import Block

SLEEPING_DOG_FROM = 5  # marketing contacts this month (model.MARKETING_MONTH_PMF: 3, 4 or 5)
SLEEPING_DOG = -0.15
PERSUADABLE_FROM = 6  # service errors (model.ERRORS_PMF: median 4)
PERSUADABLE = 0.25
BASELINE = 0.03

# Staging fixes the export's typos (sql/staging): the frame holds the values the job's features hold.
_FIXED_SPELLING = {"стандартт": "стандарт", "Косметика и аксесуары": "Косметика и аксессуары"}


def feature_frame(block: Block, customer_ids: Sequence[int]):
    """The block's customers as rows of `features.customer_features` (pre-quirk values; a pandas
    DataFrame), so policies can be computed without a warehouse."""
    import pandas as pd

    def spelled(values: Sequence[str], codes: np.ndarray) -> np.ndarray:
        return np.asarray([_FIXED_SPELLING.get(v, v) for v in values], dtype=object)[codes]

    return pd.DataFrame(
        {
            "customer_id": np.asarray(customer_ids, dtype=np.int64),
            "service_type": spelled(model.SERVICE_TYPES, block["service"]),
            "allow_messages": block["allow"] == 0,
            "marketing_6m": block["marketing_6m"],
            "marketing_current_month": block["marketing_month"],
            "tenure_days": block["tenure"],
            "promo_share": block["promo"],
            "popular_category": spelled(model.CATEGORIES, block["category"]),
            "avg_categories_per_visit": block["categories_per_visit"],
            "unpaid_items_quarter": block["unpaid"],
            "service_errors": block["errors"],
            "pages_per_visit": block["pages"],
            "revenue_two_months_ago": block["revenue_prev2"],
            "revenue_last_month": block["revenue_prev"],
            "revenue_current_month": block["revenue_cur"],
            "minutes_last_month": block["minutes_prev"],
            "minutes_current_month": block["minutes_cur"],
            "profit": block["profit_h"] / 100,
        }
    )


def offer_effects(block: Block, segments: Sequence[str], segment_effects: Mapping[str, float]) -> np.ndarray:
    """The true effect of contacting each customer of `block` (see the module docstring)."""
    codes = np.asarray(segments, dtype=object)
    part = np.asarray([float(segment_effects.get(str(s), 0.0)) for s in codes.tolist()])
    personal = np.select(
        [block["marketing_month"] >= SLEEPING_DOG_FROM, block["errors"] >= PERSUADABLE_FROM],
        [SLEEPING_DOG, PERSUADABLE],
        default=BASELINE,
    )
    return part + personal


def true_uplift(untreated: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """How much a contact lowers each customer's probability of «Снизилась», after clipping."""
    return untreated - np.clip(untreated - effects, 0.0, 1.0)
