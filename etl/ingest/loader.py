"""Load one snapshot of the four CSV exports into `raw.*` with COPY, all-or-nothing.

Each file is first COPYed typed straight into the snapshot's raw partition, under a CHECK that
accepts only values the checks below accept and would store the same (etl/ingest/typed_copy.py):
one write, nothing parsed row by row in Python. When that refuses anything (a decimal comma,
spaces around a text, a bad value) it is rolled back and the checked path runs: COPY FROM STDIN
into a temporary text table, then one INSERT … SELECT that checks, converts and writes
(etl/ingest/casts.py), all in the load's one transaction. Only when the database refuses a row
are the checks run one by one, to name the file, column and lines (invisible characters shown as
escapes, etl/warehouse/text.py); the transaction then rolls back and every existing partition
stays. Then, still inside it, market_file is compared with the nearest other snapshot to catch
exchanged header names (etl/ingest/column_profile.py).

Accepted variants of the export (same values after loading): CRLF or LF endings, no final newline,
a UTF-8 BOM, columns in any order, money.csv with ';' + decimal comma, ',' + '.', or ',' with
quoted "0,98", and integer-looking decimals ("5" for 5.0).
Needs PostgreSQL 16+: `pg_input_is_valid` tests a number text without raising (e.g. on 1e-99999).
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
from pathlib import Path
from typing import BinaryIO, Callable, Sequence

import psycopg2
import sqlalchemy as sa
from psycopg2 import sql as pgsql

from etl.ingest import casts, column_profile, typed_copy
from etl.ingest.casts import SPACES
from etl.warehouse import db
from etl.warehouse.sources import MARKET_FILE, SOURCES, Column, Source
from etl.warehouse.text import has_hidden_characters, quoted, visible

log = logging.getLogger(__name__)

UTF8_BOM = b"\xef\xbb\xbf"
SAMPLE_SIZE = 5
SAMPLE_CHARS = 80
REASON_CHARS = 200
MAX_HEADER_BYTES = 1 << 16
NUL_PROBLEM = "contains a NUL byte (binary data)"


class LoadError(ValueError):
    """A snapshot was rejected; the message names the file, column and (file) line numbers."""

    def __init__(
        self,
        file_name: str,
        problem: str,
        column: str | None = None,
        lines: Sequence[int] = (),
        samples: Sequence[str | None] = (),
        *,
        columns: Sequence[str] = (),
    ) -> None:
        self.file_name, self.column, self.lines, self.problem = file_name, column, list(lines), problem
        self.columns = list(columns) or ([column] if column else [])
        where = file_name + (f", column '{visible(column)}'" if column else "")
        message = f"{where}: {problem}"
        if lines:
            message += " at line " + ", ".join(str(n) for n in lines[:SAMPLE_SIZE])
            if len(lines) > SAMPLE_SIZE:
                message += ", …"
        if samples:
            message += " (values: " + ", ".join(quoted(s, SAMPLE_CHARS) for s in samples[:SAMPLE_SIZE]) + ")"
        super().__init__(message)


def load_snapshot(
    engine: sa.Engine, data_dir: Path | str, snapshot_date: dt.date, hold: Callable[[sa.Connection], None] | None = None
) -> dict[str, int]:
    """Replace the snapshot's raw partitions with the four files in `data_dir`; rows per file.

    `hold(conn)`, when given, runs first inside the load transaction (a claim on the date).
    """
    data_dir = Path(data_dir)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL client_encoding = 'UTF8'"))
        if hold is not None:
            hold(conn)
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(727002)"))  # one raw load at a time
        db.run_sql(conn, "raw", "create_load_tables")
        params = {"snapshot_date": snapshot_date}
        db.run_sql(conn, "raw", "replace_snapshot_partitions", params)
        for source in SOURCES:
            path = data_dir / source.file_name
            counts[source.file_name] = _load_file(conn, source, path, {**params, "source_file": str(path.resolve())})
        swap = column_profile.check_market_file(conn, snapshot_date)
        if swap is not None:
            raise LoadError(MARKET_FILE.file_name, swap.describe(), columns=swap.headers)
        db.run_sql(conn, "raw", "analyze_snapshot_partitions", params)
    log.info("loaded snapshot %s from %s: %s", snapshot_date, data_dir, counts)
    return counts


def _load_file(conn: sa.Connection, source: Source, path: Path, params: dict) -> int:
    """The fast path (a typed COPY straight into the partition, etl/ingest/typed_copy.py), else
    the checked path: COPY into a landing text table, then the checked INSERT. Rows loaded."""
    if not path.is_file():
        raise LoadError(source.file_name, f"file is missing (expected {path})")
    with path.open("rb") as stream:
        columns, delimiter = _read_header(stream, source)
        rows = typed_copy.copy_into_partition(conn, source, stream, columns, delimiter, params)
    if rows is not None:
        return rows
    log.info("%s: the typed COPY refused a value or line; loading it by the checked path", source.file_name)
    rows = _copy_into_load_table(conn, source, path)
    _insert(conn, source, params)
    return rows


def _insert(conn: sa.Connection, source: Source, params: dict) -> None:
    """Check, convert and store the landing table in one pass (etl/ingest/casts.py); when the
    database refuses a row, name the file, column and lines, else its own one-line reason."""
    savepoint = conn.begin_nested()  # the landing rows stay for the diagnosis
    try:
        _execute(conn, casts.insert_statement(source), params)
        savepoint.commit()
    except (sa.exc.DataError, sa.exc.IntegrityError, psycopg2.DataError, psycopg2.IntegrityError) as error:
        savepoint.rollback()  # a lost connection stays itself (retried)
        _check_load_table(conn, source)
        raise LoadError(source.file_name, f"could not be stored in raw.{source.table}: {_reason(error)}") from None


def _execute(conn: sa.Connection, statement: pgsql.Composable, params: dict) -> None:
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(statement, params)
    finally:
        cursor.close()


def _reason(error: Exception) -> str:
    """The database's own one-line message (without the statement, values escaped and cut)."""
    original = getattr(error, "orig", error)
    text = getattr(getattr(original, "diag", None), "message_primary", None) or str(original).strip().split("\n")[0]
    text = re.sub(r'"([^"]{41,})"', lambda m: f'"{m.group(1)[:40]}… ({len(m.group(1))} chars)"', text)
    return visible(text.strip(), REASON_CHARS)


