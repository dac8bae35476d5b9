"""churn_ingest runs the GX gates; a failing gate ends the run failed before anything downstream."""

from __future__ import annotations

import datetime as dt

from tests.helpers import copy_export, features_of, load_dag, rows, task_states
from tests.integration.corruptions import CASES

GOOD = dt.date(2026, 10, 17)  # after the DAG start_date: earlier dates get no task instances
DOWNSTREAM = ("build_staging", "build_features", "validate_features", "publish_features")


def test_failing_raw_gate_fails_the_run_and_keeps_the_previous_features(
    airflow_db, engine, monkeypatch, tmp_path, real_data_dir
):
    logical_date = dt.datetime(2026, 10, 17, tzinfo=dt.timezone.utc)
    monkeypatch.setenv("DATA_DIR", str(real_data_dir))
    good_run = load_dag("churn_ingest").test(logical_date=logical_date)
    states = task_states(good_run)
    assert good_run.state == "success", states
    assert states["validate_raw"] == states["validate_features"] == "success"
    before = features_of(engine, GOOD)
    assert len(before) == 1300
    recorded = rows(
        engine,
        "SELECT layer, count(*) AS suites, bool_and(success) AS ok FROM dq.validation_runs "
        "WHERE snapshot_date = :d GROUP BY layer ORDER BY layer",
        d=GOOD,
    )
    assert recorded == [{"layer": "features", "suites": 1, "ok": True}, {"layer": "raw", "suites": 4, "ok": True}]

    # Rerun the same date with an export the loader accepts but the raw gate rejects.
    bad = CASES["promo_share_out_of_range"].apply(copy_export(real_data_dir, tmp_path / "bad"))
    monkeypatch.setenv("DATA_DIR", str(bad))
    bad_run = load_dag("churn_ingest").test(logical_date=logical_date)
    states = task_states(bad_run)
    assert bad_run.state == "failed", states
    assert states["load_raw"] == "success" and states["validate_raw"] == "failed", states
    assert all(states.get(task) in (None, "upstream_failed") for task in DOWNSTREAM), states
    assert features_of(engine, GOOD) == before
    [latest] = rows(
        engine,
        "SELECT success, critical_failed FROM dq.validation_runs WHERE snapshot_date = :d "
        "AND suite = 'raw.market_file' ORDER BY started_at DESC LIMIT 1",
        d=GOOD,
    )
    assert latest == {"success": False, "critical_failed": 1}
