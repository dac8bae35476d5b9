"""Synthetic «В один клик» snapshots in exactly the real export's byte format, at any size.

Why: `make run` and the benchmark need snapshots of 1k..1M+ customers that the loader, the GX
gates and the models treat like the real export — same headers, separators, decimal marks,
period names (typo included), value formats and quirks — without shipping the real data.

How (all parameters below are summary statistics of the real export, never its rows):
- features come from a one-factor Gaussian copula: a latent «engagement» score drives pages,
  minutes, categories per visit, marketing contacts, revenue two months ago (up) and promo share,
  unpaid items (down), so features correlate like the real ones (e.g. pages~minutes ≈ 0.4);
  each feature's marginal is the real one (pmf, clipped normal, bimodal promo share);
- the label is drawn from a logistic model *of the features*, with the signs and relative sizes
  of a standard-scaled LogisticRegression fitted on the real export, scaled so a standard LogReg
  reaches ROC-AUC ≈ 0.89 (real: ≈ 0.90) with ≈ 38 % «Снизилась».

Streaming and determinism: customers are drawn in fixed blocks of `BLOCK_SIZE`, each from its own
`SeedSequence([seed, block_index])`, and written `chunk_size` customers at a time; the bytes depend
only on (customers, seed, start_id), not on `chunk_size`.

History (`History`, `HistorySpec`): monthly snapshots of the *same* customers, so a pipeline can
score snapshot k and learn from snapshot k + horizon whether the score came true and whether an
offer worked. Latent scores follow an AR(1) with a slow engagement drift; the label written in
snapshot k settles the period that started at k - horizon (features then, minus the offer's
recorded effect, same uniform draws either way); from `mechanism_change_at` on, periods follow
mechanism «B» (`model.MECHANISM_B_FLIPPED`); «Снизилась» customers' last two revenues drop.

Modules: `model` (the parameters, the shared transforms and how a block is drawn), `export` (the
byte format), `history` (the multi-snapshot generator), `__main__` (the CLI).
CLI: python -m etl.synth --customers N --seed S --out DIR [--start-id 215348] [--chunk-size 50000]
[--snapshots K] (then DIR/snapshot-01 … DIR/snapshot-K, no treatments)"""

from etl.synth.__main__ import main
from etl.synth.export import FILES, generate_snapshot
from etl.synth.history import REVENUE_DROP, History, HistorySpec, write_history
from etl.synth.model import GENERATOR_VERSION, MECHANISM_B_FLIPPED, REAL_FIRST_ID, iter_chunks

__all__ = [
    "FILES",
    "GENERATOR_VERSION",
    "MECHANISM_B_FLIPPED",
    "REAL_FIRST_ID",
    "REVENUE_DROP",
    "History",
    "HistorySpec",
    "generate_snapshot",
    "iter_chunks",
    "main",
    "write_history",
]
