-- Create or empty the staged partition of :score_date (before scoring the date again).
SELECT ops.replace_partition('scoring.churn_scores_staged'::regclass, :score_date);
