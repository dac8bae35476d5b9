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

Modules: `model` (the parameters and how a block is drawn), `export` (the byte format),
`__main__` (the CLI). CLI: python -m etl.synth --customers N --seed S --out DIR [--start-id 215348] [--chunk-size 50000]"""
from etl.synth.__main__ import main
from etl.synth.export import FILES, generate_snapshot
from etl.synth.model import GENERATOR_VERSION, REAL_FIRST_ID, iter_chunks

__all__ = ["FILES", "GENERATOR_VERSION", "REAL_FIRST_ID", "generate_snapshot", "iter_chunks", "main"]
