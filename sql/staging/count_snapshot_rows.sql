-- Row counts of the staging tables for :snapshot_date (logged by the DAG).
SELECT
    (SELECT count(*) FROM staging.customers WHERE snapshot_date = :snapshot_date) AS customers,
    (SELECT count(*) FROM staging.revenue WHERE snapshot_date = :snapshot_date) AS revenue,
    (SELECT count(*) FROM staging.revenue WHERE snapshot_date = :snapshot_date AND is_outlier) AS revenue_outliers_fixed,
    (SELECT count(*) FROM staging.minutes WHERE snapshot_date = :snapshot_date) AS minutes,
    (SELECT count(*) FROM staging.profit WHERE snapshot_date = :snapshot_date) AS profit;
