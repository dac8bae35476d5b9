"""The BI interface: mart views over the published scores and the read-only role churn_bi_reader."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from tests.helpers import rows
from tests.integration.scoring_chain import SNAPSHOT, _chain_warehouse, chain, engine  # noqa: F401 (fixtures)

READER = "churn_bi_reader"
# What a number's comment names: its unit or scale.
UNIT = re.compile(r"money unit|\(count\)|0\.\.1|0\.\.100|unitless|1 first|as in the store|decimals")


def test_churn_scores_latest_is_the_newest_score_per_customer(chain, engine):
    from ml import segments

    rules = segments.load_rules()
    latest = rows(engine, "SELECT * FROM mart.churn_scores_latest ORDER BY customer_id")
    stored = {
        r["customer_id"]: r
        for r in rows(engine, "SELECT * FROM scoring.churn_scores WHERE score_date = :d", d=SNAPSHOT)
    }
    assert len(latest) == len(stored) >= 1297
    for row in latest:
        source = stored[row["customer_id"]]
        assert row["score_date"] == SNAPSHOT and row["in_newest_snapshot"]
        assert row["churn_probability"] == round(source["churn_probability"], 3)
        assert row["profit"] == round(source["profit"], 2)
        assert row["profit_at_risk"] == pytest.approx(source["churn_probability"] * source["profit"], abs=0.005)
        assert row["top_factors"] == ("; ".join(f["text"] for f in row["top_factors_detail"]) or None)
        segment = rules.segment(row["segment_code"])
        assert (row["segment_title"], row["offer_code"], row["offer_text"]) == (
            segment.title,
            segment.offer_code,
            segment.offer,
        )
        assert row["segment_precedence"] == rules.codes.index(segment.code) + 1


def test_no_segment_title_contradicts_the_customers_risk_band(chain, engine):
    """On the real export: every title starts with the name of its customers' band."""
    import yaml

    from ml import segments

    names = yaml.safe_load(segments.rules_path().read_text(encoding="utf-8"))["risk_bands"]["titles"]
    latest = rows(engine, "SELECT risk_band, segment_code, segment_title FROM mart.churn_scores_latest")
    wrong = [r for r in latest if not r["segment_title"].startswith(names[r["risk_band"]])]
    assert wrong == []
    assert {r["risk_band"] for r in latest} == {"high", "medium", "low"}  # all three bands occur
    for other in ("Высокий риск", "Средний риск", "Низкий риск"):  # and no title names two
        assert not [r for r in latest if other in r["segment_title"] and not r["segment_title"].startswith(other)]


def _stage_from(conn, snapshot_date, source, without=(), extra_customer=None) -> None:
    """Staged scores for `snapshot_date`: the published ones of `source` minus `without` (plus one customer
    seen nowhere else), swapped in as publish does."""
    from ml.scoring import steps

    conn.execute(sa.text("SELECT ops.replace_partition('scoring.churn_scores_staged', :d)"), {"d": snapshot_date})
    copy = (
        "INSERT INTO scoring.churn_scores_staged (score_date, customer_id, model_version, churn_probability, "
        "risk_band, segment, offer, top_factors, profit, rules_version, scored_at, offer_group) SELECT :d, {id}, "
        "model_version, churn_probability, risk_band, segment, offer, top_factors, profit, rules_version, scored_at, offer_group "
        "FROM scoring.churn_scores WHERE score_date = :s AND {where}"
    )
    conn.execute(
        sa.text(copy.format(id="customer_id", where="customer_id <> ALL(:w)")),
        {"d": snapshot_date, "s": source, "w": list(without)},
    )
    if extra_customer:
        conn.execute(
            sa.text(
                copy.format(
                    id=":c",
                    where="customer_id = (SELECT min(customer_id) FROM scoring.churn_scores WHERE score_date = :s)",
                )
            ),
            {"d": snapshot_date, "s": source, "c": extra_customer},
        )
    steps.swap_in_staged_partition(conn, snapshot_date)


