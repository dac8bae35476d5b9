-- The newest :limit published scored snapshot dates: customers scored, by which model, when (`churn status`).
SELECT
    score_date,
    count(*) AS customers,
    string_agg(DISTINCT model_version, ', ') AS model_versions,
    max(scored_at) AS scored_at
FROM scoring.churn_scores
GROUP BY score_date
ORDER BY score_date DESC
LIMIT :limit;
