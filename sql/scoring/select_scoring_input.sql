-- The customers scored for :score_date: «active 3 months» rows of the snapshot's features, in
-- customer order, of shard :shard of :shards (ml/scoring/shards.py; 0 of 1 is every customer).
SELECT *
FROM features.model_input
WHERE snapshot_date = :score_date
  AND (customer_id % :shards + :shards) % :shards = :shard
ORDER BY customer_id;
