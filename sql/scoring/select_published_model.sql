-- The model(s) behind the published scores of :score_date with their PSI reference.
WITH scores AS (
    SELECT model_version, count(*) AS customers
    FROM scoring.churn_scores
    WHERE score_date = :score_date
    GROUP BY model_version
)

SELECT
    scores.model_version,
    scores.customers,
    registry.reference,
    registry.training_snapshot,
    registry.training_rows
FROM scores
LEFT JOIN ml.model_registry AS registry USING (model_version);
