-- Remove the published scores of :score_date (publish replaces the whole date).
DELETE FROM scoring.churn_scores WHERE score_date = :score_date;
