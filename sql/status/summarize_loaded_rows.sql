-- Raw rows of :snapshot_date per file (for the run summary).
SELECT
    (SELECT count(*) FROM raw.market_file WHERE snapshot_date = :snapshot_date) AS market_file,
    (SELECT count(*) FROM raw.market_money WHERE snapshot_date = :snapshot_date) AS market_money,
    (SELECT count(*) FROM raw.market_time WHERE snapshot_date = :snapshot_date) AS market_time,
    (SELECT count(*) FROM raw.money WHERE snapshot_date = :snapshot_date) AS money;
