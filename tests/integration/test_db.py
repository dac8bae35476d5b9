"""etl/warehouse/db.py: ensure_schema upgrades a warehouse in place and can run any number of times."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from etl.warehouse import db, server

RENAMED = {  # old name → new name of the write-audit-publish staging tables
    "features.customer_features_candidate": "features.customer_features_staged",
    "scoring.churn_scores_pending": "scoring.churn_scores_staged",
}


@pytest.fixture()
def scratch_engine(warehouse_url):
    url = server.create_database(f"churn_test_schema_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    yield engine
    engine.dispose()
    server.drop_database(url)


def test_a_warehouse_built_before_the_staged_names_keeps_its_rows(scratch_engine):
    db.ensure_schema(scratch_engine)
    with scratch_engine.begin() as conn:  # put the warehouse back into its old shape, with a row each
        for old, new in RENAMED.items():
            conn.execute(sa.text(f"ALTER TABLE {new} RENAME TO {old.split('.')[1]}"))
        conn.execute(sa.text("ALTER INDEX scoring.churn_scores_staged_date_idx RENAME TO churn_scores_pending_date_idx"))
        conn.execute(sa.text(
            "INSERT INTO scoring.churn_scores_pending (score_date, customer_id, model_version, rules_version) "
            "VALUES ('2026-11-30', 1, 'm', 'r')"))
    db.ensure_schema(scratch_engine)
    db.ensure_schema(scratch_engine)  # and again: nothing left to rename
    with scratch_engine.connect() as conn:
        tables = {f"{s}.{t}" for s, t in conn.execute(sa.text(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('features', 'scoring')"))}
        kept = conn.execute(sa.text("SELECT count(*) FROM scoring.churn_scores_staged")).scalar()
        index = conn.execute(sa.text("SELECT to_regclass('scoring.churn_scores_staged_date_idx')")).scalar()
    assert set(RENAMED.values()) <= tables and not set(RENAMED) & tables
    assert kept == 1 and index is not None


REBUILT = ("staging.customers", "staging.revenue", "staging.minutes", "staging.profit")


def test_rebuilt_layers_are_unlogged_and_older_warehouses_are_converted_with_their_rows(scratch_engine):
    """Staging is rebuilt from raw by every run: no WAL for it (config/warehouse.conf). The staged
    features and scores stay logged: a gated batch must survive a server crash until published."""
    db.ensure_schema(scratch_engine)
    with scratch_engine.begin() as conn:  # a warehouse from before: logged tables with a row
        for table in REBUILT:
            conn.execute(sa.text(f"ALTER TABLE {table} SET LOGGED"))
        conn.execute(sa.text("INSERT INTO staging.profit VALUES ('2026-11-30', 1, 2.5)"))
    db.ensure_schema(scratch_engine)
    with scratch_engine.connect() as conn:
        persistence = dict(conn.execute(sa.text(
            "SELECT n.nspname || '.' || c.relname, c.relpersistence FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
            "AND n.nspname IN ('staging', 'features', 'scoring', 'raw')")).all())
        kept = conn.execute(sa.text("SELECT profit FROM staging.profit")).scalar()
    assert {table: persistence[table] for table in REBUILT} == {table: "u" for table in REBUILT}
    assert {persistence[t] for t in ("features.customer_features", "features.customer_features_staged",
                                      "scoring.churn_scores", "scoring.churn_scores_staged")} == {"p"}
    assert kept == 2.5
