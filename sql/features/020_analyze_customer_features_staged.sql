-- Fresh statistics of the staged partition for the gate's and the publish step's queries (they
-- stay with the partition when it is published).
SELECT ops.analyze_partition('features.customer_features_staged', :snapshot_date);
