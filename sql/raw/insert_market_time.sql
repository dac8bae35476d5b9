-- raw.market_time partition :snapshot_date from the checked landing table.
INSERT INTO raw.market_time
SELECT
    :snapshot_date,
    btrim(customer_id)::bigint,
    btrim(period),
    btrim(minutes)::integer,
    :source_dir || '/market_time.csv',
    now()
FROM load_market_time
ORDER BY line_no;
