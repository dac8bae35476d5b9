-- The published probabilities of :score_date from :model_version (the score's PSI).
SELECT churn_probability
FROM scoring.churn_scores
WHERE score_date = :score_date AND model_version = :model_version;