def _copy_into_load_table(conn: sa.Connection, source: Source, path: Path) -> int:
    """Stream the file body into load_<table> with COPY; return the number of data rows."""
    with path.open("rb") as stream:
        columns, delimiter = _read_header(stream, source)
        copy = pgsql.SQL("COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, DELIMITER {delimiter})").format(
            table=pgsql.Identifier(f"load_{source.table}"),
            columns=pgsql.SQL(", ").join(pgsql.Identifier(c.name) for c in columns),
            delimiter=pgsql.Literal(delimiter),
        )
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.copy_expert(copy, stream, size=1 << 20)
            rows = cursor.rowcount
        except Exception as error:  # psycopg2 errors carry the COPY line in diag.context
            raise _copy_error(source, error, path, columns, delimiter) from error
        finally:
            cursor.close()
    if rows <= 0:
        raise LoadError(source.file_name, "file has a header but no data rows")
    return rows


def _read_header(stream: BinaryIO, source: Source) -> tuple[list[Column], str]:
    """Check the header line; return the columns in file order and the separator."""
    name = source.file_name
    first = stream.readline(MAX_HEADER_BYTES + 1)
    if not first.strip():
        raise LoadError(name, "file is empty")
    if first.startswith(UTF8_BOM):
        first = first[len(UTF8_BOM) :]
    line = first.rstrip(b"\r\n")
    if b"\r" in line:
        raise LoadError(name, "lines end with a bare carriage return (old Mac line endings), not LF or CRLF", lines=[1])
    if len(first) > MAX_HEADER_BYTES:
        raise LoadError(name, f"header line is longer than {MAX_HEADER_BYTES} bytes (not a CSV export?)", lines=[1])
    text = line.decode("utf-8", errors="replace")
    delimiter = ";" if text.count(";") > text.count(",") else ","
    if b"\x00" in line:
        bad = next(n for n in text.split(delimiter) if "\x00" in n)
        raise LoadError(name, NUL_PROBLEM[:-1] + ", or UTF-16 text)", column=bad, lines=[1])
    try:
        header = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LoadError(name, f"not UTF-8 text ({error.reason} at byte {error.start})", lines=[1]) from None
    if header.count('"') % 2:
        raise LoadError(
            name,
            "header spans several lines (a quoted column name holds a line break, or a quote is unbalanced)",
            lines=[1],
        )
    names = [n.strip().strip('"') for n in header.split(delimiter)]
    known = source.by_header()
    unknown = [n for n in names if n not in known]
    if unknown:
        hint = " (hidden characters shown as escapes)" if any(map(has_hidden_characters, unknown)) else ""
        raise LoadError(
            name,
            "unknown column in header" + hint + _script_hint(unknown),
            column=", ".join(unknown),
            lines=[1],
            columns=unknown,
        )
    for problem, bad in (
        ("column missing from header", [c.header for c in source.columns if c.header not in names]),
        ("column repeated in header", sorted({n for n in names if names.count(n) > 1})),
    ):
        if bad:
            raise LoadError(name, problem, column=", ".join(bad), lines=[1], columns=bad)
    return [known[n] for n in names], delimiter


