"""Closing the loop: did the scores come true, and did the offers work?

A score made on date D predicts a drop in activity («Снизилась») over the three months after D.
It is settled by the label the same customer carries in the first published snapshot at least
three months later (the view outcomes.score_dates states the rule, sql/schema/075); customers
missing from that snapshot stay unsettled.

Modules:
- `stats` — the statistics, pure functions: ROC-AUC with a DeLong interval, Brier score,
  calibration by decile, and treated-vs-holdout effects with Newcombe / Welch intervals.
- `settle` — what the churn_score DAG's `settle_outcomes` task calls: for the scored snapshot
  dates a snapshot settles, the realized performance per model, the calibration deciles and the offer
  effects per segment, each snapshot date replaced in one transaction (outcomes.*).
- `report` — the outcome lines `make run` prints, from the mart views BI reads.

Light on import: settle and report load pandas and `stats` (numpy, scipy) inside their functions.
"""

from ml.outcomes.settle import realized_for_model, settle_outcomes, settle_scores_of

__all__ = ["realized_for_model", "settle_outcomes", "settle_scores_of"]
