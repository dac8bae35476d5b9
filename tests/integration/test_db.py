"""etl/warehouse/db.py: ensure_schema upgrades a warehouse in place and can run any number of times."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from etl.warehouse import db, server

OLD_FEATURE_TABLES = """
CREATE TABLE features.old_shape AS SELECT * FROM features.customer_features WITH NO DATA;
DROP TABLE features.customer_features, features.customer_features_staged CASCADE;
ALTER TABLE features.old_shape RENAME TO customer_features;
ALTER TABLE features.customer_features ADD PRIMARY KEY (snapshot_date, customer_id);
CREATE TABLE features.customer_features_candidate (LIKE features.customer_features INCLUDING ALL);
INSERT INTO features.customer_features VALUES ('2026-11-30', 1, 0, 'стандарт', true, 4.4, 4, 500, 0.2,
    'Домашний текстиль', 3, 1, 2, 6, 5000, 5100, 5200, false, 12, 13, 4.1, true);
INSERT INTO features.customer_features_candidate SELECT * FROM features.customer_features;
"""
OLD_SCORE_TABLES = """
CREATE TABLE scoring.churn_scores_pending (
    score_date date NOT NULL, customer_id bigint NOT NULL, model_version text NOT NULL,
    churn_probability double precision, risk_band text, segment text, offer text, top_factors jsonb,
    profit double precision, rules_version text NOT NULL, scored_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX churn_scores_pending_date_idx ON scoring.churn_scores_pending (score_date);
CREATE TABLE scoring.churn_scores (
    score_date date NOT NULL, customer_id bigint NOT NULL,
    model_version text NOT NULL REFERENCES ml.model_registry (model_version),
    churn_probability double precision NOT NULL CHECK (churn_probability BETWEEN 0 AND 1),
    risk_band text NOT NULL CHECK (risk_band IN ('high', 'medium', 'low')), segment text NOT NULL,
    offer text NOT NULL, top_factors jsonb NOT NULL CHECK (jsonb_typeof(top_factors) = 'array'),
    profit double precision NOT NULL, rules_version text NOT NULL, scored_at timestamptz NOT NULL,
    PRIMARY KEY (score_date, customer_id));
CREATE INDEX churn_scores_customer_idx ON scoring.churn_scores (customer_id, score_date DESC);
INSERT INTO ml.model_registry (model_version, status, training_snapshot, training_rows, algorithm, estimator,
    parameters, features, metrics, cv_roc_auc_mean, cv_roc_auc_std, brier_score, threshold, decision, reference,
    artifact_path, artifact_sha256, library_versions, model_card_path, run_key)
VALUES ('m', 'champion', '2026-11-01', 1, 'logreg', 'LogisticRegression', '{}', '[]', '{}', 0.9, 0.01, 0.1, 0.5,
    '{}', '{}', 'a', repeat('0', 64), '{}', 'c', 'k');
INSERT INTO scoring.churn_scores_pending (score_date, customer_id, model_version, rules_version)
VALUES ('2026-11-30', 1, 'm', 'r');
INSERT INTO scoring.churn_scores VALUES
    ('2026-11-29', 1, 'm', 0.7, 'high', 's', 'o', '[]', 10, 'r', now()),
    ('2026-11-30', 1, 'm', 0.6, 'high', 's', 'o', '[]', 10, 'r', now());
"""


@pytest.fixture()
def scratch_engine(warehouse_url):
    url = server.create_database(f"churn_test_schema_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    yield engine
    engine.dispose()
    server.drop_database(url)


def test_a_warehouse_with_plain_tables_under_old_names_gets_partitions_with_its_rows(scratch_engine):
    """Older warehouses had the staged features and scores under other names (`…_candidate`,
    `…_pending`) and all four tables unpartitioned: an upgrade moves every row into date
    partitions and the views read them."""
    db.ensure_schema(scratch_engine)
    with scratch_engine.begin() as conn:  # put the warehouse back into its old shape
        conn.execute(sa.text("DROP TABLE scoring.churn_scores, scoring.churn_scores_staged CASCADE"))
        conn.exec_driver_sql(OLD_FEATURE_TABLES)
        conn.exec_driver_sql(OLD_SCORE_TABLES)
    db.ensure_schema(scratch_engine)
    db.ensure_schema(scratch_engine)  # and again: nothing left to convert
    with scratch_engine.connect() as conn:
        kinds = dict(conn.execute(sa.text(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'scoring' AND c.relname LIKE 'churn_scores%' AND c.relkind IN ('r', 'p')")).all())
        staged = conn.execute(sa.text("SELECT customer_id FROM scoring.churn_scores_staged_p20261130")).scalars().all()
        published = conn.execute(sa.text(
            "SELECT tableoid::regclass::text, churn_probability FROM scoring.churn_scores ORDER BY 1")).all()
        groups = conn.execute(sa.text("SELECT DISTINCT offer_group FROM scoring.churn_scores")).scalars().all()
        latest = conn.execute(sa.text("SELECT score_date, churn_probability FROM mart.churn_scores_latest")).one()
        features = conn.execute(sa.text(
            "SELECT tableoid::regclass::text, customer_id FROM features.customer_features UNION ALL "
            "SELECT tableoid::regclass::text, customer_id FROM features.customer_features_staged")).all()
        model_input = conn.execute(sa.text("SELECT count(*) FROM features.model_input")).scalar()
        left = conn.execute(sa.text("SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_unpartitioned%'")).scalar()
    assert features == [("features.customer_features_p20261130", 1), ("features.customer_features_staged_p20261130", 1)]
    assert model_input == 1 and left == 0
    assert kinds == {"churn_scores": "p", "churn_scores_staged": "p", "churn_scores_p20261129": "r",
                     "churn_scores_p20261130": "r", "churn_scores_staged_p20261130": "r"}
    assert staged == [1]
    assert published == [("scoring.churn_scores_p20261129", 0.7), ("scoring.churn_scores_p20261130", 0.6)]
    assert groups == ["treatment"]  # scored before the experiment: every customer was offered
    assert str(latest.score_date) == "2026-11-30" and latest.churn_probability == 0.6


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
    with scratch_engine.begin() as conn:  # staged and published partitions are logged tables
        conn.execute(sa.text("SELECT ops.replace_partition('features.customer_features_staged', '2026-11-30')"))
        conn.execute(sa.text("SELECT ops.replace_partition('scoring.churn_scores_staged', '2026-11-30')"))
        staged = conn.execute(sa.text(
            "SELECT relpersistence FROM pg_class WHERE relname IN "
            "('customer_features_staged_p20261130', 'churn_scores_staged_p20261130')")).scalars().all()
    assert staged == ["p", "p"]
    assert kept == 2.5
