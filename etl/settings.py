"""Configuration, read only from the environment (contract names: WAREHOUSE_URL, DATA_DIR —
the latter resolved per snapshot by etl.runtime.data_dir_for)."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = PROJECT_ROOT / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


def local_dir() -> Path:
    """Git-ignored working folder: embedded Postgres data, generated data, models, reports."""
    path = Path(os.environ.get("LOCAL_DIR", PROJECT_ROOT / ".local"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def warehouse_url_from_env() -> str | None:
    """`WAREHOUSE_URL` if set; unset means the embedded Postgres (see etl.warehouse)."""
    return os.environ.get("WAREHOUSE_URL") or None


def model_store_dir() -> Path:
    path = Path(os.environ.get("MODEL_STORE_DIR", local_dir() / "models"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def reports_dir() -> Path:
    """Data Docs, model cards and other HTML a person opens."""
    path = Path(os.environ.get("REPORTS_DIR", local_dir() / "reports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def snapshot_date_from_env() -> dt.date:
    """`SNAPSHOT_DATE` (YYYY-MM-DD) for `make run`; today when unset."""
    value = os.environ.get("SNAPSHOT_DATE")
    return dt.date.fromisoformat(value) if value else dt.date.today()
