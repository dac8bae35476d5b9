"""The loader and SQL models on the real export: counts, business rules, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest

from etl import ingest
from tests.helpers import features_of, rows

SNAPSHOT = dt.date(2026, 1, 31)


@pytest.fixture(scope="module")
def loaded(engine, real_data_dir):
    counts = ingest.load_raw(engine, SNAPSHOT, data_dir=real_data_dir)
    ingest.build_staging(engine, SNAPSHOT)
    ingest.build_features(engine, SNAPSHOT)
    ingest.validate_features(engine, SNAPSHOT)
    feature_counts = ingest.publish_features(engine, SNAPSHOT)
    return counts, feature_counts


def test_raw_row_counts(loaded, engine):
    counts, _ = loaded
    assert counts == {"market_file.csv": 1300, "market_money.csv": 3900, "market_time.csv": 2600, "money.csv": 1300}
    for table, expected in {"market_file": 1300, "market_money": 3900, "market_time": 2600, "money": 1300}.items():
        [row] = rows(engine, f"SELECT count(*) AS n FROM raw.{table} WHERE snapshot_date = :d", d=SNAPSHOT)
        assert row["n"] == expected, table


def test_raw_is_partitioned_by_snapshot(loaded, engine):
    parts = rows(
        engine,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'raw.market_money'::regclass",
    )
    assert {"market_money_p20260131"} <= {r["relname"] for r in parts}


def test_active_three_months_rule_and_labels(loaded, engine):
    _, counts = loaded
    assert counts["customers"] == 1300
    assert counts["active_customers"] == 1297
    assert (counts["active_label_stable"], counts["active_label_churn"]) == (802, 495)
    inactive = rows(
        engine,
        "SELECT customer_id FROM features.customer_features WHERE snapshot_date = :d AND NOT is_active_3m "
        "ORDER BY customer_id",
        d=SNAPSHOT,
    )
    assert [r["customer_id"] for r in inactive] == [215348, 215357, 215359]


def test_no_typo_survives_staging(loaded, engine):
    [bad] = rows(
        engine,
        """
        SELECT
          (SELECT count(*) FROM staging.customers WHERE snapshot_date = :d
             AND (service_type = 'стандартт' OR popular_category = 'Косметика и аксесуары')) AS customers,
          (SELECT count(*) FROM staging.minutes WHERE snapshot_date = :d
             AND period NOT IN ('last_month', 'current_month')) AS minutes,
          (SELECT count(*) FROM staging.revenue WHERE snapshot_date = :d
             AND period NOT IN ('two_months_ago', 'last_month', 'current_month')) AS revenue
        """,
        d=SNAPSHOT,
    )
    assert bad == {"customers": 0, "minutes": 0, "revenue": 0}
    services = rows(
        engine, "SELECT DISTINCT service_type FROM features.customer_features WHERE snapshot_date = :d", d=SNAPSHOT
    )
    assert {r["service_type"] for r in services} == {"премиум", "стандарт"}
    # the raw landing zone keeps the export as delivered
    [raw] = rows(
        engine,
        "SELECT count(*) AS n FROM raw.market_file WHERE snapshot_date = :d AND service_type = 'стандартт'",
        d=SNAPSHOT,
    )
    assert raw["n"] == 10


def test_revenue_outlier_rule(loaded, engine):
    fixed = rows(
        engine,
        "SELECT customer_id, period, revenue_reported, revenue FROM staging.revenue "
        "WHERE snapshot_date = :d AND is_outlier",
        d=SNAPSHOT,
    )
    assert fixed == [
        {
            "customer_id": 215380,
            "period": "current_month",
            "revenue_reported": 106862.2,
            "revenue": (5051.0 + 6077.0) / 2,
        }
    ]
    [row] = rows(
        engine,
        "SELECT revenue_current_month, revenue_outlier_fixed FROM features.customer_features "
        "WHERE snapshot_date = :d AND customer_id = 215380",
        d=SNAPSHOT,
    )
    assert row == {"revenue_current_month": 5564.0, "revenue_outlier_fixed": True}


def test_feature_pivots_match_raw(loaded, engine):
    """Each pivoted column equals its raw row (outside the one fixed outlier)."""
    [mismatch] = rows(
        engine,
        """
        SELECT count(*) AS n FROM features.customer_features f
        JOIN raw.market_money m ON m.snapshot_date = f.snapshot_date AND m.customer_id = f.customer_id
        JOIN raw.market_time t ON t.snapshot_date = f.snapshot_date AND t.customer_id = f.customer_id
        WHERE f.snapshot_date = :d AND NOT f.revenue_outlier_fixed AND (
             (m.period = 'препредыдущий_месяц' AND m.revenue <> f.revenue_two_months_ago)
          OR (m.period = 'предыдущий_месяц' AND m.revenue <> f.revenue_last_month)
          OR (m.period = 'текущий_месяц' AND m.revenue <> f.revenue_current_month)
          OR (t.period = 'предыдцщий_месяц' AND t.minutes <> f.minutes_last_month)
          OR (t.period = 'текущий_месяц' AND t.minutes <> f.minutes_current_month))
        """,
        d=SNAPSHOT,
    )
    assert mismatch["n"] == 0
    [profit] = rows(
        engine,
        "SELECT profit FROM features.customer_features WHERE snapshot_date = :d AND customer_id = 215348",
        d=SNAPSHOT,
    )
    assert profit["profit"] == 0.98


def test_reload_same_snapshot_gives_same_rows(loaded, engine, real_data_dir):
    before = features_of(engine, SNAPSHOT)
    raw_before = rows(
        engine,
        "SELECT customer_id, period, revenue FROM raw.market_money WHERE snapshot_date = :d ORDER BY 1, 2",
        d=SNAPSHOT,
    )
    ingest.load_raw(engine, SNAPSHOT, data_dir=real_data_dir)
    ingest.build_staging(engine, SNAPSHOT)
    ingest.build_features(engine, SNAPSHOT)
    ingest.validate_features(engine, SNAPSHOT)
    ingest.publish_features(engine, SNAPSHOT)
    assert features_of(engine, SNAPSHOT) == before
    assert (
        rows(
            engine,
            "SELECT customer_id, period, revenue FROM raw.market_money WHERE snapshot_date = :d ORDER BY 1, 2",
            d=SNAPSHOT,
        )
        == raw_before
    )
    [n] = rows(engine, "SELECT count(*) AS n FROM raw.market_file WHERE snapshot_date = :d", d=SNAPSHOT)
    assert n["n"] == 1300


def test_reload_touches_only_its_own_partition(loaded, engine, real_data_dir):
    other = dt.date(2026, 2, 28)
    ingest.load_raw(engine, other, data_dir=real_data_dir)
    before = rows(engine, "SELECT snapshot_date, count(*) AS n FROM raw.money GROUP BY 1 ORDER BY 1")
    ingest.load_raw(engine, other, data_dir=real_data_dir)
    assert rows(engine, "SELECT snapshot_date, count(*) AS n FROM raw.money GROUP BY 1 ORDER BY 1") == before
    assert {r["snapshot_date"] for r in before} >= {SNAPSHOT, other}
