-- staging.profit for :snapshot_date — average monthly profit over the last 3 months.
DELETE FROM staging.profit WHERE snapshot_date = :snapshot_date;

INSERT INTO staging.profit (snapshot_date, customer_id, profit)
SELECT snapshot_date, customer_id, profit
FROM raw.money
WHERE snapshot_date = :snapshot_date;
