-- Remove the staged scores of shard :shard of :shards of :score_date (before that shard is scored again).
DELETE FROM scoring.churn_scores_staged
WHERE score_date = :score_date
  AND (customer_id % :shards + :shards) % :shards = :shard;
