-- Per shard of :score_date: active customers in the features vs staged scores, and the models and
-- rule versions that scored them (one each when every shard was scored by the same run's plan).
WITH expected AS (
    SELECT (customer_id % :shards + :shards) % :shards AS shard, count(*) AS customers
    FROM features.model_input
    WHERE snapshot_date = :score_date
    GROUP BY 1
),

staged AS (
    SELECT
        (customer_id % :shards + :shards) % :shards AS shard,
        count(*) AS scores,
        count(DISTINCT customer_id) AS scored_customers,
        array_agg(DISTINCT model_version) AS model_versions,
        array_agg(DISTINCT rules_version) AS rules_versions
    FROM scoring.churn_scores_staged
    WHERE score_date = :score_date
    GROUP BY 1
)

SELECT
    coalesce(expected.shard, staged.shard) AS shard,
    coalesce(expected.customers, 0) AS customers,
    coalesce(staged.scores, 0) AS scores,
    coalesce(staged.scored_customers, 0) AS scored_customers,
    coalesce(staged.model_versions, '{}') AS model_versions,
    coalesce(staged.rules_versions, '{}') AS rules_versions
FROM expected
FULL JOIN staged USING (shard)
ORDER BY 1;
