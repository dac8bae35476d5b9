"""The test run's one trained champion: churn_retrain's steps with the reduced budget (logreg) on
the real export, trained once per `make test` however many pytest workers run, and registered
as the champion of any database that needs *some* model (`seed_champion`).

Only the tests that prove training, search, the gate and the card train models of their own
(test_training.py, test_outcomes.py). The artifact and the card are kept in a folder the whole
run shares, and the artifact's sha256 is checked against the registered one before every seed
(and again by the registry on every load).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from tests.helpers import rows

TRAINED_ON = dt.date(2026, 8, 31)  # the scoring chain's snapshot: the chain's champion is trained on its rows


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process of the run at a time (pytest-xdist workers share the folder)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _train(real_data_dir: Path, folder: Path) -> dict[str, Any]:
    """Train in a database of its own (dropped after), keep artifact and card in `folder`."""
    from etl.warehouse import db, server
    from job import pipelines

    url = server.create_database(f"churn_test_champion_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    try:
        db.migrate(engine)
        pipelines.execute(pipelines.INGEST, engine, TRAINED_ON, data_dir=real_data_dir)
        done = pipelines.execute(
            pipelines.RETRAIN, engine, TRAINED_ON, budget_name="reduced", families=["logreg"], n_jobs=2
        )
        outcome = done["apply_promotion_gate"]
        assert outcome["status"] == "champion", outcome
        [found] = rows(engine, "SELECT to_jsonb(r) AS row FROM ml.model_registry r WHERE status = 'champion'")
    finally:
        engine.dispose()
        server.drop_database(url)
    row = found["row"]
    for key, name in (("artifact_path", "model.joblib"), ("model_card_path", "model_card.html")):
        kept = folder / row["model_version"] / name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(row[key], kept)
        row[key] = str(kept)
    return row


def trained_champion(real_data_dir: Path, shared: Path) -> dict[str, Any]:
    """The run's champion registry row (as to_jsonb gives it); trained by the first caller."""
    stored = shared / "champion" / "registry_row.json"
    stored.parent.mkdir(parents=True, exist_ok=True)
    with _locked(shared / "champion.lock"):
        if not stored.exists():
            stored.write_text(json.dumps(_train(real_data_dir, stored.parent), default=str))
    return json.loads(stored.read_text())


def seed_champion(engine: sa.Engine, champion: dict[str, Any], *, trained_on: dt.date | None = None) -> str:
    """Register `champion` as the champion of the database behind `engine`; its version. The
    artifact is copied into this process's model store (MODEL_STORE_DIR), where the registry
    keeps its artifacts: a test that tampers with it touches no other worker's copy.
    `trained_on` moves its training snapshot, for snapshot dates whose month must already have a
    champion (churn_retrain not due)."""
    from ml import registry

    row = dict(champion)
    payload = Path(row["artifact_path"]).read_bytes()
    assert registry.sha256_bytes(payload) == row["artifact_sha256"]
    store = registry.artifact_path_for(row["model_version"])
    if not store.is_file() or registry.sha256_bytes(store.read_bytes()) != row["artifact_sha256"]:
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_bytes(payload)
    row["artifact_path"] = str(store)
    if trained_on is not None:
        row["training_snapshot"] = trained_on.isoformat()
    insert_model(engine, row)
    return row["model_version"]


def insert_model(engine: sa.Engine, row: dict[str, Any]) -> None:
    """Insert a registry row as it is (status included), e.g. one read with to_jsonb(r)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO ml.model_registry "
                "SELECT * FROM jsonb_populate_record(NULL::ml.model_registry, CAST(:row AS jsonb))"
            ),
            {"row": json.dumps(row, default=str)},
        )


@pytest.fixture(scope="session")
def champion(tmp_path_factory, real_data_dir) -> dict[str, Any]:
    """The run's champion row; the folder is shared by every pytest-xdist worker of the run."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    return trained_champion(real_data_dir, shared)
