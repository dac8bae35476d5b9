"""DAG files are configuration: the contract dag_ids, and no heavy imports or work at parse time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "sklearn", "great_expectations", "matplotlib", "psycopg2", "joblib")
PROBE = """
import importlib.util, json, sys
from airflow.sdk.definitions._internal.contextmanager import DagContext
# import the file as the dag-processor does, with DAG auto-registration on
spec = importlib.util.spec_from_file_location("dag_file", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["dag_file"] = module
DagContext.current_autoregister_module_name = "dag_file"
spec.loader.exec_module(module)
dag_ids = sorted(dag.dag_id for dag, _ in DagContext.autoregistered_dags)
print(json.dumps({"dag_ids": dag_ids, "heavy": [m for m in sys.argv[2:] if m in sys.modules]}))
"""


@pytest.mark.parametrize("dag_id", ["churn_ingest", "churn_retrain", "churn_score"])
def test_dag_file_parses_light(dag_id, tmp_path):
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("WAREHOUSE_URL", None)  # parsing must not need a database
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "dags" / f"{dag_id}.py"), *HEAVY],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["dag_ids"] == [dag_id]
    assert probe["heavy"] == [], f"dags/{dag_id}.py imports {probe['heavy']} at parse time"


def test_only_the_three_contract_dags_exist():
    assert sorted(p.stem for p in (ROOT / "dags").glob("*.py")) == ["churn_ingest", "churn_retrain", "churn_score"]


@pytest.mark.parametrize("dag_id", ["churn_ingest", "churn_retrain", "churn_score"])
def test_every_task_has_a_timeout_limited_retries_and_on_failure_releases_its_claims_and_alerts(dag_id):
    from job.orchestration import runtime
    from tests.helpers import load_dag

    for task in load_dag(dag_id).tasks:
        assert task.execution_timeout is not None and task.execution_timeout.total_seconds() > 0, task.task_id
        assert task.retries <= 2, task.task_id
        callbacks = (
            task.on_failure_callback if isinstance(task.on_failure_callback, list) else [task.on_failure_callback]
        )
        assert runtime.release_claims in callbacks and runtime.notify_failure in callbacks, task.task_id


@pytest.mark.parametrize("dag_id", ["churn_ingest", "churn_retrain", "churn_score"])
def test_a_transient_failure_is_retried_within_a_minute_with_backoff(dag_id):
    """A crashed night must heal within minutes of the restart, not wait 5 min before each retry."""
    import datetime as dt

    from tests.helpers import load_dag

    for task in load_dag(dag_id).tasks:
        if task.retries:
            assert task.retry_delay <= dt.timedelta(seconds=30), task.task_id
            assert task.retry_exponential_backoff >= 2 and task.max_retry_delay <= dt.timedelta(minutes=5), task.task_id
