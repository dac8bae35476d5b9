"""Load one snapshot of the four CSV exports into `raw.*` with COPY, all-or-nothing.

Each file is streamed with COPY FROM STDIN into a temporary text table (nothing is parsed row by
row in Python), checked there in SQL (types, empties, ranges a column type can hold), and only
when all four files are good are the snapshot's raw partitions replaced, in the same transaction.
So a bad file raises `LoadError` naming the file, column and lines, and every existing partition
stays exactly as it was.

Accepted variants of the export (same values after loading): CRLF or LF endings, no final newline,
a UTF-8 BOM, columns in any order, money.csv with ';' + decimal comma, ',' + '.', or ',' with
quoted "0,98", and integer-looking decimals ("5" for 5.0).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import BinaryIO, Sequence

import sqlalchemy as sa
from psycopg2 import sql as pgsql

from etl import db
from etl.sources import SOURCES, Column, Source

log = logging.getLogger(__name__)

UTF8_BOM = b"\xef\xbb\xbf"
SAMPLE_SIZE = 5
INT_PATTERN = r"^\s*[-+]?[0-9]+\s*$"
FLOAT_PATTERN = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
INT_MAX_DIGITS = {"customer_id": 18}
DEFAULT_INT_MAX_DIGITS = 9  # fits `integer`


class LoadError(ValueError):
    """A snapshot was rejected; the message names the file, column and (file) line numbers."""

    def __init__(
        self,
        file_name: str,
        problem: str,
        column: str | None = None,
        lines: Sequence[int] = (),
        samples: Sequence[str | None] = (),
    ) -> None:
        self.file_name = file_name
        self.column = column
        self.lines = list(lines)
        self.problem = problem
        where = file_name + (f", column '{column}'" if column else "")
        message = f"{where}: {problem}"
        if lines:
            message += " at line " + ", ".join(str(n) for n in lines[:SAMPLE_SIZE])
            if len(lines) > SAMPLE_SIZE:
                message += ", …"
        if samples:
            message += " (values: " + ", ".join(repr(s) for s in samples[:SAMPLE_SIZE]) + ")"
        super().__init__(message)


def load_snapshot(engine: sa.Engine, data_dir: Path | str, snapshot_date: dt.date) -> dict[str, int]:
    """Replace the snapshot's raw partitions with the four files in `data_dir`; rows per file."""
    data_dir = Path(data_dir)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL client_encoding = 'UTF8'"))
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(727002)"))  # one raw load at a time
        db.run_sql(conn, "raw", "create_load_tables")
        for source in SOURCES:
            counts[source.file_name] = _copy_into_load_table(conn, source, data_dir / source.file_name)
            _check_load_table(conn, source)
        params = {"snapshot_date": snapshot_date, "source_dir": str(data_dir.resolve())}
        db.run_sql(conn, "raw", "replace_snapshot_partitions", params)
        for source in SOURCES:
            db.run_sql(conn, "raw", f"insert_{source.table}", params)
        db.run_sql(conn, "raw", "analyze_snapshot_partitions", params)
    log.info("loaded snapshot %s from %s: %s", snapshot_date, data_dir, counts)
    return counts


def _copy_into_load_table(conn: sa.Connection, source: Source, path: Path) -> int:
    """Stream the file body into load_<table> with COPY; return the number of data rows."""
    if not path.is_file():
        raise LoadError(source.file_name, f"file is missing (expected {path})")
    with path.open("rb") as stream:
        columns, delimiter = _read_header(stream, source)
        copy = pgsql.SQL(
            "COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, DELIMITER {delimiter})"
        ).format(
            table=pgsql.Identifier(f"load_{source.table}"),
            columns=pgsql.SQL(", ").join(pgsql.Identifier(c.name) for c in columns),
            delimiter=pgsql.Literal(delimiter),
        )
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.copy_expert(copy, stream, size=1 << 20)
            rows = cursor.rowcount
        except Exception as error:  # psycopg2 errors carry the COPY line in diag.context
            raise _copy_error(source, error) from error
        finally:
            cursor.close()
    if rows <= 0:
        raise LoadError(source.file_name, "file has a header but no data rows")
    return rows


