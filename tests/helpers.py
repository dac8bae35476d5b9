"""Test helpers shared by unit and integration tests (no fixtures here)."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

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


# Every table a run writes, with its date column: what a rerun must reproduce row for row.
LAYER_TABLES = {
    "raw.market_file": "snapshot_date", "raw.market_money": "snapshot_date",
    "raw.market_time": "snapshot_date", "raw.money": "snapshot_date",
    "staging.customers": "snapshot_date", "staging.revenue": "snapshot_date",
    "staging.minutes": "snapshot_date", "staging.profit": "snapshot_date",
    "features.customer_features": "snapshot_date",
    "scoring.churn_scores": "score_date",
}
VOLATILE_COLUMNS = "ARRAY['loaded_at', 'scored_at', 'source_file']"  # when and from which folder


def layer_checksums(engine: sa.Engine, snapshot: dt.date, tables: dict[str, str] | None = None) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the sorted rows without timestamps) per table for one date."""
    out = {}
    with engine.connect() as conn:
        for table, column in (tables or LAYER_TABLES).items():  # names are constants of this module
            query = (
                f"SELECT count(*) AS n, md5(coalesce(string_agg(j, E'\\n' ORDER BY j), '')) AS sum "
                f"FROM (SELECT (to_jsonb(t) - {VOLATILE_COLUMNS})::text AS j FROM {table} t WHERE {column} = :d) s"
            )
            row = conn.execute(sa.text(query), {"d": snapshot}).one()
            out[table] = (row.n, row.sum)
    return out


def spawn_step(step: str, snapshot: dt.date, url: str, *, run: str | None = None, data_dir: Path | None = None,
               start_at: float = 0.0, app_name: str = "churn-drill"):
    """Start `tests.integration.run_step` in a process of its own against the warehouse `url`."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "tests.integration.run_step", step, snapshot.isoformat(), "--start-at", str(start_at)]
    if run:
        command += ["--run", run]
    if data_dir:
        command += ["--data-dir", str(data_dir)]
    env = {**os.environ, "WAREHOUSE_URL": url, "PGAPPNAME": app_name}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def step_outcome(process, timeout: float = 180) -> dict:
    """The JSON line a `spawn_step` process printed (it must end within `timeout` seconds)."""
    import json

    out, err = process.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"step printed no outcome (exit {process.returncode}): {err[-2000:]}"
    return json.loads(lines[-1])


def independent_psi(entry: Mapping[str, Any], values: Sequence[Any]) -> float:
    """PSI of `values` against a reference entry, computed in one pass with plain pandas: an
    oracle for ml.monitoring's chunked counts (same bins, same EPSILON floor)."""
    import numpy as np
    import pandas as pd

    from ml.reference import EPSILON

    if entry["kind"] == "numeric":
        edges = np.asarray(entry["edges"], dtype=float)
        bins = np.searchsorted(edges, np.asarray(values, dtype=float), side="right")
        counts = np.bincount(bins, minlength=len(edges) + 1)
        expected = list(entry["proportions"])
    else:
        categories = list(entry["proportions"])
        observed = pd.Series(values).astype(str)
        counts = np.asarray([(observed == c).sum() for c in categories] + [(~observed.isin(categories)).sum()])
        expected = [*entry["proportions"].values(), 0.0]
    actual = np.clip(counts / max(counts.sum(), 1), EPSILON, None)
    expected = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
