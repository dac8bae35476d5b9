"""Test helpers shared by unit and integration tests (no fixtures here)."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
FILES = ("market_file.csv", "market_money.csv", "market_time.csv", "money.csv")


def copy_export(source: Path, target: Path) -> Path:
    """A working copy of an export that a test may then corrupt or re-encode."""
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(source / name, target / name)
    return target


def rows(engine: sa.Engine, query: str, **params: Any) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(query), params).mappings()]


def features_of(engine: sa.Engine, snapshot: dt.date) -> list[dict]:
    return rows(
        engine,
        "SELECT * FROM features.customer_features WHERE snapshot_date = :d ORDER BY customer_id",
        d=snapshot,
    )


def load_dag(dag_id: str):
    """Parse dags/<dag_id>.py with Airflow's own DagBag (as the dag-processor would)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=ROOT / "dags" / f"{dag_id}.py")
    assert not bag.import_errors, bag.import_errors
    assert dag_id in bag.dags, f"dags/{dag_id}.py defines no DAG {dag_id}"
    return bag.dags[dag_id]


def task_states(dag_run) -> dict[str, str | None]:
    """task_id → final state of a DagRun returned by dag.test() (mapped tasks: worst state)."""
    from airflow.utils.session import create_session
    from airflow.models.taskinstance import TaskInstance

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
        ).all()
        states: dict[str, str | None] = {}
        for ti in tis:
            state = str(getattr(ti.state, "value", ti.state)) if ti.state is not None else None
            if ti.task_id not in states or state != "success":
                states[ti.task_id] = state
        return states
