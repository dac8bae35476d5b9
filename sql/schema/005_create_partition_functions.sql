-- Partitions by date, for every table partitioned BY LIST on one date column (raw.*, scoring.*):
-- one naming rule, one way to replace a date and to analyse it.

-- The qualified, quoted name of a parent table's partition for one date
-- (raw.market_money, 2026-11-24 → raw.market_money_p20261124). Identifiers are quoted by
-- format(%I), so a partition name never comes from input text.
CREATE OR REPLACE FUNCTION ops.partition_name(parent regclass, day date)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('%I.%I', n.nspname, c.relname || '_p' || to_char(day, 'YYYYMMDD'))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = parent;
$$;

-- Create the date's partition if needed and empty it (inside the caller's transaction).
CREATE OR REPLACE FUNCTION ops.replace_partition(parent regclass, day date)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES IN (%L)',
                   ops.partition_name(parent, day), parent, day);
    EXECUTE format('TRUNCATE %s', ops.partition_name(parent, day));
END;
$$;

-- ANALYZE one date's partition (the parent's ANALYZE would sample every date).
CREATE OR REPLACE FUNCTION ops.analyze_partition(parent regclass, day date)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass(ops.partition_name(parent, day)) IS NOT NULL THEN
        EXECUTE format('ANALYZE %s', ops.partition_name(parent, day));
    END IF;
END;
$$;
