-- Warehouses built before features and scores were partitioned: the emptied plain tables that
-- ops.set_aside_plain_table set aside (sql/schema/030, 060), dropped once the views above no
-- longer read them (no CASCADE: anything else still reading one stops the upgrade instead of
-- vanishing with it).
DROP TABLE IF EXISTS features.customer_features_unpartitioned;
DROP TABLE IF EXISTS features.customer_features_staged_unpartitioned;
DROP TABLE IF EXISTS scoring.churn_scores_unpartitioned;
DROP TABLE IF EXISTS scoring.churn_scores_staged_unpartitioned;
