"""What each phase is compared with, measured in the same run on the same files and database:
the physical limit of a load (plain COPY), the naive load (pandas `to_sql`) and the naive scorer
(read the whole snapshot into pandas, `predict_proba`, nothing else)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import sqlalchemy as sa

from etl.warehouse import db
from etl.warehouse.sources import SOURCES


def plain_copy(engine: sa.Engine, data_dir: Path) -> dict[str, float]:
    """COPY FROM STDIN of the four files, as they are, into text tables: no checks, no types,
    no partitions — as fast as the server takes CSV (rolled back, nothing kept)."""
    rows, started = 0, time.perf_counter()
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        for source in SOURCES:
            table = f"plain_{source.table}"
            columns = ", ".join(f"{c.name} text" for c in source.columns)
            cursor.execute(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP")
            delimiter = ";" if source.delimiter == ";" else ","
            with (data_dir / source.file_name).open("rb") as stream:
                stream.readline()  # header
                cursor.copy_expert(
                    f"COPY {table} FROM STDIN WITH (FORMAT csv, DELIMITER '{delimiter}')", stream, size=1 << 20
                )
            rows += cursor.rowcount
        seconds = time.perf_counter() - started
        conn.rollback()
    return _result(rows, seconds)


def pandas_to_sql(engine: sa.Engine, data_dir: Path, limit: int) -> dict[str, float]:
    """pandas read_csv + to_sql (multi-row INSERTs) of the revenue file's first `limit` rows."""
    import pandas as pd

    frame = pd.read_csv(data_dir / "market_money.csv", nrows=limit)
    started = time.perf_counter()
    frame.to_sql("naive_market_money", engine, schema="public", if_exists="replace", index=False, chunksize=10_000)
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE public.naive_market_money"))
    return _result(len(frame), seconds)


def read_all_predict_proba(engine: sa.Engine, snapshot_date: dt.date) -> dict[str, float]:
    """pandas.read_sql of the whole snapshot, then predict_proba: no reasons, segments or
    writes, and memory that grows with the snapshot — what a notebook would do."""
    import pandas as pd

    from ml import features, registry

    started = time.perf_counter()
    bundle, _ = registry.load_champion(engine)
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text(db.read_sql("scoring", "select_scoring_input")),
            conn,
            params={"score_date": snapshot_date, "shard": 0, "shards": 1},
        )
    bundle["model"].predict_proba(features.to_model_input(frame))
    return _result(len(frame), time.perf_counter() - started)


def _result(rows: int, seconds: float) -> dict[str, float]:
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds) if seconds else None}
