"""The GX gate on the real export: passes, records one row per suite, writes Data Docs, and fails
loudly (but recorded) on an empty snapshot or a broken feature build."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import ingest, quality
from etl.warehouse import settings
from tests.helpers import rows

SNAPSHOT = dt.date(2025, 3, 31)
EMPTY = dt.date(2025, 4, 30)
BROKEN = dt.date(2025, 5, 1)


@pytest.fixture(scope="module")
def gates(engine, real_data_dir) -> tuple[quality.GateResult, quality.GateResult]:
    ingest.load_raw(engine, SNAPSHOT, data_dir=real_data_dir)
    raw = ingest.validate_raw(engine, SNAPSHOT)  # as the pipeline runs it: with its Data Docs
    ingest.build_staging(engine, SNAPSHOT)
    ingest.build_features(engine, SNAPSHOT)
    features = ingest.validate_features(engine, SNAPSHOT)
    ingest.publish_features(engine, SNAPSHOT)
    return raw, features


def test_real_export_passes_with_the_known_outlier_as_the_only_warning(gates):
    raw, features = gates
    assert raw.success and features.success
    assert [s.suite for s in raw.suites] == ["raw.market_file", "raw.market_money", "raw.market_time", "raw.money"]
    assert {(w.table, w.column) for w in raw.warnings} == {("raw.market_money", "revenue")}
    samples = json.dumps([w.sample for w in raw.warnings])
    assert "106862.2" in samples and "215380" in samples
    assert features.warnings == [] and features.critical_failures == []
    print(f"gate timings on the real export: raw {raw.seconds:.2f} s, features {features.seconds:.2f} s")


def test_validation_runs_hold_one_row_per_suite_per_run(gates, engine):
    for result in gates:
        recorded = rows(
            engine,
            "SELECT suite, snapshot_date, layer, success, evaluated_count, failed_count, critical_failed, "
            "warnings_failed, details, data_docs_path FROM dq.validation_runs WHERE run_id = :r ORDER BY suite",
            r=result.run_id,
        )
        assert [r["suite"] for r in recorded] == [s.suite for s in result.suites]
        for row, suite in zip(recorded, result.suites):
            assert row["snapshot_date"] == SNAPSHOT and row["layer"] == result.layer
            assert row["success"] is True and row["critical_failed"] == 0
            assert row["evaluated_count"] == len(suite.findings) == len(row["details"])
            assert row["failed_count"] == row["warnings_failed"] == len(suite.warnings_failed)
            assert row["data_docs_path"] == suite.data_docs_path
    [money] = rows(
        engine,
        "SELECT details FROM dq.validation_runs WHERE run_id = :r AND suite = 'raw.market_money'",
        r=gates[0].run_id,
    )
    failed = [d for d in money["details"] if not d["success"]]
    assert {d["severity"] for d in failed} == {"warning"} and len(failed) == 2
    assert any(d["sample"] == [106862.2] and d["unexpected_count"] == 1 for d in failed)


def test_data_docs_index_and_suite_pages_exist(gates):
    index = settings.reports_dir() / "data_docs" / "index.html"
    assert index.is_file()
    for result in gates:
        assert result.data_docs_index == index
        for suite in result.suites:
            page = Path(suite.data_docs_path)
            assert page.is_file() and index.parent in page.parents
            assert suite.suite in page.read_text(encoding="utf-8")
    assert "raw.market_money" in index.read_text(encoding="utf-8")


def test_a_snapshot_that_was_never_loaded_fails_and_is_recorded(engine):
    with pytest.raises(quality.QualityGateFailed) as caught:
        quality.validate(engine, "raw", EMPTY)
    result = caught.value.result
    assert {f.suite for f in result.critical_failures if f.expectation == "expect_table_row_count_to_be_between"} == {
        s.suite for s in result.suites
    }
    recorded = rows(
        engine, "SELECT suite, success FROM dq.validation_runs WHERE snapshot_date = :d ORDER BY suite", d=EMPTY
    )
    assert recorded == [{"suite": s.suite, "success": False} for s in result.suites]
    assert "raw.money (table)" in str(caught.value) and "observed 0" in str(caught.value)
    # called without `docs`, the gate writes no pages (the pipelines' steps pass etl.data_docs')
    assert result.data_docs_index is None and {s.data_docs_path for s in result.suites} == {None}


def test_features_gate_catches_a_broken_build(gates, engine):
    """Rows that staging should have fixed reach features: the gate names each broken column."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TEMP TABLE broken ON COMMIT DROP AS "
                "SELECT * FROM features.customer_features WHERE snapshot_date = :good"
            ),
            {"good": SNAPSHOT},
        )
        conn.execute(sa.text("UPDATE broken SET snapshot_date = :bad"), {"bad": BROKEN})
        conn.execute(sa.text("UPDATE broken SET service_type = 'стандартт' WHERE customer_id IN (215348, 215349)"))
        conn.execute(sa.text("UPDATE broken SET is_active_3m = NOT is_active_3m WHERE customer_id = 215350"))
        conn.execute(sa.text("UPDATE broken SET churn_label = NULL WHERE customer_id = 215351"))
        conn.execute(
            sa.text("SELECT ops.replace_partition('features.customer_features_staged', :bad)"), {"bad": BROKEN}
        )
        conn.execute(sa.text("INSERT INTO features.customer_features_staged SELECT * FROM broken"))
    try:
        with pytest.raises(quality.QualityGateFailed) as caught:
            quality.validate(engine, "features", BROKEN)
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("SELECT ops.replace_partition('features.customer_features_staged', :bad)"), {"bad": BROKEN}
            )
    message = str(caught.value)
    failed = {(f.column, f.unexpected_count) for f in caught.value.result.critical_failures}
    assert ("service_type", 2) in failed and ("is_active_3m", 1) in failed and ("churn_label", 1) in failed
    assert ("customer_id", 1) in failed  # 1300 feature rows but no raw customers for that date
    assert "features.customer_features_staged.service_type" in message and "стандартт" in message
    assert "215350" in message and "215351" in message


