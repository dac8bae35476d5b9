-- The NOLOGIN role churn_bi_reader may select from mart and nothing else; BI logins are its
-- members, made by `churn bi-login` (ops.upsert_bi_login, sql/schema/070).
-- The read-only BI role. Roles are cluster-wide: create it once (several warehouse or test
-- databases may share a server and run this concurrently); grants are per database. On the
-- embedded server and in the compose stack the superuser made it already (sql/access).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'churn_bi_reader') THEN
        BEGIN
            CREATE ROLE churn_bi_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by another session
        END;
    END IF;
    -- May connect to this database; nothing in schema public (PUBLIC keeps no rights there).
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO churn_bi_reader', current_database());
    IF (SELECT nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
            OR pg_has_role(nspowner, 'USAGE') FROM pg_namespace WHERE nspname = 'public') THEN
        REVOKE ALL ON SCHEMA public FROM PUBLIC;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA mart TO churn_bi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mart TO churn_bi_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT ON TABLES TO churn_bi_reader;
