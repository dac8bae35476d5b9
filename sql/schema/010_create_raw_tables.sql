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

-- Partitions are named, replaced and analysed by ops.partition_name / ops.replace_partition /
-- ops.analyze_partition (sql/schema/005_create_partition_functions.sql).
