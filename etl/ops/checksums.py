"""What a rerun of a snapshot date must reproduce row for row: the layers' checksums.

Every write is keyed by the snapshot date and idempotent (etl/ops/README.md), so the rows of a
date after any fault and its retries must equal those of a clean run on the same export. The
fault drills and `make soak` compare these checksums to prove it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

# Every table a run writes, with its date column.
LAYER_TABLES = {
    "raw.market_file": "snapshot_date",
    "raw.market_money": "snapshot_date",
    "raw.market_time": "snapshot_date",
    "raw.money": "snapshot_date",
    "staging.customers": "snapshot_date",
    "staging.revenue": "snapshot_date",
    "staging.minutes": "snapshot_date",
    "staging.profit": "snapshot_date",
    "features.customer_features": "snapshot_date",
    "scoring.churn_scores": "score_date",
    "scoring.targeting_decisions": "score_date",
    "scoring.targeting_segments": "score_date",
}
VOLATILE_COLUMNS = "ARRAY['loaded_at', 'scored_at', 'decided_at', 'source_file']"  # when and from which folder


def layer_checksums(
    engine: sa.Engine, snapshot_date: dt.date, tables: dict[str, str] | None = None
) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the sorted rows without timestamps) per table for one date."""
    out = {}
    with engine.connect() as conn:
        for table, column in (tables or LAYER_TABLES).items():  # names are constants of this module
            query = (
                f"SELECT count(*) AS n, md5(coalesce(string_agg(j, E'\\n' ORDER BY j), '')) AS sum "
                f"FROM (SELECT (to_jsonb(t) - {VOLATILE_COLUMNS})::text AS j FROM {table} t WHERE {column} = :d) s"
            )
            row = conn.execute(sa.text(query), {"d": snapshot_date}).one()
            out[table] = (row.n, row.sum)
    return out
