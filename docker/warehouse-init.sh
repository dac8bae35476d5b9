#!/bin/bash
# Runs once, when the warehouse volume is first initialised (docker-entrypoint-initdb.d), after
# 10-create-roles.sql made churn_writer and churn_bi_reader: the writer gets its password and
# owns database churn; only the job's roles may connect to it.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v writer_password="$CHURN_WRITER_PASSWORD" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
ALTER ROLE churn_writer WITH PASSWORD :'writer_password';
ALTER DATABASE churn OWNER TO churn_writer;
ALTER SCHEMA public OWNER TO churn_writer;
REVOKE CONNECT, TEMPORARY ON DATABASE churn FROM PUBLIC;
GRANT CONNECT ON DATABASE churn TO churn_bi_reader;
SQL
