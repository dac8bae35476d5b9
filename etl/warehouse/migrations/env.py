"""Alembic's environment for the warehouse's schema revisions.

Run only through etl.warehouse.db.migrate (`churn migrate`, `make run`, `make airflow`), which
hands over its connection in `config.attributes`: every revision then runs inside migrate's one
transaction, under its advisory lock, and the version table is ops.alembic_version. There is no
alembic.ini and no offline (--sql) mode.
"""

from __future__ import annotations

from alembic import context

from etl.warehouse import db

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("schema revisions run through etl.warehouse.db.migrate: use `churn migrate`")

context.configure(connection=connection, version_table_schema=db.VERSION_TABLE_SCHEMA)
with context.begin_transaction():
    context.run_migrations()
