-- Publish the gated staged scores of :score_date: their partition replaces the date's published
-- one (scoring.publish_staged_partition, sql/schema/060_create_scoring_tables.sql); the rows published.
SELECT scoring.publish_staged_partition(:score_date) AS rows;
