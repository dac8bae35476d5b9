-- BI logins (`churn bi-login`, etl/warehouse/access.py): a LOGIN role in the read-only BI role,
-- read-only by default and with mart on its search path. Runs as the caller (the writer, which
-- has CREATEROLE and ADMIN on the BI role); a role of that name that is not a BI login is
-- refused, so the command can never hand out another role's rights or change its password.
CREATE OR REPLACE FUNCTION ops.upsert_bi_login(login text, verifier text, bi_role text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    created boolean := NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login);
BEGIN
    IF created THEN
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', login, verifier, bi_role);
    ELSIF NOT EXISTS (
        SELECT 1 FROM pg_auth_members
        WHERE member = login::regrole AND roleid = bi_role::regrole
    ) OR (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = login) THEN
        RAISE EXCEPTION 'role % exists and is not a BI login (member of % only): pick another name', login, bi_role;
    ELSE
        EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', login, verifier);
    END IF;
    EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', login);
    EXECUTE format('ALTER ROLE %I SET search_path = mart', login);
    RETURN created;
END
$$;
