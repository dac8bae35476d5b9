-- Staged rows of :score_date and the model that produced them.
SELECT count(*) AS rows, min(model_version) AS model_version
FROM scoring.churn_scores_staged
WHERE score_date = :score_date;
