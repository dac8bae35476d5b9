-- Per segment of the published scores of :score_date, in rule precedence order.
WITH scores AS (
    SELECT * FROM scoring.churn_scores WHERE score_date = :score_date
)

SELECT
    scores.segment,
    min(rules.precedence) AS precedence,
    min(rules.title) AS title,
    count(*) AS customers,
    avg(scores.churn_probability) AS mean_probability,
    sum(scores.churn_probability * scores.profit) AS profit_at_risk
FROM scores
LEFT JOIN scoring.segment_rules AS rules USING (rules_version, segment)
GROUP BY scores.segment
ORDER BY min(rules.precedence), scores.segment;
