-- What migrate needs to know of a warehouse without a schema revision (no ops.alembic_version):
-- how many schemas of ours exist (none: an empty database, built from sql/schema + sql/mart), and
-- which marks of the baseline layout (main at d986e9a, revision 0001) it lacks. That code's
-- ensure_schema brought every warehouse it touched to the baseline, so a missing mark means an
-- older checkout built it and no revision starts from there.
WITH marks (mark, present) AS (
    SELECT 'partitioned ' || name, EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(name))
    FROM unnest(ARRAY['raw.market_file', 'features.customer_features', 'features.customer_features_staged',
                      'scoring.churn_scores', 'scoring.churn_scores_staged']) AS name
    UNION ALL
    SELECT 'column ' || table_name || '.' || column_name, EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = to_regclass(table_name) AND attname = column_name AND NOT attisdropped)
    FROM (VALUES ('scoring.churn_scores', 'offer_group'), ('scoring.churn_scores', 'profit_at_risk'),
                 ('ops.staged_batches', 'last_published_at'), ('ml.model_registry', 'status_reason'))
        AS columns (table_name, column_name)
    UNION ALL
    SELECT 'relation ' || name, to_regclass(name) IS NOT NULL
    FROM unnest(ARRAY['scoring.absent_from_newest', 'outcomes.offer_effects', 'outcomes.score_dates',
                      'mart.offer_effects', 'mart.realized_performance']) AS name
)
SELECT
    (SELECT count(*) FROM pg_namespace
     WHERE nspname IN ('raw', 'staging', 'features', 'ml', 'scoring', 'mart', 'dq', 'ops', 'outcomes')) AS our_schemas,
    coalesce(array_agg(mark ORDER BY mark) FILTER (WHERE NOT present), ARRAY[]::text[]) AS missing_marks
FROM marks;
