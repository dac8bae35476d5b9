-- A warehouse built before the writer role existed (the job ran as the superuser in database
-- `postgres`, renamed to churn by etl/warehouse/server.py): the writer takes over the database,
-- the job's schemas and everything in them, so the pipeline needs no superuser. Run by the
-- superuser inside that database; idempotent.
DO $$
DECLARE
    item record;
BEGIN
    EXECUTE format('ALTER DATABASE %I OWNER TO churn_writer', current_database());
    FOR item IN
        SELECT n.nspname FROM pg_namespace AS n
        WHERE n.nspname IN ('raw', 'staging', 'features', 'ml', 'scoring', 'mart', 'dq', 'ops', 'public')
    LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO churn_writer', item.nspname);
    END LOOP;
    FOR item IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind
        FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('raw', 'staging', 'features', 'ml', 'scoring', 'mart', 'dq', 'ops')
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND c.relowner <> 'churn_writer'::regrole
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO churn_writer', item.kind, item.name);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name
        FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('raw', 'staging', 'features', 'ml', 'scoring', 'mart', 'dq', 'ops')
          AND p.proowner <> 'churn_writer'::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO churn_writer', item.name);
    END LOOP;
END
$$;
