-- Partitions by date, for every table partitioned BY LIST on one date column (raw.*, the staged
-- and published features and scores): one naming rule, one way to replace, analyse and publish a
-- date. Loads call them to create a date's partitions: data lifecycle, not a schema change.

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

-- Write-audit-publish by partition (features and scores): move the gated staged partition of
-- `day` from `staged` to `published` in place of the date's old partition. The published table's
-- NOT NULLs and checks are added first (read from the catalogue, so stated once, in one scan that
-- also proves the partition bound); a row they refuse fails the move and changes nothing. The
-- rows are not copied; indexes the partition lacks are built once, by ATTACH. Readers of
-- `published` wait only when a date is replaced. The caller holds the layer's lock; returns the
-- rows published.
CREATE OR REPLACE FUNCTION ops.publish_partition(staged regclass, published regclass, day date)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    source text := ops.partition_name(staged, day);
    target text := ops.partition_name(published, day);
    target_name text := (SELECT relname FROM pg_class WHERE oid = published) || '_p' || to_char(day, 'YYYYMMDD');
    bound text := target_name || '_bound';
    key text := (SELECT a.attname FROM pg_partitioned_table p
                 JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
                 WHERE p.partrelid = published);
    rules text;
    moved bigint;
BEGIN
    IF to_regclass(source) IS NULL THEN
        RAISE EXCEPTION 'nothing staged in % for %', staged, day;
    END IF;
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', staged, source);
    SELECT string_agg(rule, ', ') INTO rules FROM (
        SELECT format('ALTER COLUMN %I SET NOT NULL', attname) AS rule
        FROM pg_attribute WHERE attrelid = published AND attnum > 0 AND NOT attisdropped AND attnotnull
        UNION ALL
        SELECT format('ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid))
        FROM pg_constraint WHERE conrelid = published AND contype = 'c'
        UNION ALL
        SELECT format('ADD CONSTRAINT %I CHECK (%I = %L::date)', bound, key, day)
    ) AS needed;
    EXECUTE format('ALTER TABLE %s %s', source, rules);
    EXECUTE format('DROP TABLE IF EXISTS %s', target);
    EXECUTE format('ALTER TABLE %s RENAME TO %I', source, target_name);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%L)', published, target, day);
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', target, bound);
    EXECUTE format('SELECT count(*) FROM %s', target) INTO moved;
    RETURN moved;
END;
$$;
