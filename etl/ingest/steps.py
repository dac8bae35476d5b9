"""The steps of `churn_ingest`, callable without Airflow.

load raw → gate raw → staging → staged features → gate features → publish. Features are
written, audited and only then published (write-audit-publish, etl/ops/batches.py):
`features.customer_features` holds gated snapshots only, a rejected rerun leaves the published
rows of its date intact, and a retry of publish after success changes nothing.

Every step holds the date's claim (etl/ops/claims.py) inside its transaction: `run` is the id of
the whole run (Airflow: dag_id/run_id); a step of another run of the same date is refused with
`SnapshotBusy`. `run=None` (one step called from a script or test) claims nothing across steps.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from etl.ingest import loader
from etl.ops import batches, claims
from etl.warehouse import db

if TYPE_CHECKING:  # GX is imported by the gate steps only
    from etl import quality

log = logging.getLogger(__name__)

PIPELINE: claims.Pipeline = "ingest"


def load_raw(engine: sa.Engine, data_dir: Path | str, snapshot_date: dt.date, run: str | None = None) -> dict[str, int]:
    """COPY the snapshot's four CSVs into its raw partitions. The nightly's first step checks the
    schema revision (it never changes the schema: `churn migrate` does)."""
    db.check_migrated(engine)
    return loader.load_snapshot(
        engine, data_dir, snapshot_date,
        hold=lambda conn: claims.hold(conn, PIPELINE, snapshot_date, run, "load_raw"),
    )


def validate_raw(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> quality.GateResult:
    """GX gate on the raw partitions (raises QualityGateFailed)."""
    from etl import quality

    with engine.begin() as conn:
        claims.hold(conn, PIPELINE, snapshot_date, run, "validate_raw")
    return quality.validate(engine, "raw", snapshot_date)


def build_staging(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> dict[str, int]:
    """Rebuild the snapshot's staging rows (typos fixed, outlier rule) in one transaction."""
    with engine.begin() as conn:
        claims.hold(conn, PIPELINE, snapshot_date, run, "build_staging")
        db.run_layer(conn, "staging", {"snapshot_date": snapshot_date})
        counts = db.run_sql(conn, "staging", "count_snapshot_rows", {"snapshot_date": snapshot_date}).mappings().one()
    log.info("staging %s: %s", snapshot_date, dict(counts))
    return dict(counts)


def build_features(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> dict[str, int]:
    """Rebuild the snapshot's features into *staged* from staging in one transaction (not yet published)."""
    params = {"snapshot_date": snapshot_date}
    with engine.begin() as conn:
        claims.hold(conn, PIPELINE, snapshot_date, run, "build_features")
        if not db.run_sql(conn, "staging", "count_snapshot_rows", params).mappings().one()["customers"]:
            # staging is UNLOGGED: a server crash since build_staging emptied it; a retry of this
            # task rebuilds it from raw (raw is logged) instead of building no features
            log.warning("staging of %s is empty (server restart?): rebuilding it from raw", snapshot_date)
            db.run_layer(conn, "staging", params)
        db.run_layer(conn, "features", params)
        counts = dict(db.run_sql(conn, "features", "count_staged_rows", params).mappings().one())
        batches.record_staged(conn, "features", snapshot_date, run, counts["customers"])
    log.info("staged features %s: %s", snapshot_date, counts)
    return counts


def validate_features(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> quality.GateResult | None:
    """GX gate on the staged features; records that it passed this very build. None: already published."""
    return batches.audit(engine, "features", snapshot_date, run)


def publish_features(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> dict[str, int]:
    """Move the audited staged features into features.customer_features, replacing that date, atomically.

    Refuses a staged batch that is missing, empty or not gated since it was built (`PublishRefused`);
    after a successful publish a retry returns the published counts and changes nothing.
    """
    params = {"snapshot_date": snapshot_date}
    published = batches.publish(
        engine, "features", snapshot_date, run,
        count_staged=lambda conn: db.run_sql(conn, "features", "count_staged_rows", params).mappings().one()["customers"],
        move_rows=lambda conn: db.run_sql(conn, "features", "publish_customer_features", params),
    )
    with engine.connect() as conn:
        counts = dict(db.run_sql(conn, "features", "count_snapshot_rows", params).mappings().one())
    log.info("%s features %s: %s", "published" if published else "already published", snapshot_date, counts)
    return counts


def run_snapshot(engine: sa.Engine, data_dir: Path | str, snapshot_date: dt.date, run: str | None = None) -> dict[str, int]:
    """The whole of churn_ingest in one call (for tests, backfills and scripts): raises at the
    first rejection (`LoadError` or `QualityGateFailed`), exactly where the DAG would stop."""
    run = run or claims.script_run_id()
    try:
        load_raw(engine, data_dir, snapshot_date, run)
        validate_raw(engine, snapshot_date, run)
        build_staging(engine, snapshot_date, run)
        build_features(engine, snapshot_date, run)
        validate_features(engine, snapshot_date, run)
        return publish_features(engine, snapshot_date, run)
    except BaseException:
        claims.release_run(engine, run)
        raise
