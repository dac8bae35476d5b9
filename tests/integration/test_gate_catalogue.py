"""Each corruption of the real export gets its documented outcome, and loses nothing good.

A good snapshot is loaded, gated and built first. Every case then loads a corrupted copy under a
date of its own and runs the pipeline as churn_ingest does (load → raw gate → staging → features →
features gate), stopping at the first rejection. After a rejection, features and scores of every
other snapshot must be exactly as before.

Note: a snapshot the loader accepts but the raw gate rejects does leave its raw partitions (raw is
the landing zone, and the gate runs on them); nothing downstream of raw is written for that date.
"""

from __future__ import annotations

import datetime as dt

import pytest

from etl import ingest, quality
from etl.ingest.loader import LoadError
from tests.helpers import copy_export, features_of, rows
from tests.integration.corruptions import CATALOGUE, Corruption

GOOD = dt.date(2025, 6, 30)
FIRST_CASE_DATE = dt.date(2025, 7, 1)


def _case_date(case: Corruption) -> dt.date:
    return FIRST_CASE_DATE + dt.timedelta(days=CATALOGUE.index(case))


def _run_pipeline(engine, folder, snapshot: dt.date) -> tuple[str, Exception | None]:
    """churn_ingest's steps in order; the first rejection ends the run, as in the DAG."""
    try:
        ingest.load_raw(engine, snapshot, data_dir=folder)
    except LoadError as error:
        return "rejected_by_loader", error
    try:
        quality.validate(engine, "raw", snapshot)
    except quality.QualityGateFailed as error:
        return "rejected_by_gate", error
    ingest.build_staging(engine, snapshot)
    ingest.build_features(engine, snapshot)
    try:
        ingest.validate_features(engine, snapshot)
    except quality.QualityGateFailed as error:
        return "rejected_by_features_gate", error
    ingest.publish_features(engine, snapshot)
    return "accepted", None


def _fingerprints(engine) -> dict[str, list[dict]]:
    """Row count and a digest of every row, per snapshot, of the tables a rejection must not touch."""
    protected = {"features.customer_features": "snapshot_date", "scoring.churn_scores": "score_date"}
    result = {}
    for table, date_column in protected.items():
        [exists] = rows(engine, "SELECT to_regclass(:t) IS NOT NULL AS present", t=table)
        if exists["present"]:  # scores exist once the scoring schema is in place
            result[table] = rows(
                engine,
                f"SELECT {date_column} AS day, count(*) AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest "
                f"FROM {table} AS t GROUP BY 1 ORDER BY 1",  # names are constants above, not input
            )
    return result


@pytest.fixture(scope="module")
def good_snapshot(engine, real_data_dir) -> list[dict]:
    assert _run_pipeline(engine, real_data_dir, GOOD) == ("accepted", None)
    return features_of(engine, GOOD)


def test_catalogue_is_big_and_covers_every_outcome():
    outcomes = [c.outcome for c in CATALOGUE]
    assert len(CATALOGUE) >= 20
    assert {"rejected_by_loader", "rejected_by_gate", "accepted"} <= set(outcomes)
    assert all(c.why for c in CATALOGUE)


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.name for c in CATALOGUE])
def test_corruption_gets_its_documented_outcome(case: Corruption, good_snapshot, engine, real_data_dir, tmp_path):
    folder = case.apply(copy_export(real_data_dir, tmp_path / case.name))
    snapshot = _case_date(case)
    before = _fingerprints(engine)

    outcome, error = _run_pipeline(engine, folder, snapshot)

    assert outcome == case.outcome, f"{case.name}: expected {case.outcome} because {case.why}\ngot: {error}"
    if case.outcome == "accepted":
        _assert_accepted(case, engine, snapshot, good_snapshot)
        return
    message = str(error)
    if case.outcome == "rejected_by_loader":
        assert case.file in message, message
        assert error.file_name == case.file
        if case.column:
            assert case.column in message and error.column == case.column, message
    else:
        assert f"{case.table}.{case.column}" in message and case.file in message, message
        [run] = rows(
            engine,
            "SELECT bool_and(success) FILTER (WHERE suite = :suite) AS suite_ok, count(*) AS suites "
            "FROM dq.validation_runs WHERE snapshot_date = :d AND layer = 'raw'",
            suite=case.table,
            d=snapshot,
        )
        assert run == {"suite_ok": False, "suites": 4}
    # Nothing downstream ran: no features for the bad date, every other snapshot untouched.
    assert features_of(engine, snapshot) == []
    assert _fingerprints(engine) == before
    assert features_of(engine, GOOD) == good_snapshot


def _assert_accepted(case: Corruption, engine, snapshot: dt.date, good: list[dict]) -> None:
    features = [{**row, "snapshot_date": GOOD} for row in features_of(engine, snapshot)]
    assert len(features) == len(good) == 1300
    if case.same_features:
        assert features == good
    elif case.name == "unlabelled_snapshot":
        assert {row["churn_label"] for row in features} == {None}
        assert features == [{**row, "churn_label": None} for row in good]
    elif case.name == "second_revenue_outlier":
        [run] = rows(
            engine,
            "SELECT success, warnings_failed, critical_failed FROM dq.validation_runs "
            "WHERE snapshot_date = :d AND suite = 'raw.market_money'",
            d=snapshot,
        )
        assert run == {"success": True, "warnings_failed": 2, "critical_failed": 0}
        [fixed] = [row for row in features if row["customer_id"] == 215500]
        assert fixed["revenue_outlier_fixed"] and fixed["revenue_current_month"] < 10000
    else:
        pytest.fail(f"accepted case {case.name} has no assertion about its features")
