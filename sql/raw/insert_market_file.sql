-- raw.market_file partition :snapshot_date from the checked landing table.
INSERT INTO raw.market_file
SELECT
    :snapshot_date,
    btrim(customer_id)::bigint,
    nullif(btrim(activity), ''),
    btrim(service_type),
    btrim(allow_messages),
    replace(btrim(marketing_6m), ',', '.')::double precision,
    btrim(marketing_current_month)::integer,
    btrim(tenure_days)::integer,
    replace(btrim(promo_share), ',', '.')::double precision,
    btrim(popular_category),
    btrim(avg_categories_per_visit)::integer,
    btrim(unpaid_items_quarter)::integer,
    btrim(service_errors)::integer,
    btrim(pages_per_visit)::integer,
    :source_dir || '/market_file.csv',
    now()
FROM load_market_file
ORDER BY line_no;