def test_failed_features_gate_on_a_rerun_keeps_the_published_date(gates, engine):
    """Write-audit-publish: a bad staged batch for an already published date is never published."""
    published = rows(
        engine, "SELECT * FROM features.customer_features WHERE snapshot_date = :d ORDER BY customer_id", d=SNAPSHOT
    )
    assert len(published) == 1300
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT ops.replace_partition('features.customer_features_staged', :d)"), {"d": SNAPSHOT})
        conn.execute(
            sa.text(
                "INSERT INTO features.customer_features_staged "
                "SELECT * FROM features.customer_features WHERE snapshot_date = :d"
            ),
            {"d": SNAPSHOT},
        )
        conn.execute(
            sa.text(
                "UPDATE features.customer_features_staged SET popular_category = 'Игрушки' "
                "WHERE snapshot_date = :d AND customer_id = 215352"
            ),
            {"d": SNAPSHOT},
        )
    try:
        with pytest.raises(quality.QualityGateFailed) as caught:
            quality.validate(engine, "features", SNAPSHOT)
        assert "popular_category" in str(caught.value)
        assert (
            rows(
                engine,
                "SELECT * FROM features.customer_features WHERE snapshot_date = :d ORDER BY customer_id",
                d=SNAPSHOT,
            )
            == published
        )
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("DELETE FROM features.customer_features_staged WHERE snapshot_date = :d"), {"d": SNAPSHOT}
            )


def test_samples_are_fetched_only_for_the_failed_column_expectations(gates, engine, monkeypatch):
    """The first pass counts without fetching values; the second runs again exactly the failed
    column expectations, whose findings then carry samples (etl/quality/samples.py)."""
    from etl.quality import samples

    reruns: list[int] = []
    add_samples = samples.add_samples
    monkeypatch.setattr(samples, "add_samples", lambda *args: reruns.append(add_samples(*args)) or reruns[-1])
    ingest.build_features(engine, SNAPSHOT)  # staged again (publish moved the last build)
    clean = quality.validate(engine, "features", SNAPSHOT)  # every expectation passes
    raw = quality.validate(engine, "raw", SNAPSHOT)  # the known outlier: one failed column warning
    assert clean.success and not clean.warnings and reruns[0] == 0
    column_warnings = [w for w in raw.warnings if w.expectation != "unexpected_rows_expectation"]
    assert reruns[1] == len(column_warnings) == 1
    assert column_warnings[0].unexpected_count == 1 and "106862.2" in json.dumps(column_warnings[0].sample)
    passed = [f for s in raw.suites for f in s.findings if f.success and f.unexpected_count is not None]
    assert passed and all(f.sample == [] for f in passed)
