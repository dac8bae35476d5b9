-- Fresh planner statistics of the staged partition of :score_date after a bulk load, so the GX
-- gate's joins with features plan well (they stay with the partition when it is published).
SELECT ops.analyze_partition('scoring.churn_scores_staged'::regclass, :score_date);
