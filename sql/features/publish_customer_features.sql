-- Publish the gated staged features of :snapshot_date: their partition replaces the date's
-- published one (ops.publish_partition; one transaction, run by etl.ingest.publish_features).
SELECT ops.publish_partition('features.customer_features_staged', 'features.customer_features', :snapshot_date);
