-- Publish the gated staged features of :snapshot_date: replace that date in customer_features, clear
-- the staged rows (one transaction, run by etl.ingest.publish_features).
DELETE FROM features.customer_features WHERE snapshot_date = :snapshot_date;

INSERT INTO features.customer_features
SELECT * FROM features.customer_features_staged WHERE snapshot_date = :snapshot_date;

DELETE FROM features.customer_features_staged WHERE snapshot_date = :snapshot_date;