def _script_hint(names: Sequence[str]) -> str:
    """Latin letters inside a Cyrillic name look identical on screen ('c' for 'с'): name them."""
    for name in names:
        latin = [ch for ch in name if ch.isascii() and ch.isalpha()]
        if latin and any("\u0400" <= ch <= "\u04ff" for ch in name):
            letters = ", ".join(f"'{ch}' U+{ord(ch):04X}" for ch in dict.fromkeys(latin))
            return f" ({quoted(name)} mixes Latin letters into Cyrillic: {letters})"
    return ""


def _copy_error(source: Source, error: Exception, path: Path, columns: list[Column], delimiter: str) -> LoadError:
    """Turn a COPY failure into a LoadError with the file's own line number and column."""
    diag = getattr(error, "diag", None)
    context = (getattr(diag, "context", None) or "") if diag else ""
    primary = (getattr(diag, "message_primary", None) or str(error)).strip() if diag else str(error).strip()
    if "invalid byte sequence" in primary and "0x00" in primary:
        found = _find_nul(path, columns, delimiter)
        if found:
            return LoadError(source.file_name, NUL_PROBLEM, column=found[1], lines=[found[0]], samples=found[2:])
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
    return LoadError(source.file_name, visible(primary, REASON_CHARS), column=column, lines=lines)


def _find_nul(path: Path, columns: list[Column], delimiter: str) -> tuple | None:
    """(line, column header or None, field) of the first NUL byte; read only after COPY failed."""
    with path.open("rb") as stream:
        for line_no, raw in enumerate(stream, start=1):
            if b"\x00" in raw:
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                fields = next(csv.reader([text], delimiter=delimiter), [])
                hit = next((i for i, field in enumerate(fields) if "\x00" in field), None)
                header = columns[hit].header if hit is not None and hit < len(columns) else None
                return line_no, header, fields[hit] if hit is not None else text
    return None


def _check_load_table(conn: sa.Connection, source: Source) -> None:
    """Name the first refused value: empties where not allowed, values the raw column type cannot hold.

    Runs only after the INSERT refused a row: one scan counts the bad values of every check, then
    sample lines are fetched for the first check that has any.
    """
    checks = [(column, predicate, problem) for column in source.columns for predicate, problem in casts.checks(column)]
    table = pgsql.Identifier(f"load_{source.table}")
    counts_query = pgsql.SQL("SELECT {counts} FROM {table}").format(
        counts=pgsql.SQL(", ").join(pgsql.SQL("count(*) FILTER (WHERE {p})").format(p=p) for _, p, _ in checks),
        table=table,
    )
    bad_counts = _fetch(conn, counts_query)[0]
    for (column, predicate, problem), bad_count in zip(checks, bad_counts):
        if not bad_count:
            continue
        sample_query = pgsql.SQL(
            "SELECT line_no + 1, {col} FROM {table} WHERE {predicate} ORDER BY line_no LIMIT {limit}"
        ).format(
            col=pgsql.Identifier(column.name), table=table, predicate=predicate, limit=pgsql.Literal(SAMPLE_SIZE + 1)
        )
        bad = _fetch(conn, sample_query)
        empty = all(value is None or not value.strip(SPACES) for _, value in bad)
        raise LoadError(
            source.file_name,
            f"{'empty value' if empty else problem} in {bad_count} row(s)",
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