def _latest_matches_the_history(conn) -> int:
    shown = set(
        conn.execute(sa.text("SELECT customer_id, score_date, in_newest_snapshot FROM mart.churn_scores_latest")).all()
    )
    truth = set(
        conn.execute(
            sa.text(
                "WITH t AS (SELECT customer_id, max(score_date) AS d FROM scoring.churn_scores GROUP BY customer_id) "
                "SELECT customer_id, d, d = (SELECT max(d) FROM t) FROM t"
            )
        ).all()
    )
    assert shown == truth
    return sum(1 for _, _, newest in shown if not newest)


def test_customers_missing_from_the_newest_date_keep_their_last_score_flagged(chain, engine):
    """New newest dates, reruns of the newest and of older dates, customers dropped and added:
    after each publish the view equals the newest score per customer of the whole history
    (inside a rolled-back transaction)."""
    ids = [
        r["customer_id"]
        for r in rows(
            engine, "SELECT customer_id FROM scoring.churn_scores WHERE score_date = :d ORDER BY 1", d=SNAPSHOT
        )
    ]
    older, newer, stranger = dt.date(2026, 7, 31), dt.date(2026, 9, 30), 900_000_001
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            _stage_from(conn, newer, SNAPSHOT, without=ids[0:3])
            assert _latest_matches_the_history(conn) == 3
            _stage_from(conn, newer, SNAPSHOT, without=ids[2:5])  # rerun: 0, 1 are back; 3, 4 leave
            assert _latest_matches_the_history(conn) == 3
            _stage_from(conn, older, SNAPSHOT, without=ids[10:20], extra_customer=stranger)
            assert _latest_matches_the_history(conn) == 4  # the stranger's last score is the older date
            _stage_from(conn, older, SNAPSHOT, without=ids[10:20])  # and without it, it is gone
            assert _latest_matches_the_history(conn) == 3
            _stage_from(conn, SNAPSHOT, SNAPSHOT, without=ids[2:3])  # 2 falls back to the older date
            assert _latest_matches_the_history(conn) == 3
            row = conn.execute(
                sa.text("SELECT score_date, in_newest_snapshot FROM mart.churn_scores_latest WHERE customer_id = :c"),
                {"c": ids[2]},
            ).one()
            assert tuple(row) == (older, False)
        finally:
            tx.rollback()


def test_segment_summary_aggregates_the_newest_date(chain, engine):
    import pandas as pd

    latest = pd.DataFrame(rows(engine, "SELECT * FROM mart.churn_scores_latest WHERE in_newest_snapshot"))
    stored = pd.DataFrame(rows(engine, "SELECT * FROM scoring.churn_scores WHERE score_date = :d", d=SNAPSHOT))
    per_segment = pd.DataFrame(
        rows(engine, "SELECT * FROM mart.segment_summary ORDER BY segment_precedence")
    ).set_index("segment_code")
    grouped = stored.groupby("segment").agg(
        customers=("customer_id", "size"),
        mean_churn_probability=("churn_probability", "mean"),
        profit_at_risk=("profit_at_risk", "sum"),
        total_profit=("profit", "sum"),
    )
    assert set(per_segment.index) == set(grouped.index) == set(latest["segment_code"])
    for segment, expected in grouped.iterrows():
        assert per_segment.loc[segment, "customers"] == expected["customers"]
        assert per_segment.loc[segment, "mean_churn_probability"] == round(expected["mean_churn_probability"], 3)
        assert per_segment.loc[segment, "profit_at_risk"] == pytest.approx(expected["profit_at_risk"], abs=0.005)
        assert per_segment.loc[segment, "total_profit"] == pytest.approx(expected["total_profit"], abs=0.005)
    for column, decimals in (("share_of_customers", 4), ("total_profit", 2), ("profit_at_risk", 2)):
        assert (per_segment[column] == per_segment[column].round(decimals)).all(), column  # no float noise
    assert per_segment["share_of_customers"].sum() == pytest.approx(1.0, abs=1e-3)
    assert list(per_segment.index) == list(per_segment.sort_values("segment_precedence").index)
    assert (per_segment["customers"] > 0).all() and (per_segment["score_date"] == SNAPSHOT).all()


