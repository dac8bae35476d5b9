-- raw.money partition :snapshot_date from the checked landing table ("0,98", "0.98" and "5" alike).
INSERT INTO raw.money
SELECT
    :snapshot_date,
    btrim(customer_id)::bigint,
    replace(btrim(profit), ',', '.')::double precision,
    :source_dir || '/money.csv',
    now()
FROM load_money
ORDER BY line_no;
