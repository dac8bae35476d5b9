"""Query results streamed by COPY keep their rows, order and types, chunk by chunk."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from etl.warehouse import frames

pytestmark = pytest.mark.integration


@pytest.fixture
def query(tmp_path, monkeypatch):
    """A SQL file of our own in a temporary sql/ tree."""
    from etl.warehouse import db, settings

    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "select_rows.sql").write_text(
        "-- rows of every type the scorer reads\n"
        "SELECT g AS id, g * 0.5 AS half, g % 2 = 0 AS even, 'name, \"' || g || '\"' AS label,\n"
        "       CASE WHEN g % 3 = 0 THEN NULL ELSE g END AS sometimes, DATE '2026-11-01' + g AS day,\n"
        "       '50%' AS percent\n"
        "FROM generate_series(1, :n) AS g ORDER BY g::text;\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(settings, "SQL_DIR", tmp_path)
    db.read_sql.cache_clear()
    yield "probe", "select_rows"
    db.read_sql.cache_clear()


def test_rows_arrive_in_query_order_with_their_types(engine, query):
    with engine.connect() as conn:
        chunks = list(frames.stream_frames(conn, *query, {"n": 25}, chunk_size=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    import pandas as pd

    frame = pd.concat(chunks, ignore_index=True)
    assert frame["id"].tolist() == sorted(range(1, 26), key=str)
    assert frame["id"].dtype == "int64" and frame["half"].dtype == "float64" and frame["even"].dtype == bool
    row = frame.set_index("id").loc[12]
    assert row["half"] == 6.0 and row["even"] and row["label"] == 'name, "12"' and row["percent"] == "50%"
    assert row["day"] == dt.date(2026, 11, 13)
    assert frame.set_index("id")["sometimes"].isna().tolist() == [i % 3 == 0 for i in sorted(range(1, 26), key=str)]


def test_stopping_early_leaves_the_pool_usable(engine, query):
    with engine.connect() as conn:
        stream = frames.stream_frames(conn, *query, {"n": 200_000}, chunk_size=1000)
        first = next(stream)
        stream.close()
        assert len(first) == 1000
        assert conn.invalidated  # not handed back to the pool in the middle of a COPY
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
