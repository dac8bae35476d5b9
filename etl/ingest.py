"""The steps of `churn_ingest`, callable without Airflow: load raw, build staging and features."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import sqlalchemy as sa

from etl import db, loader

log = logging.getLogger(__name__)


def load_raw(engine: sa.Engine, data_dir: Path | str, snapshot_date: dt.date) -> dict[str, int]:
    db.ensure_schema(engine)
    return loader.load_snapshot(engine, data_dir, snapshot_date)


def build_staging(engine: sa.Engine, snapshot_date: dt.date) -> dict[str, int]:
    """Rebuild the snapshot's staging rows (typos fixed, outlier rule) in one transaction."""
    with engine.begin() as conn:
        db.run_layer(conn, "staging", {"snapshot_date": snapshot_date})
        counts = db.run_sql(conn, "staging", "count_snapshot_rows", {"snapshot_date": snapshot_date}).mappings().one()
    log.info("staging %s: %s", snapshot_date, dict(counts))
    return dict(counts)


def build_features(engine: sa.Engine, snapshot_date: dt.date) -> dict[str, int]:
    """Rebuild the snapshot's feature rows from staging in one transaction."""
    with engine.begin() as conn:
        db.run_layer(conn, "features", {"snapshot_date": snapshot_date})
        counts = db.run_sql(conn, "features", "count_snapshot_rows", {"snapshot_date": snapshot_date}).mappings().one()
    log.info("features %s: %s", snapshot_date, dict(counts))
    return dict(counts)
