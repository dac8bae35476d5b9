"""Query results as a stream of DataFrames, for jobs whose input does not fit in memory at once."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Mapping

import sqlalchemy as sa

from etl.warehouse import db

if TYPE_CHECKING:
    import pandas as pd


def stream_frames(
    conn: sa.Connection, layer: str, name: str, params: Mapping[str, Any], chunk_size: int
) -> Iterator[pd.DataFrame]:
    """Rows of sql/<layer>/<name>.sql as DataFrames of at most `chunk_size` rows.

    A server-side (named) cursor keeps memory flat; the result is closed explicitly even when
    the consumer stops early, so no named cursor outlives its transaction.
    """
    import pandas as pd

    result = conn.execution_options(stream_results=True, max_row_buffer=chunk_size).execute(
        sa.text(db.read_sql(layer, name)), dict(params)
    )
    try:
        columns = list(result.keys())
        while True:
            batch = result.fetchmany(chunk_size)
            if not batch:
                break
            yield pd.DataFrame.from_records(batch, columns=columns)
    finally:
        result.close()