def test_data_quality_views_show_the_newest_gate_of_each_suite(chain, engine):
    """Other tests of the chain gate corrupted batches of the same date: the view must show the
    newest run of each suite, whatever it decided, and exactly its failed expectations."""
    gates = rows(engine, "SELECT * FROM mart.data_quality WHERE snapshot_date = :d", d=SNAPSHOT)
    newest = rows(
        engine,
        "SELECT DISTINCT ON (suite) suite, run_id, success, critical_failed, warnings_failed "
        "FROM dq.validation_runs WHERE snapshot_date = :d ORDER BY suite, started_at DESC",
        d=SNAPSHOT,
    )
    assert {(g["suite"], g["run_id"], g["passed"], g["critical_failed"], g["warnings_failed"]) for g in gates} == {
        (n["suite"], n["run_id"], n["success"], n["critical_failed"], n["warnings_failed"]) for n in newest
    }
    assert {g["layer"] for g in gates} == {"raw", "features", "scoring"} and all(g["expectations"] > 0 for g in gates)
    failures = rows(engine, "SELECT * FROM mart.data_quality_failures WHERE snapshot_date = :d", d=SNAPSHOT)
    for gate in gates:
        mine = [f for f in failures if (f["suite"], f["run_id"]) == (gate["suite"], gate["run_id"])]
        assert sum(f["severity"] == "critical" for f in mine) == gate["critical_failed"], gate["suite"]
        assert sum(f["severity"] == "warning" for f in mine) == gate["warnings_failed"], gate["suite"]
    assert all(f["expectation"] and f["meaning"] for f in failures)


def test_model_drift_view_shows_the_psi_rows(chain, engine):
    drift = rows(engine, "SELECT * FROM mart.model_drift WHERE score_date = :d", d=SNAPSHOT)
    stored = rows(engine, "SELECT variable, psi FROM scoring.drift_psi WHERE score_date = :d", d=SNAPSHOT)
    assert {(r["variable"], r["psi"]) for r in drift} == {(r["variable"], round(r["psi"], 4)) for r in stored}
    assert len(drift) == 18


def test_every_mart_view_and_column_is_documented(chain, engine):
    undocumented = rows(
        engine,
        "SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = 'mart' AND c.relkind = 'v' AND col_description(c.oid, a.attnum) IS NULL",
    )
    assert undocumented == []
    numeric = rows(
        engine,
        "SELECT c.relname, a.attname, col_description(c.oid, a.attnum) AS doc FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
        "WHERE n.nspname = 'mart' AND c.relkind = 'v' AND a.atttypid IN "
        "('double precision'::regtype, 'numeric'::regtype, 'integer'::regtype, 'bigint'::regtype)",
    )
    unitless = [(r["relname"], r["attname"]) for r in numeric if not UNIT.search(r["doc"])]
    assert unitless == [], "a number's comment says its unit or scale"
    views = rows(
        engine,
        "SELECT c.relname, obj_description(c.oid, 'pg_class') AS doc FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'mart' AND c.relkind = 'v'",
    )
    assert {v["relname"] for v in views} >= {
        "churn_scores_latest",
        "segment_summary",
        "model_drift",
        "data_quality",
        "data_quality_failures",
    }
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
    [role] = rows(
        engine, "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r", r=READER
    )
    assert role == {"rolcanlogin": False, "rolsuper": False, "rolcreaterole": False, "rolcreatedb": False}


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM raw.market_file LIMIT 1",
        "SELECT * FROM staging.customers LIMIT 1",
        "SELECT * FROM features.customer_features LIMIT 1",
        "SELECT * FROM ml.model_registry LIMIT 1",
        "SELECT * FROM scoring.churn_scores LIMIT 1",
        "SELECT * FROM dq.validation_runs LIMIT 1",
        # mart.model_drift is a simple (auto-updatable) view: only the missing privilege stops these
        "INSERT INTO mart.model_drift (score_date, variable) VALUES (DATE '2000-01-01', 'x')",
        "UPDATE mart.model_drift SET status = 'stable'",
        "DELETE FROM mart.model_drift",
        "TRUNCATE scoring.drift_psi",
        "INSERT INTO scoring.churn_scores (score_date, customer_id) VALUES (DATE '2000-01-01', 1)",
        "CREATE VIEW mart.intruder AS SELECT 1 AS x",
        "DROP VIEW mart.segment_summary",
    ],
)
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
    views = {
        r["relname"]
        for r in rows(
            engine,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'mart' AND c.relkind = 'v'",
        )
    }
    assert granted == {("mart", view, "SELECT") for view in views}
    schemas = rows(
        engine,
        "SELECT nspname, has_schema_privilege(:r, nspname, 'USAGE') AS usage, "
        "has_schema_privilege(:r, nspname, 'CREATE') AS create FROM pg_namespace "
        "WHERE nspname IN ('raw', 'staging', 'features', 'ml', 'scoring', 'mart', 'dq')",
        r=READER,
    )
    assert {s["nspname"]: (s["usage"], s["create"]) for s in schemas} == {
        name: (name == "mart", False) for name in ("raw", "staging", "features", "ml", "scoring", "mart", "dq")
    }


