"""Offer experiments: a random holdout inside every segment that gets no offer.

Why: without a group that was left alone, nobody can tell whether an offer changed anything.
The holdout is drawn per customer from a hash of (campaign, segment, customer_id), not from a
random generator, so every rerun, shard and chunk of a date gives the same groups, and a
customer stays in the same group for as long as the campaign (config/segments.yaml
`experiment.campaign`) and their segment stay the same. A new campaign draws new groups.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

if TYPE_CHECKING:
    import numpy as np

TREATMENT = "treatment"
HOLDOUT = "holdout"
GROUPS: tuple[str, ...] = (TREATMENT, HOLDOUT)
_KEYS = {"campaign", "holdout_share", "segment_holdout_share", "min_group", "confidence"}


@dataclass(frozen=True)
class Experiment:
    """The experiment part of the rule file: who is held out and how effects are judged."""

    campaign: str
    holdout_share: float
    min_group: int = 30  # fewer customers in either group: «too small to tell»
    confidence: float = 0.95  # level of every interval in outcomes.offer_effects
    segment_holdout_share: Mapping[str, float] = field(default_factory=dict)

    def share(self, segment: str) -> float:
        return float(self.segment_holdout_share.get(segment, self.holdout_share))


def parse_experiment(raw: Any, segment_codes: Sequence[str], fail: Callable[[str], Exception]) -> Experiment:
    """Validate the `experiment:` mapping of the rule file (`fail` builds the loader's error)."""
    if not isinstance(raw, Mapping):
        raise fail(
            "`experiment` is required: {campaign, holdout_share[, segment_holdout_share, min_group, confidence]}"
        )
    unknown = set(raw) - _KEYS
    if unknown:
        raise fail(f"experiment: unknown keys {sorted(unknown)}")
    campaign = str(raw.get("campaign") or "")
    if not campaign:
        raise fail("experiment.campaign is required (the holdout is drawn per campaign)")
    shares = {str(k): float(v) for k, v in (raw.get("segment_holdout_share") or {}).items()}
    unknown_segments = set(shares) - set(segment_codes)
    if unknown_segments:
        raise fail(f"experiment.segment_holdout_share names unknown segments {sorted(unknown_segments)}")
    experiment = Experiment(
        campaign,
        float(raw.get("holdout_share", 0.1)),
        int(raw.get("min_group", 30)),
        float(raw.get("confidence", 0.95)),
        shares,
    )
    if not all(0 <= s < 1 for s in [experiment.holdout_share, *shares.values()]):
        raise fail("experiment: holdout shares must be in [0, 1)")
    if experiment.min_group < 2 or not 0.5 < experiment.confidence < 1:
        raise fail("experiment: min_group must be >= 2 and confidence in (0.5, 1)")
    return experiment


def _key(campaign: str, segment: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{campaign}\x00{segment}".encode()).digest()[:8], "little")


def uniform_draws(customer_ids: Sequence[int], campaign: str, segment: str) -> np.ndarray:
    """A uniform [0, 1) number per customer, a pure function of (campaign, segment, id):
    splitmix64 of the id offset by a hash of campaign and segment."""
    import numpy as np

    with np.errstate(over="ignore"):
        x = np.asarray(customer_ids, dtype=np.int64).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x = x + np.uint64(_key(campaign, segment))
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def assign_groups(customer_ids: Sequence[int], segments: Sequence[str], experiment: Experiment) -> np.ndarray:
    """'holdout' for a customer whose draw falls under their segment's share, else 'treatment'."""
    import numpy as np

    ids = np.asarray(customer_ids, dtype=np.int64)
    codes = np.asarray(segments, dtype=object)
    groups = np.full(ids.size, TREATMENT, dtype=object)
    for segment in np.unique(codes):
        rows = codes == segment
        held = uniform_draws(ids[rows], experiment.campaign, str(segment)) < experiment.share(str(segment))
        groups[np.flatnonzero(rows)[held]] = HOLDOUT
    return groups
