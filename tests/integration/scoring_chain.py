"""The chain the scoring tests share, run once per test session: churn_ingest → the run's
champion registered (tests/integration/champion.py: churn_retrain's steps, reduced search,
logreg, on the same export) → churn_score on the real export, the DAGs with dag.test().

It runs in a warehouse database of its own (created beside the session's test database, dropped
when the session ends): the registry has one champion per database, and other test modules (retrain, quality)
register and promote models in the session database while these tests run, which would swap the
model behind the scores between the chain and the assertions.

Kept out of conftest so that only the modules that need the chain pay for it: test modules call `ensure_scored(...)` from a fixture and
`use_chain_warehouse(monkeypatch, chain)` before running DAGs themselves; the chain is cached per
session, so test_churn_score, test_mart_views, test_claims and test_fault_drill share one run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
import sqlalchemy as sa

from tests.helpers import SettingsPatch, load_dag, rows, task_states
from tests.integration.champion import TRAINED_ON, seed_champion

SNAPSHOT = TRAINED_ON  # the champion was trained on this export's rows
LOGICAL = dt.datetime(2026, 8, 31, tzinfo=dt.timezone.utc)
_CACHE: dict[str, dict[str, Any]] = {}


def _create_database(session_url: str, add_finalizer: Callable[[Callable[[], None]], None]) -> str:
    """A fresh database on the session's server with the schema applied; dropped when the
    test session ends (`add_finalizer` = `request.session.addfinalizer`)."""
    from etl.warehouse import db, server

    url = server.create_database(f"churn_test_scoring_{uuid.uuid4().hex[:8]}")
    db.migrate(db.get_engine(url))

    def drop() -> None:
        db.get_engine(url).dispose()
        server.drop_database(url)
        _CACHE.clear()

    add_finalizer(drop)
    return url


def ensure_scored(
    session_url: str, data_dir: Path, add_finalizer: Callable[[Callable[[], None]], None], champion: dict[str, Any]
) -> dict[str, Any]:
    """Run the chain once per session in its own database; return runs and engine."""
    if "chain" in _CACHE:
        return _CACHE["chain"]
    from etl.warehouse import db

    url = _create_database(session_url, add_finalizer)
    with SettingsPatch.context() as patch:
        patch.setenv("DATA_DIR", str(data_dir))
        patch.setenv("WAREHOUSE_URL", url)
        ingest = load_dag("churn_ingest").test(logical_date=LOGICAL)
        assert ingest.state == "success", task_states(ingest)
        seed_champion(db.get_engine(url), champion)
        score = load_dag("churn_score").test(logical_date=LOGICAL)
    engine = db.get_engine(url)
    registered = rows(
        engine, "SELECT model_version, status, run_key FROM ml.model_registry WHERE training_snapshot = :d", d=SNAPSHOT
    )
    _CACHE["chain"] = {
        "url": url,
        "engine": engine,
        "ingest": ingest,
        "score": score,
        "score_states": task_states(score),
        "registered": registered,
    }
    return _CACHE["chain"]


def use_chain_warehouse(monkeypatch, chain: dict[str, Any], data_dir: Path | None = None) -> None:
    """Point DAG tasks (they read WAREHOUSE_URL) at the chain's database for one test."""
    monkeypatch.setenv("WAREHOUSE_URL", chain["url"])
    if data_dir is not None:
        monkeypatch.setenv("DATA_DIR", str(data_dir))


def published(engine: sa.Engine, snapshot: dt.date = SNAPSHOT) -> list[dict]:
    """The published scores of a date without scored_at (what a rerun must reproduce)."""
    return rows(
        engine,
        "SELECT score_date, customer_id, model_version, churn_probability, risk_band, segment, offer, "
        "top_factors, profit, rules_version, offer_group FROM scoring.churn_scores WHERE score_date = :d ORDER BY customer_id",
        d=snapshot,
    )


# Fixtures for the modules that read the chain's scores (import them by name into the module).
@pytest.fixture(scope="module")
def chain(request, airflow_db, warehouse_url, real_data_dir, champion):
    return ensure_scored(warehouse_url, real_data_dir, request.session.addfinalizer, champion)


@pytest.fixture(scope="module")
def engine(chain):
    """The chain's own warehouse (overrides the session `engine` in the importing module)."""
    return chain["engine"]


@pytest.fixture(autouse=True)
def _chain_warehouse(chain, monkeypatch, real_data_dir):
    use_chain_warehouse(monkeypatch, chain, real_data_dir)