def test_role_setup_is_idempotent(chain, engine):
    from etl.warehouse import db

    for _ in range(2):  # what migrate does after each revision: the role exists already, grants repeat
        with engine.begin() as conn:
            db.run_folder(conn, "mart")
    db.migrate(engine)  # at head already: runs nothing
    assert len(_as_reader(engine, "SELECT * FROM mart.segment_summary")) >= 1


def test_outcome_views_say_no_outcome_has_arrived_yet_for_the_one_real_snapshot(chain, engine):
    """The real export is one snapshot: nothing settles its scores yet, and the views say so
    (the settling snapshot is the first one on or after score_date + 3 months)."""
    from ml import segments
    from ml.outcomes import report

    # (other chain tests publish other dates of the real export; none is 3 months after this one)
    [performance] = rows(engine, "SELECT * FROM mart.realized_performance WHERE score_date = :d", d=SNAPSHOT)
    assert performance["score_date"] == SNAPSHOT and performance["status"] == "no outcome yet"
    assert performance["settles_from"] == dt.date(2026, 11, 30) and performance["roc_auc"] is None
    assert performance["status_text"] == (
        "no outcome has arrived yet: these scores are settled by the first snapshot on or after 2026-11-30"
    )
    effects = rows(
        engine, "SELECT * FROM mart.offer_effects WHERE score_date = :d ORDER BY segment_precedence", d=SNAPSHOT
    )
    assert [e["segment_code"] for e in effects] == segments.load_rules().codes
    assert {e["verdict"] for e in effects} == {"no outcome yet"}
    assert all("no outcome has arrived yet" in e["verdict_text"] and e["treated_customers"] is None for e in effects)
    assert rows(engine, "SELECT * FROM mart.realized_calibration WHERE score_date = :d", d=SNAPSHOT) == []
    [line] = [line for line in report.render_outcomes(engine).splitlines() if line.startswith(f"  {SNAPSHOT}")]
    assert "no outcome has arrived yet" in line
    # the holdout of the real export: about a tenth of the customers the rules reach within the
    # budget, never offered; those beyond the budget are not targeted
    groups = rows(engine, "SELECT offer_group, send_offer, count(*) AS n FROM mart.churn_scores_latest GROUP BY 1, 2")
    held = next(g["n"] for g in groups if g["offer_group"] == "holdout")
    randomised = sum(g["n"] for g in groups if g["offer_group"] in ("holdout", "treatment"))
    assert {(g["offer_group"], g["send_offer"]) for g in groups} == {
        ("holdout", False),
        ("treatment", True),
        ("not_targeted", False),
    }
    assert 0.06 < held / randomised < 0.14
