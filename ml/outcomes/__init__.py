"""Closing the loop: did the scores come true, and did the offers work?

A score made on date D predicts a drop in activity («Снизилась») over the three months after D.
It is settled by the label the same customer carries in the first published snapshot at least
three months later (`HORIZON`); customers missing from that snapshot stay unsettled.

Modules:
- `stats` — the statistics, pure functions: ROC-AUC with a DeLong interval, Brier score,
  calibration by decile, and treated-vs-holdout effects with Newcombe / Welch intervals.
- `settle` — what the churn_score DAG's `settle_outcomes` task calls: for the score dates a
  snapshot settles, the realized performance per model, the calibration deciles and the offer
  effects per segment, each score date replaced in one transaction (outcomes.*).

Light on import: numpy, pandas and scipy load inside the functions.
"""
from ml.outcomes.settle import realized_for_model, settle_outcomes, settle_score_date

__all__ = ["realized_for_model", "settle_outcomes", "settle_score_date"]
