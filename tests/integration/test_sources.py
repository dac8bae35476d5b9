"""The raw export is declared once, in etl/warehouse/sources.py; the SQL that must spell its columns
out (raw tables, landing tables, insert statements) and the raw suites agree with it.

Checked against the warehouse catalogue, not by parsing SQL: what counts is what Postgres built.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl import quality
from etl.warehouse import db
from etl.warehouse.sources import SOURCES, Source
from tests.helpers import rows

BOOKKEEPING = ("snapshot_date", "source_file", "loaded_at")  # added by the loader, not in the CSV
TYPES = {"int": {"integer", "bigint"}, "float": {"double precision"}, "text": {"text"}}
SUITES = {suite.table: suite for suite in quality.load_suites("raw")}


def table_columns(engine: sa.Engine, schema: str, table: str) -> list[dict]:
    return rows(
        engine,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = :s AND table_name = :t ORDER BY ordinal_position",
        s=schema,
        t=table,
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.file_name)
def test_raw_tables_hold_the_declared_columns_with_their_kinds(engine, source: Source):
    columns = [c for c in table_columns(engine, "raw", source.table) if c["column_name"] not in BOOKKEEPING]
    assert [c["column_name"] for c in columns] == [c.name for c in source.columns]
    for declared, built in zip(source.columns, columns):
        assert built["data_type"] in TYPES[declared.kind], (source.table, declared.name, built["data_type"])
        assert (built["is_nullable"] == "YES") == declared.nullable, (source.table, declared.name)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.file_name)
def test_landing_tables_take_every_declared_column_as_text(engine, source: Source):
    with engine.begin() as conn:
        db.run_sql(conn, "raw", "create_load_tables")
        landed = conn.execute(
            sa.text(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
            ),
            {"t": f"load_{source.table}"},
        ).all()
        conn.rollback()
    assert [name for name, _ in landed] == ["line_no", *(c.name for c in source.columns)]
    assert {kind for name, kind in landed if name != "line_no"} == {"text"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.file_name)
def test_insert_statements_read_every_declared_column(engine, source: Source):
    from etl.ingest import casts

    with engine.connect() as conn:
        statement = casts.insert_statement(source).as_string(conn.connection.dbapi_connection)
    missing = [c.name for c in source.columns if f'"{c.name}"' not in statement.split("SELECT", 1)[1]]
    assert missing == [], f"the INSERT into raw.{source.table} does not read {missing}"


def test_every_raw_table_has_a_suite_naming_its_file():
    for source in SOURCES:
        suite = SUITES[f"raw.{source.table}"]
        assert suite.source_file == source.file_name
