"""A history of monthly snapshots of the same customers, so a pipeline can score snapshot k and
learn from snapshot k + horizon whether the score came true and whether an offer worked.

Why: one snapshot cannot test the loop score → offer → outcome. Here every customer keeps a
latent state from month to month, the label written in snapshot k settles the period that started
at snapshot k - horizon (caused by the features *then*), and offers recorded for a period lower
that period's probability of «Снизилась» while the uniform draws stay the same (common random
numbers), so any difference between two runs is the offer's doing.

How: the latent normal scores (copula's and the transforms' own) follow an AR(1),
g_k = persistence · g_(k-1) + sqrt(1 - persistence²) · fresh_k, with fresh_k a fresh copula draw,
so marginals and cross-correlations stay the real ones; the engagement factor drifts by
`engagement_drift` per snapshot. The transforms are `model`'s, so every value stays inside the
single-snapshot generator's ranges. Slow traits are re-drawn for `TRAIT_CHANGE_RATE` of the
customers per snapshot, tenure grows `TENURE_STEP` days (clipped), and this month's marketing
contacts and the export's quirks are drawn fresh. From snapshot `horizon` on, customers whose
label is «Снизилась» have their last two months' revenue cut by `REVENUE_DROP`.

Determinism: every draw of snapshot k comes from `SeedSequence([seed, _TAG, k, stream])`, so
`write(k)` depends only on the spec and the treatment recorded for k - horizon, in any call order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from etl.synth import model
from etl.synth.export import write_blocks
from etl.synth.model import REAL_FIRST_ID, Block

REVENUE_DROP = 0.85  # revenue_prev and revenue_cur of a «Снизилась» customer, × this
TRAIT_CHANGE_RATE = 0.02  # share of customers whose slow trait (each one apart) is re-drawn per snapshot
TENURE_STEP = 30  # days between two snapshots
CHANGING_TRAITS = ("service", "allow", "category", "profit_h")
SCORE_NAMES = (*model.COPULA_ORDER, *model.EXTRA_SCORES)
_TAG = 0x4849  # keeps a history's streams apart from the single-snapshot blocks'
_SCORES, _TRAITS, _MONTH, _LABEL, _QUIRKS = range(5)  # one stream per purpose and snapshot
_WRITE_CHUNK = 50_000


@dataclass(frozen=True)
class HistorySpec:
    """What a history is: its customers and how they evolve (see the module docstring)."""

    customers: int
    seed: int = 0
    horizon: int = 3  # snapshots (a month apart) between a score and the label that settles it
    persistence: float = 0.85  # month-to-month correlation of each customer's latent normal scores
    engagement_drift: float = -0.03  # per-snapshot shift of the latent engagement factor (customers slowly buy less)
    mechanism_change_at: int | None = None  # labels of periods that START at snapshot >= this follow mechanism "B"
    start_id: int = REAL_FIRST_ID

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be >= 1")
        if self.horizon < 1:
            raise ValueError("horizon must be >= 1: a label settles a period that started earlier")
        if not 0.0 <= self.persistence <= 1.0:
            raise ValueError("persistence must be within [0, 1]")
        if not math.isfinite(self.engagement_drift):
            raise ValueError("engagement_drift must be finite")
        if self.mechanism_change_at is not None and self.mechanism_change_at < 0:
            raise ValueError("mechanism_change_at must be >= 0 or None")


@dataclass
class _State:
    """The evolving part of the customers at one snapshot (before drift and transforms)."""

    index: int
    scores: dict[str, np.ndarray]
    traits: Block


class History:
    """Monthly snapshots of `spec.customers` customers with ids from `spec.start_id`."""

    def __init__(self, spec: HistorySpec) -> None:
        self.spec = spec
        self._effects: dict[int, np.ndarray] = {}
        self._state: _State | None = None  # the latest state computed (a checkpoint)
        self._untreated: dict[int, np.ndarray] = {}  # period start → P(«Снизилась») without offers
        self._own: dict[int, np.ndarray] = {}  # index < horizon → mechanism A on that snapshot itself

    # ------------------------------------------------------------------ public interface
    def record_treatment(self, index: int, effects: Mapping[int, float]) -> None:
        """Offers sent after scoring snapshot `index`: customer_id -> absolute reduction of that customer's
        probability of «Снизилась» over the period that starts at `index` (0 = no effect). Idempotent:
        recording the same index again replaces the earlier mapping."""
        self._check_index(index)
        n, first = self.spec.customers, self.spec.start_id
        ids = np.fromiter(effects.keys(), dtype=np.int64, count=len(effects))
        values = np.fromiter(effects.values(), dtype=np.float64, count=len(effects))
        if ids.size and (ids.min() < first or ids.max() >= first + n):
            raise ValueError(f"customer ids must be within {first}..{first + n - 1}")
        if not np.isfinite(values).all():
            raise ValueError("treatment effects must be finite")
        reduction = np.zeros(n)
        reduction[ids - first] = values
        self._effects[index] = reduction

    def write(self, index: int, out_dir: Path) -> dict[str, int]:
        """Write snapshot `index` (0-based) as the four CSVs into out_dir (same format/atomicity as
        generate_snapshot: *.part then rename, money.csv last); returns rows per file."""
        block = self._snapshot(index)
        return write_blocks(Path(out_dir), _chunks(block, _WRITE_CHUNK), self.spec.start_id)

    def label_probability(self, index: int) -> np.ndarray:
        """P(«Снизилась») of each customer (in id order) written in snapshot `index`, after treatment effects
        (for tests: lets them know the truth)."""
        self._check_index(index)
        start = index - self.spec.horizon
        if start < 0:  # before any score could exist: the single-snapshot model on snapshot `index`
            return self._cached(self._own, index).copy()
        untreated = self._cached(self._untreated, start)
        reduction = self._effects.get(start)
        return untreated.copy() if reduction is None else np.clip(untreated - reduction, 0.0, 1.0)

    def features(self, index: int) -> Block:
        """Snapshot `index`'s features before the label and the export's quirks (what a score of
        it sees, for tests and etl.synth.truth)."""
        return self._features(index)

    def untreated_probability(self, start: int) -> np.ndarray:
        """P(«Снизилась») of each customer over the period that starts at snapshot `start`,
        without any offer (the truth a contact's effect is taken from)."""
        self._check_index(start)
        return self._cached(self._untreated, start).copy()

    def labels(self, index: int) -> np.ndarray:
        """The labels written in snapshot `index` (1 = «Снизилась»), without writing the files."""
        return self._snapshot(index)["label"]

    # ------------------------------------------------------------------ one snapshot
    def _snapshot(self, index: int) -> Block:
        """Snapshot `index` as written: features, label, the label's revenue drop, quirks."""
        b = self._features(index)
        p = self.label_probability(index)
        u = self._rng(index, _LABEL).random(self.spec.customers)  # never depends on any treatment
        b["label"] = (u < p).astype(np.int8)
        if index >= self.spec.horizon:
            # Before the horizon the label is the same-snapshot class drawn from the snapshot's own
            # features: cutting its revenue would let a model trained there read the label off
            # its inputs, a leak no score of a later period can use (CV would overstate it).
            _drop_revenue(b, b["label"] == 1)
        model.apply_quirks(self._rng(index, _QUIRKS), b)
        return b

    def _features(self, index: int) -> Block:
        """Pre-label, pre-quirk features of snapshot `index`; caches the label probabilities of
        every snapshot passed on the way (see `_features_of`)."""
        self._check_index(index)
        return self._features_of(self._state_at(index))

    def _features_of(self, state: _State) -> Block:
        """The state through `model`'s transforms (drift added), plus this month's fresh draws;
        the first time a snapshot is seen, the untreated label probability of its period."""
        k, n = state.index, self.spec.customers
        shift = self.spec.engagement_drift * k
        g = {name: s + model.LOADINGS.get(name, 0.0) * shift for name, s in state.scores.items()}
        rng = self._rng(k, _MONTH)
        b = model.features_from_scores(g, rng.random(n) < model.PROMO_ZERO_RATE)
        b["marketing_month"] = model.draw_marketing_month(rng, n)
        b.update({name: value.copy() for name, value in state.traits.items()})  # never alias the state
        _, _, tenure_max = model.TENURE
        b["tenure"] = np.minimum(state.traits["tenure"] + TENURE_STEP * k, tenure_max)
        if k not in self._untreated:
            own = model.sigmoid(model.label_logit(b))  # mechanism A
            is_b = self._is_mechanism_b(k)
            self._untreated[k] = model.sigmoid(model.label_logit(b, model.MECHANISM_B_FLIPPED)) if is_b else own
            if k < self.spec.horizon:
                self._own[k] = own
        return b

    def _cached(self, store: dict[int, np.ndarray], index: int) -> np.ndarray:
        if index not in store:
            self._features(index)
        return store[index]

    # ------------------------------------------------------------------ the latent state
    def _state_at(self, index: int) -> _State:
        """The state at `index`, advanced from the checkpoint (or from 0 if it lies beyond)."""
        state = self._state
        if state is None or state.index > index:
            state = self._initial_state()
        while state.index < index:
            if state.index not in self._untreated:
                self._features_of(state)  # caches that snapshot's label probabilities
            state = self._advance(state)
        self._state = state
        return state

    def _initial_state(self) -> _State:
        rng = self._rng(0, _SCORES)
        scores = self._fresh_scores(rng)
        traits = model.draw_traits(self._rng(0, _TRAITS), self.spec.customers)
        return _State(0, scores, traits)

    def _advance(self, state: _State) -> _State:
        """One month on: AR(1) on every latent score, a few slow traits re-drawn."""
        k, n, rho = state.index + 1, self.spec.customers, self.spec.persistence
        fresh = self._fresh_scores(self._rng(k, _SCORES))
        keep, renew = rho, math.sqrt(1.0 - rho**2)
        scores = {name: keep * state.scores[name] + renew * fresh[name] for name in SCORE_NAMES}
        rng = self._rng(k, _TRAITS)
        redrawn = model.draw_traits(rng, n)
        traits = dict(state.traits)
        for name in CHANGING_TRAITS:
            traits[name] = np.where(rng.random(n) < TRAIT_CHANGE_RATE, redrawn[name], traits[name])
        return _State(k, scores, traits)

    def _fresh_scores(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A fresh draw of every latent score: the one-factor copula plus the transforms' own."""
        n = self.spec.customers
        scores = model.copula_scores(rng, n)
        for name in model.EXTRA_SCORES:
            scores[name] = rng.standard_normal(n)
        return scores

    # ------------------------------------------------------------------ helpers
    def _rng(self, index: int, stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.spec.seed, _TAG, index, stream]))

    def _is_mechanism_b(self, start: int) -> bool:
        change = self.spec.mechanism_change_at
        return change is not None and start >= change

    @staticmethod
    def _check_index(index: int) -> None:
        if index < 0:
            raise ValueError("snapshot index must be >= 0")


