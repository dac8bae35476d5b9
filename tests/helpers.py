"""Test helpers shared by unit and integration tests (no fixtures here)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

import pytest
import sqlalchemy as sa

from etl.warehouse import settings

ROOT = Path(__file__).resolve().parents[1]
FILES = ("market_file.csv", "market_money.csv", "market_time.csv", "money.csv")


class SettingsPatch(pytest.MonkeyPatch):
    """pytest's MonkeyPatch whose environment changes reach the job's settings: the settings are
    read once per process (etl.warehouse.settings.current), so every setenv, delenv and undo
    makes the next read fresh. tests/conftest.py makes the `monkeypatch` fixture one of these;
    a module fixture uses `SettingsPatch.context()`."""

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None:
        super().setenv(name, value, prepend)
        settings.current.cache_clear()

    def delenv(self, name: str, raising: bool = True) -> None:
        super().delenv(name, raising)
        settings.current.cache_clear()

    def undo(self) -> None:
        super().undo()
        settings.current.cache_clear()


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
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = (
            session.query(TaskInstance)
            .filter(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
            .all()
        )
        states: dict[str, str | None] = {}
        for ti in tis:
            state = str(getattr(ti.state, "value", ti.state)) if ti.state is not None else None
            if ti.task_id not in states or state != "success":
                states[ti.task_id] = state
        return states


def mapped_instances(dag_run) -> dict[str, list[str]]:
    """task_id → the names (rendered map index) of its mapped instances in a run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = (
            session.query(TaskInstance)
            .filter(
                TaskInstance.dag_id == dag_run.dag_id,
                TaskInstance.run_id == dag_run.run_id,
                TaskInstance.map_index >= 0,
            )
            .all()
        )
        found: dict[str, list[str]] = {}
        for ti in tis:
            found.setdefault(ti.task_id, []).append(ti.rendered_map_index)
        return found


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


def synthetic_frame(n_customers: int = 400, seed: int = 0, duplicate_pairs: int = 5) -> Any:
    """A frame shaped like the training set, with a learnable label and exact duplicate pairs.

    For unit tests (no database); the real data is never needed to build it.
    """
    import numpy as np
    import pandas as pd

    from ml import features

    rng = np.random.default_rng(seed)
    n = n_customers
    categories = [
        "Товары для детей",
        "Домашний текстиль",
        "Косметика и аксессуары",
        "Кухонная посуда",
        "Мелкая бытовая техника и электроника",
        "Техника для красоты и здоровья",
    ]
    frame = pd.DataFrame(
        {
            features.ID: np.arange(100000, 100000 + n),
            "service_type": rng.choice(["премиум", "стандарт"], n, p=[0.3, 0.7]),
            "popular_category": rng.choice(categories, n),
            "allow_messages": rng.random(n) < 0.75,
            "marketing_6m": rng.uniform(0.9, 6.6, n).round(1),
            "marketing_current_month": rng.integers(3, 6, n),
            "tenure_days": rng.integers(110, 1080, n),
            "promo_share": np.clip(rng.beta(1.2, 4, n), 0, 0.99).round(2),
            "avg_categories_per_visit": rng.integers(1, 7, n),
            "unpaid_items_quarter": rng.integers(0, 11, n),
            "service_errors": rng.integers(0, 10, n),
            "pages_per_visit": rng.integers(1, 21, n),
            "revenue_two_months_ago": rng.normal(4800, 300, n).round(1),
            "revenue_last_month": rng.normal(4900, 700, n).round(1),
            "revenue_current_month": rng.normal(5200, 800, n).round(1),
            "minutes_last_month": rng.integers(5, 24, n),
            "minutes_current_month": rng.integers(4, 24, n),
            "profit": rng.uniform(0.86, 7.43, n).round(2),
        }
    )
    score = (
        -0.35 * (frame["pages_per_visit"] - 8)
        - 0.25 * (frame["minutes_last_month"] - 13)
        + 3.0 * (frame["promo_share"] - 0.3)
        - 0.5 * (frame["marketing_6m"] - 4)
        + 0.2 * (frame["unpaid_items_quarter"] - 3)
        + rng.normal(0, 1.0, n)
    )
    frame[features.TARGET] = (score > np.quantile(score, 0.62)).astype("int64")
    for i in range(min(duplicate_pairs, n // 4)):  # copy customer i onto customer n-1-i, new profit
        source, copy = i, n - 1 - i
        for column in (features.TARGET, *features.DUPLICATE_KEY):
            frame.loc[copy, column] = frame.loc[source, column]
    return frame[[features.ID, features.TARGET, *features.FEATURES]]


def session_members(session: int) -> list[str]:
    """Processes still in the session `session` (pid and command line), zombies left out: what a
    command started with `start_new_session=True` left running."""
    import os

    import psutil

    members = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if os.getsid(process.pid) == session and process.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(f"{process.pid} {' '.join(process.info['cmdline'] or [])[:120]}")
        except (ProcessLookupError, psutil.Error):
            continue
    return members
