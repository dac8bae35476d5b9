-- Fresh planner statistics after a bulk load, so the GX gate's joins with features plan well.
ANALYZE scoring.churn_scores_staged;