def _read_header(stream: BinaryIO, source: Source) -> tuple[list[Column], str]:
    """Check the header line; return the columns in file order and the separator."""
    first = stream.readline()
    if not first.strip():
        raise LoadError(source.file_name, "file is empty")
    if first.startswith(UTF8_BOM):
        first = first[len(UTF8_BOM):]
    try:
        header = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise LoadError(source.file_name, f"not UTF-8 text ({error.reason} at byte {error.start})", lines=[1]) from None
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = [name.strip().strip('"') for name in header.split(delimiter)]
    known = source.by_header()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise LoadError(source.file_name, "unknown column in header", column=", ".join(unknown), lines=[1])
    missing = [c.header for c in source.columns if c.header not in names]
    if missing:
        raise LoadError(source.file_name, "column missing from header", column=", ".join(missing), lines=[1])
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LoadError(source.file_name, "column repeated in header", column=", ".join(repeated), lines=[1])
    return [known[n] for n in names], delimiter


def _copy_error(source: Source, error: Exception) -> LoadError:
    """Turn a COPY failure into a LoadError with the file's own line number and column."""
    diag = getattr(error, "diag", None)
    context = (getattr(diag, "context", None) or "") if diag else ""
    primary = (getattr(diag, "message_primary", None) or str(error)).strip() if diag else str(error).strip()
    line_match = re.search(r"line (\d+)", context)
    lines = [int(line_match.group(1)) + 1] if line_match else []  # +1: the header line
    column_match = re.search(r'column "?([A-Za-z_0-9]+)"?', primary) or re.search(r"column ([A-Za-z_0-9]+)", context)
    names = {c.name: c.header for c in source.columns}
    column = names.get(column_match.group(1)) if column_match else None
    if "invalid byte sequence" in primary:
        primary = f"not UTF-8 text ({primary})"
    elif "missing data for column" in primary:
        primary = "row has fewer fields than the header (truncated line or wrong separator)"
    elif "extra data after last expected column" in primary:
        primary = "row has more fields than the header (wrong separator or unquoted value)"
    return LoadError(source.file_name, primary, column=column, lines=lines)


def _check_load_table(conn: sa.Connection, source: Source) -> None:
    """Reject empties where not allowed and values the raw column type cannot hold.

    One scan counts the bad values of every column; sample lines are fetched only for a column
    that has any, so a good file costs a single pass over the landing table.
    """
    checks = [(column, predicate) for column in source.columns if (predicate := _bad_value_predicate(column))]
    table = pgsql.Identifier(f"load_{source.table}")
    counts_query = pgsql.SQL("SELECT {counts} FROM {table}").format(
        counts=pgsql.SQL(", ").join(pgsql.SQL("count(*) FILTER (WHERE {p})").format(p=p) for _, p in checks),
        table=table,
    )
    bad_counts = _fetch(conn, counts_query)[0]
    for (column, predicate), bad_count in zip(checks, bad_counts):
        if not bad_count:
            continue
        sample_query = pgsql.SQL(
            "SELECT line_no + 1, {col} FROM {table} WHERE {predicate} ORDER BY line_no LIMIT {limit}"
        ).format(col=pgsql.Identifier(column.name), table=table, predicate=predicate,
                 limit=pgsql.Literal(SAMPLE_SIZE + 1))
        bad = _fetch(conn, sample_query)
        empty = all(value is None or not value.strip() for _, value in bad)
        problem = "empty value" if empty else f"value is not {_kind_words(column)}"
        raise LoadError(
            source.file_name,
            f"{problem} in {bad_count} row(s)",
            column=column.header,
            lines=[line for line, _ in bad],
            samples=[] if empty else [value for _, value in bad],
        )


def _fetch(conn: sa.Connection, query: pgsql.Composable) -> list[tuple]:
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(query)
        return cursor.fetchall()
    finally:
        cursor.close()


def _bad_value_predicate(column: Column) -> pgsql.Composable | None:
    value = pgsql.Identifier(column.name)
    empty = pgsql.SQL("({v} IS NULL OR btrim({v}) = '')").format(v=value)
    if column.kind == "text":
        return None if column.nullable else empty
    if column.kind == "int":
        digits = INT_MAX_DIGITS.get(column.name, DEFAULT_INT_MAX_DIGITS)
        return pgsql.SQL("({empty} OR {v} !~ {pattern} OR length(ltrim(btrim({v}), '+-0')) > {digits})").format(
            empty=empty, v=value, pattern=pgsql.Literal(INT_PATTERN), digits=pgsql.Literal(digits)
        )
    return pgsql.SQL(
        "(CASE WHEN replace({v}, ',', '.') ~ {pattern}"
        " THEN abs(replace(btrim({v}), ',', '.')::numeric) >= 1e300 ELSE true END)"
    ).format(v=value, pattern=pgsql.Literal(FLOAT_PATTERN))


def _kind_words(column: Column) -> str:
    return {"int": "a whole number", "float": "a number"}.get(column.kind, "text")
