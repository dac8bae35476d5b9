"""The steps of `churn_ingest`, callable without Airflow.

load raw → gate raw → staging → feature candidate → gate features → publish. Features are
written, audited and only then published (write-audit-publish): `features.customer_features`
holds gated snapshots only, and a rejected rerun leaves the published rows of its date intact.
"""
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
    """Rebuild the snapshot's feature *candidate* from staging in one transaction (not yet published)."""
    params = {"snapshot_date": snapshot_date}
    with engine.begin() as conn:
        db.run_layer(conn, "features", params)
        counts = db.run_sql(conn, "features", "count_candidate_rows", params).mappings().one()
    log.info("feature candidate %s: %s", snapshot_date, dict(counts))
    return dict(counts)


def publish_features(engine: sa.Engine, snapshot_date: dt.date) -> dict[str, int]:
    """Move the gated candidate into features.customer_features, replacing that date, atomically."""
    params = {"snapshot_date": snapshot_date}
    with engine.begin() as conn:
        db.run_sql(conn, "features", "publish_customer_features", params)
        counts = db.run_sql(conn, "features", "count_snapshot_rows", params).mappings().one()
    log.info("published features %s: %s", snapshot_date, dict(counts))
    return dict(counts)


def run_snapshot(engine: sa.Engine, data_dir: Path | str, snapshot_date: dt.date) -> dict[str, int]:
    """The whole of churn_ingest in one call (for tests, backfills and scripts): raises at the
    first rejection (`LoadError` or `QualityGateFailed`), exactly where the DAG would stop."""
    from etl import quality

    load_raw(engine, data_dir, snapshot_date)
    quality.validate(engine, "raw", snapshot_date)
    build_staging(engine, snapshot_date)
    build_features(engine, snapshot_date)
    quality.validate(engine, "features", snapshot_date)
    return publish_features(engine, snapshot_date)
