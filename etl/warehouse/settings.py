"""Configuration, read only from the environment (contract names: WAREHOUSE_URL, DATA_DIR —
the latter resolved per snapshot by export_dir)."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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


def export_dir(snapshot_date: dt.date) -> Path:
    """The folder of a snapshot's four CSV exports: `DATA_DIR`, where a `{snapshot_date}`
    placeholder is replaced by the ISO date."""
    value = os.environ.get("DATA_DIR")
    if not value:
        raise ConfigError("DATA_DIR is not set: point it at the folder with the four CSV exports")
    return Path(value.replace("{snapshot_date}", snapshot_date.isoformat()))


def model_store_dir() -> Path:
    path = Path(os.environ.get("MODEL_STORE_DIR", local_dir() / "models"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def reports_dir() -> Path:
    """Data Docs, model cards and other HTML a person opens."""
    path = Path(os.environ.get("REPORTS_DIR", local_dir() / "reports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class ConfigError(ValueError):
    """A setting has a value the job cannot use; the message names the setting."""


def parse_date(value: object, name: str) -> dt.date:
    """A calendar date from YYYY-MM-DD text (or a date); `name` says where the value came from."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-27") from None


def snapshot_date_from_env() -> dt.date:
    """`SNAPSHOT_DATE` (YYYY-MM-DD) for `make run`; today when unset."""
    value = os.environ.get("SNAPSHOT_DATE")
    return parse_date(value, "SNAPSHOT_DATE") if value else dt.date.today()
