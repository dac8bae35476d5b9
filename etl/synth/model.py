"""How synthetic customers are drawn: the real export's summary statistics and a one-factor
Gaussian copula (see the package docstring), in fixed seeded blocks of `BLOCK_SIZE`."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.special import ndtr, ndtri  # standard normal CDF and its inverse, vectorised

BLOCK_SIZE = 8192  # part of the determinism contract: changing it changes every file
# Bump whenever the output for a given (customers, seed, start_id) changes, so caches of
# generated snapshots (e.g. keyed by size and seed) can include it and never serve stale files.
GENERATOR_VERSION = 1
REAL_FIRST_ID = 215348

LABELS = ("Прежний уровень", "Снизилась")
SERVICE_TYPES = ("премиум", "стандарт", "стандартт")  # 'стандартт': typo kept as exported
SERVICE_PROBS = (0.289, 0.703, 0.008)
ALLOW_VALUES = ("да", "нет")
ALLOW_YES = 0.74
CATEGORIES = (
    "Товары для детей",
    "Домашний текстиль",
    "Косметика и аксесуары",  # the export's spelling throughout
    "Техника для красоты и здоровья",
    "Мелкая бытовая техника и электроника",
    "Кухонная посуда",
)
CATEGORY_PROBS = (25.4, 19.3, 17.2, 14.2, 13.4, 10.6)
MONEY_PERIODS = ("препредыдущий_месяц", "предыдущий_месяц", "текущий_месяц")
TIME_PERIODS = ("текущий_месяц", "предыдцщий_месяц")  # typo kept as exported, for every row
# Row order of the 3 revenue rows per id (indices into MONEY_PERIODS) and how often each occurs:
# the export mixes them, rotations of the natural order about twice as often as reversals.
MONEY_ORDERS = ((2, 0, 1), (0, 1, 2), (1, 2, 0), (1, 0, 2), (2, 1, 0), (0, 2, 1))
MONEY_ORDER_PROBS = (24.2, 22.9, 22.2, 11.2, 10.1, 9.4)
TIME_CURRENT_FIRST = 0.52

# Discrete marginals, % by value (first value given).
PAGES_PMF = (1, (1.5, 4.5, 5.8, 8.6, 8.8, 9.8, 7.8, 8.4, 8.3, 8.0, 7.1, 5.6, 4.7, 4.1, 2.8, 1.6, 1.5, 0.5, 0.4, 0.2))
CATEGORIES_PER_VISIT_PMF = (1, (8.2, 24.0, 27.4, 20.2, 13.6, 6.6))
UNPAID_PMF = (0, (8.9, 20.1, 20.1, 16.8, 15.2, 10.4, 3.4, 2.6, 1.5, 0.8, 0.3))
ERRORS_PMF = (0, (1.3, 5.7, 14.5, 17.4, 19.8, 16.0, 12.0, 7.1, 5.1, 1.2))
MARKETING_MONTH_PMF = (3, (23.7, 51.5, 24.8))

# Loadings on the latent engagement score (one-factor copula); the rest are independent.
LOADINGS = {
    "pages": 0.62,
    "minutes_prev": 0.60,
    "minutes_cur": 0.48,
    "marketing_6m": 0.50,
    "promo": -0.48,
    "categories_per_visit": 0.42,
    "unpaid": -0.42,
    "revenue_prev2": 0.45,
    "errors": 0.15,
}
COPULA_ORDER = tuple(LOADINGS)

PROMO_HIGH_SHARE = 0.13  # bimodal: ~13 % buy almost only on promo (0.74..0.99), the rest 0.11..0.47
PROMO_LOW_QUANTILES = ((0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 1), (0.106, 0.13, 0.17, 0.225, 0.27, 0.32, 0.40, 0.47))
PROMO_HIGH_QUANTILES = ((0, 0.02, 0.1, 0.5, 0.85, 1), (0.74, 0.88, 0.89, 0.94, 0.975, 0.995))
PROMO_WITHIN_WEIGHT = 0.7  # how much of the copula score survives inside a mode
PROMO_ZERO_RATE = 0.0025
MARKETING_6M = (4.25, 1.0, 0.9, 6.6)  # mean, sd, min, max (one decimal)
MINUTES_PREV = (13.5, 3.9, 4, 23)
MINUTES_CUR = (13.2, 4.2, 4, 23)
TENURE = (1.38, 110, 1079)  # symmetric Beta(a, a) stretched over [min, max] days
PROFIT = (4.0, 1.01, 0.86, 7.43)  # mean, sd, min, max (hundredths)
REVENUE_PREV2 = (4830.0, 335.0, 4000.0, 5700.0)  # whole roubles
REVENUE_PREV = (4945.0, 700.0, 2800.0, 7000.0, 0.33)  # halves; last: corr with prev2
REVENUE_RATIO = (1.06, 0.095)  # current = previous × ratio, written in tenths
INACTIVE_RATE = 0.0025  # 0 revenue in both earlier months: fails «active 3 months»
OUTLIER_RATE = 1 / 1300  # one huge current-month revenue per ~1300 customers
OUTLIER_FACTOR = (15.0, 25.0)

# Label: logit = INTERCEPT + LABEL_SCALE * (Σ coef·(x-mean)/sd + category/type/consent effects).
# Coefficients = standard-scaled LogisticRegression on the real export (rounded): fewer pages,
# minutes, categories per visit and marketing contacts, more promo and unpaid items → «Снизилась».
LABEL_NUMERIC = {  # name: (mean, sd, coef)
    "pages": (8.18, 3.98, -0.70),
    "minutes_prev": (13.47, 3.93, -0.69),
    "categories_per_visit": (3.27, 1.36, -0.68),
    "promo": (0.32, 0.25, 0.64),
    "minutes_cur": (13.20, 4.22, -0.50),
    "unpaid": (2.84, 1.97, 0.45),
    "marketing_6m": (4.25, 1.01, -0.42),
    "revenue_prev": (4937.0, 700.0, 0.32),
    "revenue_prev2": (4830.0, 333.0, -0.32),
    "revenue_cur": (5240.0, 834.0, -0.31),
    "tenure": (602.0, 250.0, 0.09),
    "errors": (4.19, 1.96, -0.05),
}
LABEL_CATEGORY = (-0.17, 0.0, -0.23, -0.66, -1.06, -0.38)  # by CATEGORIES
LABEL_STANDARD = -0.08  # стандарт vs премиум
LABEL_NO_MESSAGES = -0.10
LABEL_SCALE = 0.93
LABEL_INTERCEPT = -0.48

# Label mechanism «B» (see etl.synth.history): the same logistic model with the signs of its four
# strongest engagement coefficients reversed, so more pages, minutes, categories per visit and
# less promo now mean «Снизилась» — a model fitted on «A» ranks «B»'s labels worse than chance.
MECHANISM_B_FLIPPED = ("pages", "minutes_prev", "categories_per_visit", "promo")
# Standard normal scores beside the copula's that the transforms use (independent of the factor).
EXTRA_SCORES = ("promo_noise", "revenue_prev_noise", "revenue_ratio_noise")

Block = dict[str, np.ndarray]


# ---------------------------------------------------------------- transforms shared by every path
def _from_pmf(u: np.ndarray, pmf: tuple[int, tuple[float, ...]]) -> np.ndarray:
    """Inverse CDF of a discrete marginal: uniform(s) → integer values."""
    first, weights = pmf
    cdf = np.cumsum(weights) / np.sum(weights)
    return first + np.minimum(np.searchsorted(cdf, u, side="right"), len(weights) - 1)


def _clipped_normal(g: np.ndarray, mean: float, sd: float, lo: float, hi: float, step: float) -> np.ndarray:
    """Normal marginal from a standard normal score, clipped, as an integer count of `step`s."""
    return np.rint(np.clip(mean + sd * g, lo, hi) / step).astype(np.int64)


def copula_scores(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Standard normal scores sharing one latent factor, so features correlate like the real ones."""
    latent = rng.standard_normal(n)
    noise = rng.standard_normal((len(COPULA_ORDER), n))
    return {
        name: LOADINGS[name] * latent + np.sqrt(1 - LOADINGS[name] ** 2) * noise[i]
        for i, name in enumerate(COPULA_ORDER)
    }


