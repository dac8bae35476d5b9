"""The steps of `churn_ingest`, callable without Airflow.

load raw → gate raw → staging → staged features → gate features → publish. Features are
written, gated and only then published (write-audit-publish, etl/ops/batches.py):
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

from etl.ops import batches, claims
from etl.warehouse import db, settings

if TYPE_CHECKING:  # GX is imported by the gate steps only
    from etl import quality

log = logging.getLogger(__name__)

PIPELINE: claims.Pipeline = "ingest"


def load_raw(
    engine: sa.Engine, snapshot_date: dt.date, run: str | None = None, data_dir: Path | str | None = None
) -> dict[str, int]:
    """COPY the snapshot's four CSVs (from `data_dir`, else DATA_DIR) into its raw partitions;
    bad rows fail it, naming the file, column and rows. The nightly's first step checks the
    schema revision (it never changes the schema: `churn migrate` does)."""
    from etl.ingest import loader  # psycopg2's COPY: not needed to parse the DAG that names this step

    db.check_migrated(engine)
    data_dir = settings.export_dir(snapshot_date) if data_dir is None else data_dir
    return loader.load_snapshot(
        engine,
        data_dir,
        snapshot_date,
        hold=lambda conn: claims.hold(conn, PIPELINE, snapshot_date, run, "load_raw"),
    )


def validate_raw(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> quality.GateResult:
    """Run the raw layer's gate (GX) on the raw partitions, its results in Data Docs (raises QualityGateFailed)."""
    from etl import data_docs, quality

    with engine.begin() as conn:
        claims.hold(conn, PIPELINE, snapshot_date, run, "validate_raw")
    return quality.validate(engine, "raw", snapshot_date, docs=data_docs.DataDocs())


def build_staging(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> dict[str, int]:
    """Rebuild the snapshot's staging rows (typos fixed, outlier rule) in one transaction."""
    with engine.begin() as conn:
        claims.hold(conn, PIPELINE, snapshot_date, run, "build_staging")
        db.run_folder(conn, "staging", {"snapshot_date": snapshot_date})
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
            db.run_folder(conn, "staging", params)
        db.run_folder(conn, "features", params)
        counts = dict(db.run_sql(conn, "features", "count_staged_rows", params).mappings().one())
        batches.record_staged(conn, "features", snapshot_date, run, counts["customers"])
    log.info("staged features %s: %s", snapshot_date, counts)
    return counts


def validate_features(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> quality.GateResult | None:
    """Run the features layer's gate (GX) on the staged features; records that it passed this very build.
    None: already published."""
    return batches.gate(engine, "features", snapshot_date, run, step="validate_features")


def publish_features(engine: sa.Engine, snapshot_date: dt.date, run: str | None = None) -> dict[str, int]:
    """Move the gated staged features into features.customer_features, replacing that date, atomically.

    Refuses a staged batch that is missing, empty or not gated since it was built (`PublishRefused`);
    after a successful publish a retry returns the published counts and changes nothing.
    """
    params = {"snapshot_date": snapshot_date}
    published = batches.publish(
        engine,
        "features",
        snapshot_date,
        run,
        count_staged=lambda conn: (
            db.run_sql(conn, "features", "count_staged_rows", params).mappings().one()["customers"]
        ),
        move_rows=lambda conn: db.run_sql(conn, "features", "publish_customer_features", params),
        step="publish_features",
    )
    with engine.connect() as conn:
        counts = dict(db.run_sql(conn, "features", "count_snapshot_rows", params).mappings().one())
    log.info("%s features %s: %s", "published" if published else "already published", snapshot_date, counts)
    return counts
