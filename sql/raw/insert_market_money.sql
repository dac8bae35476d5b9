-- raw.market_money partition :snapshot_date from the checked landing table.
INSERT INTO raw.market_money
SELECT
    :snapshot_date,
    btrim(customer_id)::bigint,
    btrim(period),
    replace(btrim(revenue), ',', '.')::double precision,
    :source_dir || '/market_money.csv',
    now()
FROM load_market_money
ORDER BY line_no;
