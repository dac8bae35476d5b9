"""job/cli/commands.py (`churn`): status, rescore, backfill, rollback and reports on a real warehouse.

Each test works in a database of its own holding the run's champion (tests/integration/champion.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from etl.warehouse import db, server
from job import pipelines
from job.cli import main
from tests.helpers import rows
from tests.integration.champion import insert_model, seed_champion


@pytest.fixture()
def warehouse(champion, real_data_dir, monkeypatch):
    """A fresh database with the run's champion registered, and the env the CLI reads."""
    url = server.create_database(f"churn_test_cli_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    db.migrate(engine)
    env = {"WAREHOUSE_URL": url, "DATA_DIR": str(real_data_dir)}
    # set for the whole test, not only inside CliRunner.invoke: the settings are read once, and
    # monkeypatch makes them re-read (tests/helpers.py SettingsPatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield {"engine": engine, "champion": seed_champion(engine, champion), "env": env}
    engine.dispose()
    server.drop_database(url)


def churn(warehouse, *args: str):
    return CliRunner().invoke(main, list(args), env=warehouse["env"], catch_exceptions=False)


def scored(engine: sa.Engine) -> dict[dt.date, set[str]]:
    found: dict[dt.date, set[str]] = {}
    for r in rows(engine, "SELECT DISTINCT score_date, model_version FROM scoring.churn_scores"):
        found.setdefault(r["score_date"], set()).add(r["model_version"])
    return found


def test_migrate_prints_the_revision_before_and_after_and_other_commands_ask_for_it(warehouse_url, monkeypatch):
    url = server.create_database(f"churn_test_cli_migrate_{uuid.uuid4().hex[:8]}")
    env = {"WAREHOUSE_URL": url}
    monkeypatch.setenv("WAREHOUSE_URL", url)  # the settings are read once: re-read through monkeypatch
    try:
        refused = CliRunner().invoke(main, ["status"], env=env)
        assert refused.exit_code == 1 and "NotMigrated" in refused.output and "churn migrate" in refused.output
        first = CliRunner().invoke(main, ["migrate"], env=env, catch_exceptions=False)
        assert first.exit_code == 0 and first.output == f"warehouse schema revision: none → {db.head_revision()}\n"
        again = CliRunner().invoke(main, ["migrate"], env=env, catch_exceptions=False)
        assert (
            again.output
            == f"warehouse schema revision: {db.head_revision()} → {db.head_revision()} (already current)\n"
        )
        status = CliRunner().invoke(main, ["status"], env=env, catch_exceptions=False)
        assert status.exit_code == 0 and "champion: none" in status.output
    finally:
        db.get_engine(url).dispose()
        server.drop_database(url)


def test_backfill_runs_the_declared_pipelines_for_every_date_and_status_lists_them(warehouse, caplog):
    # August, the champion's own month: the retrain rule says no retrain (test_training covers when it does)
    with caplog.at_level(logging.INFO, logger="job.pipelines.declaration"):
        result = churn(warehouse, "backfill", "2026-08-29", "2026-08-30")
    assert result.exit_code == 0, result.output
    executed = [r.getMessage() for r in caplog.records if r.name == "job.pipelines.declaration"]
    assert executed == [
        f"{pipeline.name} {snapshot_date}: {name}"
        for snapshot_date in ("2026-08-29", "2026-08-30")
        for pipeline in (pipelines.INGEST, pipelines.SCORE, pipelines.SETTLE)
        for name in pipeline.names
    ]
    assert scored(warehouse["engine"]) == {
        dt.date(2026, 8, 29): {warehouse["champion"]},
        dt.date(2026, 8, 30): {warehouse["champion"]},
    }
    status = churn(warehouse, "status")
    assert status.exit_code == 0, status.output
    assert f"champion: {warehouse['champion']}" in status.output
    assert "scored 2026-08-30: 1297 customers" in status.output and "scored 2026-08-29: 1297 customers" in status.output
    assert "gate raw: passed for 2026-08-30" in status.output and "claim " not in status.output  # all released


def test_rollback_restores_the_previous_champion_and_the_next_scoring_uses_it(warehouse):
    engine, original = warehouse["engine"], warehouse["champion"]
    [row] = rows(engine, "SELECT to_jsonb(r) AS row FROM ml.model_registry r WHERE model_version = :v", v=original)
    newer = {**row["row"], "model_version": f"{original}-newer", "run_key": f"{row['row']['run_key']}-newer"}
    with engine.begin() as conn:  # the original was the champion before a newer one replaced it
        conn.execute(
            sa.text("UPDATE ml.model_registry SET status = 'retired', status_changed_at = now() - interval '1 day'")
        )
    insert_model(engine, newer)
    assert churn(warehouse, "backfill", "2026-08-30", "2026-08-30").exit_code == 0
    assert scored(engine) == {dt.date(2026, 8, 30): {newer["model_version"]}}
    result = churn(warehouse, "rollback", "--reason", "drift on 2026-08-30", "--by", "on-call")
    assert result.exit_code == 0, result.output
    assert f"champion is {original} again; {newer['model_version']} retired" in result.output
    statuses = {
        r["model_version"]: r
        for r in rows(engine, "SELECT model_version, status, status_changed_by, status_reason FROM ml.model_registry")
    }
    assert statuses[original]["status"] == "champion" and statuses[newer["model_version"]]["status"] == "retired"
    assert {statuses[v]["status_changed_by"] for v in statuses} == {"on-call"}
    assert statuses[original]["status_reason"] == "rollback: drift on 2026-08-30"
    assert churn(warehouse, "rescore", "2026-08-30").exit_code == 0
    assert scored(engine) == {dt.date(2026, 8, 30): {original}}


def test_rollback_without_a_previous_champion_changes_nothing(warehouse):
    result = CliRunner().invoke(main, ["rollback", "--reason", "test"], env=warehouse["env"])
    assert result.exit_code == 1 and "nothing to roll back to" in result.output
    assert [r["status"] for r in rows(warehouse["engine"], "SELECT status FROM ml.model_registry")] == ["champion"]


def test_a_bad_date_is_a_usage_error_and_reports_name_the_files(warehouse):
    bad = CliRunner().invoke(main, ["rescore", "27.11.2026"], env=warehouse["env"])
    assert bad.exit_code == 2 and "DATE='27.11.2026' is not a date" in bad.output
    reports = churn(warehouse, "reports")
    assert "Data Docs:" in reports.output and "model card: " in reports.output and ".html" in reports.output


def test_an_alert_the_webhook_did_not_take_is_kept_once_and_status_shows_it(warehouse, monkeypatch):
    from types import SimpleNamespace

    from job.orchestration import alerts

    monkeypatch.setenv(alerts.WEBHOOK_VARIABLE, "http://127.0.0.1:1/hook")  # nothing listens there
    monkeypatch.setattr(alerts, "BACKOFF_SECONDS", 0.0)
    context = {
        "ti": SimpleNamespace(dag_id="churn_ingest", task_id="load_raw", map_index=-1, try_number=3),
        "run_id": "scheduled__2026-08-30T02:00:00+00:00",
        "exception": ValueError("market_file.csv, column «Акционные_покупки», rows 3, 17: not a number"),
    }
    alerts.notify_failure(context)
    alerts.notify_failure(context)  # the callback run again for the same final failure: no second alert
    [alert] = rows(warehouse["engine"], "SELECT attempts, delivered_at, last_error, text FROM ops.alerts")
    assert alert["attempts"] == alerts.ATTEMPTS and alert["delivered_at"] is None
    assert "Connection refused" in alert["last_error"] and "churn_ingest.load_raw failed" in alert["text"]
    status = churn(warehouse, "status")
    assert f"alert not delivered ({alerts.ATTEMPTS} attempts, " in status.output
    assert "churn_ingest.load_raw failed in run scheduled__2026-08-30" in status.output
