"""The BI interface: mart views over the published scores and the read-only role churn_bi_reader."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import rows
from tests.integration.scoring_chain import SNAPSHOT
from tests.integration.scoring_chain import _chain_warehouse, chain, engine  # noqa: F401 (fixtures)

READER = "churn_bi_reader"


def test_churn_scores_latest_is_the_newest_score_per_customer(chain, engine):
    latest = rows(engine, "SELECT * FROM mart.churn_scores_latest ORDER BY customer_id")
    newest = {r["customer_id"]: r["score_date"] for r in rows(
        engine, "SELECT customer_id, max(score_date) AS score_date FROM scoring.churn_scores GROUP BY customer_id")}
    assert len(latest) == len(newest) >= 1297
    assert all(r["score_date"] == newest[r["customer_id"]] for r in latest)
    for row in latest:
        assert row["profit_at_risk"] == pytest.approx(row["churn_probability"] * row["profit"])
        assert row["top_factors"] == ("; ".join(f["text"] for f in row["top_factors_detail"]) or None)
        assert row["segment_title"] and row["segment_precedence"] >= 1
    contract = {"churn_probability", "risk_band", "segment", "offer", "profit", "model_version", "top_factors"}
    assert contract <= set(latest[0])


def test_churn_scores_latest_prefers_a_newer_date(chain, engine):
    """A newer score of one customer replaces the older one in the view (inside a rolled-back transaction)."""
    with engine.connect() as conn, conn.begin() as tx:
        [customer] = conn.execute(sa.text(
            "SELECT customer_id FROM scoring.churn_scores WHERE score_date = :d ORDER BY customer_id LIMIT 1"),
            {"d": SNAPSHOT}).scalars().all()
        conn.execute(sa.text("SELECT ops.replace_partition('scoring.churn_scores', DATE '2099-01-01')"))
        conn.execute(sa.text(
            "INSERT INTO scoring.churn_scores "
            "SELECT DATE '2099-01-01', customer_id, model_version, 0.123, 'low', segment, offer, top_factors, "
            "profit, rules_version, scored_at FROM scoring.churn_scores WHERE score_date = :d AND customer_id = :c"),
            {"d": SNAPSHOT, "c": customer})
        row = conn.execute(sa.text("SELECT * FROM mart.churn_scores_latest WHERE customer_id = :c"), {"c": customer}).mappings().one()
        assert str(row["score_date"]) == "2099-01-01" and row["churn_probability"] == 0.123
        tx.rollback()


def test_segment_summary_aggregates_the_latest_scores(chain, engine):
    import pandas as pd

    latest = pd.DataFrame(rows(engine, "SELECT * FROM mart.churn_scores_latest"))
    summary = pd.DataFrame(rows(engine, "SELECT * FROM mart.segment_summary ORDER BY segment_precedence")).set_index("segment")
    grouped = latest.groupby("segment").agg(
        customers=("customer_id", "size"),
        mean_churn_probability=("churn_probability", "mean"),
        profit_at_risk=("profit_at_risk", "sum"),
        total_profit=("profit", "sum"),
    )
    assert set(summary.index) == set(grouped.index)
    for segment, expected in grouped.iterrows():
        assert summary.loc[segment, "customers"] == expected["customers"]
        assert summary.loc[segment, "mean_churn_probability"] == pytest.approx(expected["mean_churn_probability"])
        assert summary.loc[segment, "profit_at_risk"] == pytest.approx(expected["profit_at_risk"])
        assert summary.loc[segment, "total_profit"] == pytest.approx(expected["total_profit"])
    assert summary["share_of_customers"].sum() == pytest.approx(1.0)
    assert list(summary.index) == list(summary.sort_values("segment_precedence").index)
    assert (summary["customers"] > 0).all()


def test_model_drift_view_shows_the_psi_rows(chain, engine):
    drift = rows(engine, "SELECT * FROM mart.model_drift WHERE score_date = :d", d=SNAPSHOT)
    stored = rows(engine, "SELECT variable, psi FROM scoring.drift_psi WHERE score_date = :d", d=SNAPSHOT)
    assert {(r["variable"], r["psi"]) for r in drift} == {(r["variable"], r["psi"]) for r in stored}
    assert len(drift) == 18


def test_every_mart_view_and_column_is_documented(chain, engine):
    undocumented = rows(
        engine,
        "SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = 'mart' AND c.relkind = 'v' AND col_description(c.oid, a.attnum) IS NULL",
    )
    assert undocumented == []
    views = rows(engine, "SELECT c.relname, obj_description(c.oid, 'pg_class') AS doc FROM pg_class c "
                         "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'mart' AND c.relkind = 'v'")
    assert {v["relname"] for v in views} >= {"churn_scores_latest", "segment_summary", "model_drift"}
    assert all(v["doc"] for v in views)


def _as_reader(engine: sa.Engine, statement: str):
    """Run one statement as churn_bi_reader in a transaction that is always rolled back."""
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            conn.execute(sa.text(f"SET LOCAL ROLE {READER}"))
            result = conn.execute(sa.text(statement))
            return result.fetchall() if result.returns_rows else result.rowcount
        finally:
            tx.rollback()


def test_reader_role_can_select_from_mart(chain, engine):
    assert len(_as_reader(engine, "SELECT * FROM mart.churn_scores_latest")) >= 1297
    assert len(_as_reader(engine, "SELECT * FROM mart.segment_summary")) >= 1
    assert len(_as_reader(engine, "SELECT * FROM mart.model_drift")) >= 18
    [role] = rows(engine, "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r", r=READER)
    assert role == {"rolcanlogin": False, "rolsuper": False, "rolcreaterole": False, "rolcreatedb": False}


@pytest.mark.parametrize("statement", [
    "SELECT * FROM raw.market_file LIMIT 1",
    "SELECT * FROM staging.customers LIMIT 1",
    "SELECT * FROM features.customer_features LIMIT 1",
    "SELECT * FROM ml.model_registry LIMIT 1",
    "SELECT * FROM scoring.churn_scores LIMIT 1",
    "SELECT * FROM dq.validation_runs LIMIT 1",
    # mart.model_drift is a simple (auto-updatable) view: only the missing privilege stops these
    "INSERT INTO mart.model_drift (score_date, variable) VALUES (DATE '2000-01-01', 'x')",
    "UPDATE mart.model_drift SET psi = 0",
    "DELETE FROM mart.model_drift",
    "TRUNCATE scoring.drift_psi",
    "INSERT INTO scoring.churn_scores (score_date, customer_id) VALUES (DATE '2000-01-01', 1)",
    "CREATE VIEW mart.intruder AS SELECT 1 AS x",
    "DROP VIEW mart.segment_summary",
])
def test_reader_role_cannot_write_or_read_outside_mart(chain, engine, statement):
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be owner"):
        _as_reader(engine, statement)


def test_reader_role_holds_select_only_on_mart(chain, engine):
    privileges = rows(
        engine,
        "SELECT n.nspname AS schema, c.relname AS name, p.privilege "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p(privilege) "
        "WHERE n.nspname IN ('raw', 'staging', 'features', 'ml', 'scoring', 'mart', 'dq') AND c.relkind IN ('r', 'p', 'v', 'm') "
        "  AND has_table_privilege(:r, c.oid, p.privilege)",
        r=READER,
    )
    granted = {(p["schema"], p["name"], p["privilege"]) for p in privileges}
    views = {r["relname"] for r in rows(engine, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                                "WHERE n.nspname = 'mart' AND c.relkind = 'v'")}
    assert granted == {("mart", view, "SELECT") for view in views}
    schemas = rows(engine, "SELECT nspname, has_schema_privilege(:r, nspname, 'USAGE') AS usage, "
                           "has_schema_privilege(:r, nspname, 'CREATE') AS create FROM pg_namespace "
                           "WHERE nspname IN ('raw', 'staging', 'features', 'ml', 'scoring', 'mart', 'dq')", r=READER)
    assert {s["nspname"]: (s["usage"], s["create"]) for s in schemas} == {
        name: (name == "mart", False) for name in ("raw", "staging", "features", "ml", "scoring", "mart", "dq")}


def test_role_setup_is_idempotent(chain, engine):
    from etl.warehouse import db

    db.ensure_schema(engine)  # re-runs 070: role exists already, grants repeat
    db.ensure_schema(engine)
    assert len(_as_reader(engine, "SELECT * FROM mart.segment_summary")) >= 1
