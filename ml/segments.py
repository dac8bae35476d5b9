"""Segments, offers, risk bands and readable reasons from the versioned rule file (not code).

The rules live in `config/segments.yaml` (format documented at its top): marketing changes
cut-offs, texts and precedence there and bumps `version`; this module only interprets them,
vectorised over a chunk of customers (numpy masks, no per-row Python for the segments).

- `load_rules(path=None) -> Rules` reads and validates the file strictly (an unknown field, no
  catch-all, a title naming another risk band: refused at load time, not in the middle of a run).
- `risk_bands(probability, threshold, rules)` → 'high' / 'medium' / 'low'.
- `assign(frame, rules)` → (segment codes, offer texts): the first matching rule wins.
- `factor_text(rules, feature, direction_or_value)` → the phrase a marketer reads.
- `rules.experiment` → the holdout share and campaign (ml/experiments.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ml.segment_rules import (
    DEFAULT_RULES_PATH,
    DERIVED_FIELDS,
    MAX_OFFER_LENGTH,
    RISK_BANDS,
    Condition,
    Rules,
    RulesError,
    Segment,
    When,
    factor_text,
    load_rules,
    parse_rules,
    rules_path,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "DEFAULT_RULES_PATH",
    "DERIVED_FIELDS",
    "MAX_OFFER_LENGTH",
    "RISK_BANDS",
    "Condition",
    "Rules",
    "RulesError",
    "Segment",
    "When",
    "assign",
    "factor_text",
    "load_rules",
    "parse_rules",
    "risk_bands",
    "rules_path",
    "threshold_for",
]


# ------------------------------------------------------------------------------- applying them
def threshold_for(model_threshold: float | None, rules: Rules) -> float:
    """The high-risk cut-off: the model's registered threshold, else the rule file's fallback."""
    if model_threshold is None or not 0 < float(model_threshold) <= 1:
        return rules.fallback_threshold
    return float(model_threshold)


def risk_bands(probability: Sequence[float], threshold: float, rules: Rules) -> np.ndarray:
    """'high' when p >= threshold, 'medium' when p >= share × threshold, else 'low'."""
    import numpy as np

    p = np.asarray(probability, dtype=float)
    medium_from = rules.medium_share_of_threshold * threshold
    return np.select([p >= threshold, p >= medium_from], ["high", "medium"], default="low").astype(object)


def assign(frame: pd.DataFrame, rules: Rules) -> tuple[np.ndarray, np.ndarray]:
    """(segment code, offer text) per row: the first rule whose `when` holds (precedence).

    `frame` needs the fields the rules test: churn_probability, risk_band and the feature columns.
    """
    import numpy as np

    masks = [segment.when.mask(frame) for segment in rules.segments]
    codes = np.select(masks, rules.codes, default="").astype(object)
    offers = np.select(masks, [s.offer for s in rules.segments], default="").astype(object)
    if (codes == "").any():  # cannot happen with a catch-all last rule; guard against edits
        raise RulesError(f"{int((codes == '').sum())} customers matched no segment")
    return codes, offers