def _promo_hundredths(g: np.ndarray, noise: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """Bimodal promo share: the top of the copula score buys almost only on promo.

    Inside each mode the value follows the mode's quantile function, at a position that keeps
    part of the copula score (the rest is `noise`), so promo share still tracks engagement
    within the main mode; `zero` marks the rare customers who never buy on promo.
    """
    u = ndtr(g)
    high = u > 1 - PROMO_HIGH_SHARE
    within = np.where(high, (u - (1 - PROMO_HIGH_SHARE)) / PROMO_HIGH_SHARE, u / (1 - PROMO_HIGH_SHARE))
    within = np.clip(within, 1e-9, 1 - 1e-9)
    position = ndtr(PROMO_WITHIN_WEIGHT * ndtri(within) + np.sqrt(1 - PROMO_WITHIN_WEIGHT**2) * noise)
    low_u, low_v = PROMO_LOW_QUANTILES
    high_u, high_v = PROMO_HIGH_QUANTILES
    share = np.where(high, np.interp(position, high_u, high_v), np.interp(position, low_u, low_v))
    share[zero] = 0.0
    return np.rint(np.minimum(share, 0.99) * 100).astype(np.int64)


def _revenues(
    g_prev2: np.ndarray, prev_noise: np.ndarray, ratio_noise: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Revenue in tenths for the three months: prev2 whole roubles, prev halves, current tenths."""
    mean2, sd2, lo2, hi2 = REVENUE_PREV2
    prev2 = np.rint(np.clip(mean2 + sd2 * g_prev2, lo2, hi2)) * 10
    mean1, sd1, lo1, hi1, rho = REVENUE_PREV
    g_prev = rho * g_prev2 + np.sqrt(1 - rho**2) * prev_noise
    prev = np.rint(np.clip(mean1 + sd1 * g_prev, lo1, hi1) * 2) * 5
    ratio = REVENUE_RATIO[0] + REVENUE_RATIO[1] * ratio_noise
    cur = np.rint(prev * ratio)
    return prev2.astype(np.int64), prev.astype(np.int64), cur.astype(np.int64)


def features_from_scores(g: dict[str, np.ndarray], promo_zero: np.ndarray) -> Block:
    """The score-driven features from standard normal scores (copula's + `EXTRA_SCORES`).

    A pure function, so one snapshot and a history of snapshots share the real marginals,
    clipping and number formats; the randomness is all in the scores given.
    """
    b: Block = {
        "pages": _from_pmf(ndtr(g["pages"]), PAGES_PMF),
        "categories_per_visit": _from_pmf(ndtr(g["categories_per_visit"]), CATEGORIES_PER_VISIT_PMF),
        "unpaid": _from_pmf(ndtr(g["unpaid"]), UNPAID_PMF),
        "errors": _from_pmf(ndtr(g["errors"]), ERRORS_PMF),
        "minutes_prev": _clipped_normal(g["minutes_prev"], *MINUTES_PREV, step=1),
        "minutes_cur": _clipped_normal(g["minutes_cur"], *MINUTES_CUR, step=1),
        "marketing_6m_tenths": _clipped_normal(g["marketing_6m"], *MARKETING_6M, step=0.1),
        "promo_hundredths": _promo_hundredths(g["promo"], g["promo_noise"], promo_zero),
    }
    b["marketing_6m"] = b["marketing_6m_tenths"] / 10
    b["promo"] = b["promo_hundredths"] / 100
    b["revenue_prev2_t"], b["revenue_prev_t"], b["revenue_cur_t"] = _revenues(
        g["revenue_prev2"], g["revenue_prev_noise"], g["revenue_ratio_noise"]
    )
    set_revenue_roubles(b)
    return b


def set_revenue_roubles(b: Block) -> None:
    """Revenue in roubles (what the label model reads) from the tenths that are written."""
    for name in ("revenue_prev2", "revenue_prev", "revenue_cur"):
        b[name] = b[name + "_t"] / 10


def draw_marketing_month(rng: np.random.Generator, n: int) -> np.ndarray:
    """Marketing contacts this month (fresh every month)."""
    return _from_pmf(rng.random(n), MARKETING_MONTH_PMF)


def draw_traits(rng: np.random.Generator, n: int) -> Block:
    """Traits independent of engagement: tenure, profit level, service tier, consent, category."""
    a, lo, hi = TENURE
    return {
        "tenure": np.rint(lo + (hi - lo) * rng.beta(a, a, n)).astype(np.int64),
        "profit_h": _clipped_normal(rng.standard_normal(n), *PROFIT, step=0.01),
        "service": _from_pmf(rng.random(n), (0, SERVICE_PROBS)),
        "allow": (rng.random(n) >= ALLOW_YES).astype(np.int64),
        "category": _from_pmf(rng.random(n), (0, CATEGORY_PROBS)),
    }


def label_logit(block: Block, flipped: tuple[str, ...] = ()) -> np.ndarray:
    """Logit of «Снизилась» from the (pre-quirk) features; `flipped` coefficients change sign."""
    score = np.zeros(block["pages"].size)
    for name, (mean, sd, coef) in LABEL_NUMERIC.items():
        coef = -coef if name in flipped else coef
        score += coef * (block[name] - mean) / sd
    score += np.asarray(LABEL_CATEGORY)[block["category"]]
    score += LABEL_STANDARD * (block["service"] != 0)
    score += LABEL_NO_MESSAGES * (block["allow"] == 1)
    return LABEL_INTERCEPT + LABEL_SCALE * score


def sigmoid(logit: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-logit))


def apply_quirks(rng: np.random.Generator, b: Block) -> None:
    """The export's quirks, after the label so they stay label-independent like in the export."""
    n = b["pages"].size
    inactive = rng.random(n) < INACTIVE_RATE
    b["revenue_prev2_t"][inactive] = 0
    b["revenue_prev_t"][inactive] = 0
    outlier = (rng.random(n) < OUTLIER_RATE) & ~inactive
    factor = rng.uniform(*OUTLIER_FACTOR, n)
    b["revenue_cur_t"][outlier] = np.rint(b["revenue_cur_t"][outlier] * factor[outlier])
    b["money_order"] = _from_pmf(rng.random(n), (0, MONEY_ORDER_PROBS))
    b["time_prev_first"] = rng.random(n) >= TIME_CURRENT_FIRST


# ---------------------------------------------------------------- one snapshot, in seeded blocks
def _draw_block(seed: int, index: int, n: int) -> Block:
    """`n` customers of block `index`: features, label, then the export's quirks.

    The draws are taken from the block's generator in a fixed order (part of the byte contract).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    g = copula_scores(rng, n)
    g["promo_noise"] = rng.standard_normal(n)
    promo_zero = rng.random(n) < PROMO_ZERO_RATE
    g["revenue_prev_noise"] = rng.standard_normal(n)
    g["revenue_ratio_noise"] = rng.standard_normal(n)
    b = features_from_scores(g, promo_zero)
    b["marketing_month"] = draw_marketing_month(rng, n)
    b.update(draw_traits(rng, n))
    b["label"] = (rng.random(n) < sigmoid(label_logit(b))).astype(np.int8)
    apply_quirks(rng, b)
    return b


def iter_blocks(customers: int, seed: int = 0) -> Iterator[Block]:
    """Blocks of `BLOCK_SIZE` customers (the last one shorter), each seeded by (seed, index)."""
    for index, start in enumerate(range(0, customers, BLOCK_SIZE)):
        yield _draw_block(seed, index, min(BLOCK_SIZE, customers - start))


def iter_chunks(customers: int, seed: int = 0, chunk_size: int = 50_000) -> Iterator[Block]:
    """Regroup the fixed blocks into chunks of `chunk_size` customers (bounded memory)."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    pending: list[Block] = []
    held = 0
    for block in iter_blocks(customers, seed):
        pending.append(block)
        held += block["pages"].size
        while held >= chunk_size:
            merged = _concat(pending)
            yield _slice(merged, 0, chunk_size)
            rest = _slice(merged, chunk_size, held)
            held -= chunk_size
            pending = [rest] if held else []
    if held:
        yield _concat(pending)


def _concat(blocks: list[Block]) -> Block:
    if len(blocks) == 1:
        return blocks[0]
    return {key: np.concatenate([b[key] for b in blocks]) for key in blocks[0]}


def _slice(block: Block, start: int, stop: int) -> Block:
    return {key: value[start:stop] for key, value in block.items()}
