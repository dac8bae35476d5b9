-- raw: the four exports as delivered (values untouched, typos kept), typed, one LIST partition
-- per snapshot_date. Column names are English; the CSV header each comes from is in etl/warehouse/sources.py.
CREATE TABLE IF NOT EXISTS raw.market_file (
    snapshot_date               date        NOT NULL,
    customer_id                 bigint      NOT NULL,
    activity                    text,        -- «Покупательская активность»; NULL when not labelled
    service_type                text        NOT NULL,
    allow_messages              text        NOT NULL,
    marketing_6m                double precision NOT NULL,
    marketing_current_month     integer     NOT NULL,
    tenure_days                 integer     NOT NULL,
    promo_share                 double precision NOT NULL,
    popular_category            text        NOT NULL,
    avg_categories_per_visit    integer     NOT NULL,
    unpaid_items_quarter        integer     NOT NULL,
    service_errors              integer     NOT NULL,
    pages_per_visit             integer     NOT NULL,
    source_file                 text        NOT NULL,
    loaded_at                   timestamptz NOT NULL
) PARTITION BY LIST (snapshot_date);

CREATE TABLE IF NOT EXISTS raw.market_money (
    snapshot_date   date             NOT NULL,
    customer_id     bigint           NOT NULL,
    period          text             NOT NULL,
    revenue         double precision NOT NULL,
    source_file     text             NOT NULL,
    loaded_at       timestamptz      NOT NULL
) PARTITION BY LIST (snapshot_date);

CREATE TABLE IF NOT EXISTS raw.market_time (
    snapshot_date   date        NOT NULL,
    customer_id     bigint      NOT NULL,
    period          text        NOT NULL,
    minutes         integer     NOT NULL,
    source_file     text        NOT NULL,
    loaded_at       timestamptz NOT NULL
) PARTITION BY LIST (snapshot_date);

CREATE TABLE IF NOT EXISTS raw.money (
    snapshot_date   date             NOT NULL,
    customer_id     bigint           NOT NULL,
    profit          double precision NOT NULL,
    source_file     text             NOT NULL,
    loaded_at       timestamptz      NOT NULL
) PARTITION BY LIST (snapshot_date);

-- The qualified, quoted name of a parent table's partition for one snapshot
-- (raw.market_money, 2026-11-24 → raw.market_money_p20261124). Identifiers are quoted by
-- format(%I), so a partition name never comes from input text.
CREATE OR REPLACE FUNCTION raw.partition_name(parent regclass, snapshot date)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('%I.%I', n.nspname, c.relname || '_p' || to_char(snapshot, 'YYYYMMDD'))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = parent;
$$;

-- Create the snapshot's partition if needed and empty it (inside the load transaction).
CREATE OR REPLACE FUNCTION raw.replace_partition(parent regclass, snapshot date)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES IN (%L)',
                   raw.partition_name(parent, snapshot), parent, snapshot);
    EXECUTE format('TRUNCATE %s', raw.partition_name(parent, snapshot));
END;
$$;

-- ANALYZE one snapshot's partition (the parent's ANALYZE would sample every snapshot).
CREATE OR REPLACE FUNCTION raw.analyze_partition(parent regclass, snapshot date)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ANALYZE %s', raw.partition_name(parent, snapshot));
END;
$$;
