-- The NOLOGIN role churn_bi_reader may select from mart and nothing else.
-- Give a BI login the role: CREATE ROLE <bi_user> LOGIN PASSWORD '…' IN ROLE churn_bi_reader;
-- The read-only BI role. Roles are cluster-wide: create it once (several warehouse or test
-- databases may share a server and run this concurrently); grants are per database.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'churn_bi_reader') THEN
        BEGIN
            CREATE ROLE churn_bi_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by another session
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA mart TO churn_bi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mart TO churn_bi_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT ON TABLES TO churn_bi_reader;
