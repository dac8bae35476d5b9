"""etl/warehouse/db.py: what `migrate` builds on an empty database (schema revisions: test_migrations.py)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from etl.warehouse import db, server


@pytest.fixture()
def scratch_engine(warehouse_url):
    url = server.create_database(f"churn_test_schema_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    yield engine
    engine.dispose()
    server.drop_database(url)


REBUILT = ("staging.customers", "staging.revenue", "staging.minutes", "staging.profit")


def test_rebuilt_layers_are_unlogged_and_staged_batches_are_logged(scratch_engine):
    """Staging is rebuilt from raw by every run: no WAL for it (config/warehouse.conf). The staged
    features and scores stay logged: a gated batch must survive a server crash until published."""
    db.migrate(scratch_engine)
    with scratch_engine.connect() as conn:
        persistence = dict(
            conn.execute(
                sa.text(
                    "SELECT n.nspname || '.' || c.relname, c.relpersistence FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
                    "AND n.nspname IN ('staging', 'features', 'scoring', 'raw')"
                )
            ).all()
        )
    assert {table: persistence[table] for table in REBUILT} == {table: "u" for table in REBUILT}
    with scratch_engine.begin() as conn:  # staged and published partitions are logged tables
        conn.execute(sa.text("SELECT ops.replace_partition('features.customer_features_staged', '2026-11-30')"))
        conn.execute(sa.text("SELECT ops.replace_partition('scoring.churn_scores_staged', '2026-11-30')"))
        staged = (
            conn.execute(
                sa.text(
                    "SELECT relpersistence FROM pg_class WHERE relname IN "
                    "('customer_features_staged_p20261130', 'churn_scores_staged_p20261130')"
                )
            )
            .scalars()
            .all()
        )
    assert staged == ["p", "p"]
