"""Write-audit-publish bookkeeping: publish only the batch the gate passed, exactly once.

A snapshot's staged features and its staged scores are *staged batches*: built, checked by
their layer's GX gate, then published into the table BI and the model read. `ops.staged_batches` records
each build (a new `batch_id`), which gate run passed it, and when it was published, so that
- a retry or second run of publish after success changes nothing (the batch is already
  published; the step says so and returns the published counts) instead of replacing the
  date's published rows with an empty staging table;
- a batch rebuilt after its gate ran is refused until it is gated again;
- nothing that was never staged or never passed the gate is published.
Every step holds the date's claim (etl/ops/claims.py), so another run cannot rebuild the batch
between its gate and publish.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

import sqlalchemy as sa

from etl.ops import claims
from etl.warehouse import db

if TYPE_CHECKING:  # GX is imported by the gate only
    from etl import quality

log = logging.getLogger(__name__)

Layer = Literal["features", "scoring"]
PIPELINES: dict[str, claims.Pipeline] = {"features": "ingest", "scoring": "score"}


class PublishRefused(RuntimeError):
    """The staged rows may not be published: never built, not gated, or rebuilt since."""


@dataclass(frozen=True)
class StagedBatch:
    layer: str
    snapshot_date: dt.date
    batch_id: uuid.UUID
    run_id: str
    rows: int
    staged_at: dt.datetime
    gate_run_id: uuid.UUID | None = None
    audited_at: dt.datetime | None = None  # the column ops.staged_batches.audited_at: when the gate passed it
    published_at: dt.datetime | None = None

    @property
    def params(self) -> dict[str, Any]:
        return {"layer": self.layer, "snapshot_date": self.snapshot_date, "batch_id": self.batch_id}


def record_staged(conn: sa.Connection, layer: Layer, snapshot_date: dt.date, run: str | None, rows: int) -> StagedBatch:
    """A new build of the date's staged rows (inside the transaction that built them)."""
    row = (
        db.run_sql(
            conn,
            "ops",
            "upsert_staged_batch",
            {
                "layer": layer,
                "snapshot_date": snapshot_date,
                "batch_id": uuid.uuid4(),
                "run_id": run or "unnamed",
                "rows": rows,
            },
        )
        .mappings()
        .one()
    )
    return StagedBatch(**row)


def current(conn: sa.Connection, layer: Layer, snapshot_date: dt.date) -> StagedBatch | None:
    row = (
        db.run_sql(conn, "ops", "select_staged_batch", {"layer": layer, "snapshot_date": snapshot_date})
        .mappings()
        .first()
    )
    return StagedBatch(**row) if row is not None else None


def gate(
    engine: sa.Engine,
    layer: Layer,
    snapshot_date: dt.date,
    run: str | None,
    *,
    step: str,
) -> quality.GateResult | None:
    """Run the layer's GX gate on the staged batch (its results in Data Docs) and record that it
    passed *this* batch.

    `step` is the calling step's name as the date's claim shows it (the step names itself: this
    bookkeeping sits below the pipelines and does not know how they are scheduled).
    Returns the gate's result (raises `QualityGateFailed`), or None without gating when the batch
    is already published (a retry after success).
    """
    from etl import data_docs, quality

    with engine.begin() as conn:
        batch = _held_batch(conn, layer, snapshot_date, run, step)
    if batch.published_at is not None:
        log.info(
            "%s of %s: batch %s was already published at %s (gate run %s); nothing to gate",
            layer,
            snapshot_date,
            batch.batch_id,
            batch.published_at,
            batch.gate_run_id,
        )
        return None
    result = quality.validate(engine, layer, snapshot_date, docs=data_docs.DataDocs())
    with engine.begin() as conn:
        claims.hold(conn, PIPELINES[layer], snapshot_date, run, step)
        updated = db.run_sql(
            conn, "ops", "update_staged_batch_audited", {**batch.params, "gate_run_id": result.run_id}
        ).rowcount
    if not updated:
        raise PublishRefused(
            f"{layer} of {snapshot_date}: the staged batch was rebuilt while gate run {result.run_id} checked it; "
            f"run the gate again before publishing"
        )
    return result


def publish(
    engine: sa.Engine,
    layer: Layer,
    snapshot_date: dt.date,
    run: str | None,
    count_staged: Callable[[sa.Connection], int],
    move_rows: Callable[[sa.Connection], None],
    *,
    step: str,
) -> bool:
    """In one transaction, after the layer's other publishes (sql/ops/lock_publish.sql): check the
    staged batch is the gated one, `move_rows` (replace the published date), mark it published
    and release the run's claim. False when it was already
    published (a retry): nothing is changed. `step`: the calling step's name, as in `gate`."""
    with engine.begin() as conn:
        db.run_sql(conn, "ops", "lock_publish", {"layer": layer})  # publishes of a layer take turns: no deadlock
        batch = _held_batch(conn, layer, snapshot_date, run, step)
        if batch.published_at is not None:
            log.info(
                "%s of %s: batch %s already published at %s; nothing to do",
                layer,
                snapshot_date,
                batch.batch_id,
                batch.published_at,
            )
            claims.release(conn, PIPELINES[layer], snapshot_date, run)
            return False
        if batch.gate_run_id is None:
            raise PublishRefused(
                f"{layer} of {snapshot_date}: staged batch {batch.batch_id} (built {batch.staged_at:%Y-%m-%d %H:%M:%S} "
                f"by {batch.run_id}) has not passed the gate since it was built; run the gate first"
            )
        staged = count_staged(conn)
        if staged != batch.rows or staged == 0:
            raise PublishRefused(
                f"{layer} of {snapshot_date}: {staged} staged rows, but the gated batch {batch.batch_id} had "
                f"{batch.rows}; rebuild and gate it again"
            )
        move_rows(conn)
        db.run_sql(conn, "ops", "update_staged_batch_published", batch.params)
        claims.release(conn, PIPELINES[layer], snapshot_date, run)
    return True


def _held_batch(conn: sa.Connection, layer: Layer, snapshot_date: dt.date, run: str | None, step: str) -> StagedBatch:
    """Hold the date's claim for `run`, then read (and lock) its staged batch, which must exist."""
    claims.hold(conn, PIPELINES[layer], snapshot_date, run, step)
    batch = current(conn, layer, snapshot_date)
    if batch is None:
        raise PublishRefused(f"{layer} of {snapshot_date}: nothing was staged for this date; build it first")
    return batch
