-- Publish the gated staged scores of :score_date: their partition replaces the date's published
-- one (ops.publish_partition, sql/schema/005_create_partition_functions.sql); the rows published.
SELECT ops.publish_partition('scoring.churn_scores_staged', 'scoring.churn_scores', :score_date) AS rows;
