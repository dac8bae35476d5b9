-- Remove the pending scores of :score_date (before rescoring it, and after publishing it).
DELETE FROM scoring.churn_scores_pending WHERE score_date = :score_date;
