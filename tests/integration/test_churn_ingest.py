"""churn_ingest end to end with dag.test() against the test warehouse."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import load_dag, rows, task_states

SNAPSHOT = dt.date(2026, 5, 31)


@pytest.fixture()
def real_data_env(monkeypatch, real_data_dir):
    monkeypatch.setenv("DATA_DIR", str(real_data_dir))


def test_churn_ingest_dag_loads_and_builds_features(airflow_db, engine, real_data_env):
    dag = load_dag("churn_ingest")
    run = dag.test(logical_date=dt.datetime(2026, 5, 31, tzinfo=dt.timezone.utc))
    assert run.state == "success", task_states(run)
    states = task_states(run)
    assert states and set(states.values()) == {"success"}, states
    [counts] = rows(
        engine,
        "SELECT count(*) AS customers, count(*) FILTER (WHERE is_active_3m) AS active "
        "FROM features.customer_features WHERE snapshot_date = :d",
        d=SNAPSHOT,
    )
    assert counts == {"customers": 1300, "active": 1297}


def test_churn_ingest_dag_fails_on_bad_input_without_touching_features(
    airflow_db, engine, monkeypatch, tmp_path, real_data_dir
):
    from tests.helpers import copy_export, features_of

    good = dt.date(2026, 6, 30)
    monkeypatch.setenv("DATA_DIR", str(real_data_dir))
    load_dag("churn_ingest").test(logical_date=dt.datetime(2026, 6, 30, tzinfo=dt.timezone.utc))
    before = features_of(engine, good)
    assert len(before) == 1300

    bad = copy_export(real_data_dir, tmp_path / "bad")
    (bad / "money.csv").write_text("id;Прибыль\n")
    monkeypatch.setenv("DATA_DIR", str(bad))
    run = load_dag("churn_ingest").test(logical_date=dt.datetime(2026, 6, 30, tzinfo=dt.timezone.utc))
    states = task_states(run)
    assert states["load_raw"] == "failed"
    assert states.get("build_features") in (None, "upstream_failed"), states
    assert features_of(engine, good) == before
