-- Warehouses built before scores were partitioned: the emptied plain tables that
-- sql/schema/060_create_scoring_tables.sql set aside, dropped once the views above no longer read
-- them (no CASCADE: anything else still reading them stops the upgrade instead of vanishing).
DROP TABLE IF EXISTS scoring.churn_scores_unpartitioned;
DROP TABLE IF EXISTS scoring.churn_scores_staged_unpartitioned;