def _drop_revenue(b: Block, dropped: np.ndarray) -> None:
    """Cut the last two months' revenue of `dropped` customers by `REVENUE_DROP`, keeping the
    export's formats (previous month in halves, current in tenths) and the generator's floor."""
    floor = model.REVENUE_PREV[2] * 10  # tenths: the lowest previous-month revenue ever drawn
    prev, cur = b["revenue_prev_t"], b["revenue_cur_t"]
    new_prev = np.minimum(prev, np.maximum(np.rint(prev * REVENUE_DROP / 5) * 5, floor))
    new_cur = np.minimum(cur, np.maximum(np.rint(cur * REVENUE_DROP), floor))
    b["revenue_prev_t"] = np.where(dropped, new_prev, prev).astype(np.int64)
    b["revenue_cur_t"] = np.where(dropped, new_cur, cur).astype(np.int64)
    model.set_revenue_roubles(b)


def _chunks(block: Block, size: int) -> Iterator[Block]:
    n = block["pages"].size
    for start in range(0, n, size):
        yield {key: value[start : start + size] for key, value in block.items()}


def write_history(out: Path, spec: HistorySpec, snapshots: int) -> dict[str, dict[str, int]]:
    """Snapshots 0..snapshots-1 without treatments into out/snapshot-01 … (the CLI's --snapshots)."""
    if snapshots < 1:
        raise ValueError("snapshots must be >= 1")
    history, width = History(spec), max(2, len(str(snapshots)))
    return {
        f"snapshot-{k + 1:0{width}d}": history.write(k, Path(out) / f"snapshot-{k + 1:0{width}d}")
        for k in range(snapshots)
    }
