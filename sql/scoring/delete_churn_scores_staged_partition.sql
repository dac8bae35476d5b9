-- Remove the staged scores of :score_date (before rescoring it, and after publishing it).
DELETE FROM scoring.churn_scores_staged WHERE score_date = :score_date;
