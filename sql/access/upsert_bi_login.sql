-- A BI login in the read-only role, or a new password for one (ops.upsert_bi_login, sql/schema/070);
-- true when the login is new. :verifier is a SCRAM-SHA-256 verifier, never the password.
SELECT ops.upsert_bi_login(:login, :verifier, :bi_role) AS created;
