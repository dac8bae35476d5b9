-- The job's roles on the embedded server, run by its superuser at start (etl/warehouse/access.py):
-- the pipeline's writer (not a superuser; may create BI logins, and databases for tests, the
-- benchmark and Airflow's metadata) and the read-only BI role.
-- Roles are cluster-wide and several test processes may start the server at once: each CREATE
-- tolerates one made meanwhile.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'churn_writer') THEN
        BEGIN
            CREATE ROLE churn_writer LOGIN NOSUPERUSER CREATEDB CREATEROLE;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'churn_bi_reader') THEN
        BEGIN
            CREATE ROLE churn_bi_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_auth_members
        WHERE roleid = 'churn_bi_reader'::regrole AND member = 'churn_writer'::regrole AND admin_option
    ) THEN
        GRANT churn_bi_reader TO churn_writer WITH ADMIN OPTION;
    END IF;
END
$$;
