"""The fast path of a load: COPY a file straight into its raw partition, typed, in one write.

PostgreSQL parses the numbers while it copies, and a CHECK (etl/ingest/casts.py `typed_check`)
lets through only values the checked path would accept and store the same. What a CHECK cannot
see, because it only sees the parsed value, is the spelling: PostgreSQL's integer input also
reads `1_000` and `0x1F`, which the checks refuse. So the file is screened while it streams, and
a file holding a digit before `_` or a `0` before one of `xXoObB` anywhere (even in a text
column) takes the checked path. A file of numbers only separated by ';' (money.csv) has its
decimal commas read as points, as the checked path reads them. Any refusal (a CHECK, a decimal
comma elsewhere, a bad line) rolls the fast path back to its savepoint and returns None: the
loader then runs the checked path (etl/ingest/loader.py), which converts what it can and names
what it cannot. Either way the partition holds the same rows.
"""

from __future__ import annotations

from typing import BinaryIO, Sequence

import psycopg2
import sqlalchemy as sa
from psycopg2 import sql as pgsql

from etl.ingest import casts
from etl.warehouse.sources import Column, Source

CHUNK_BYTES = 1 << 20
# Every digit reads as "0", every prefix letter as "x": one translate and two searches per chunk.
_DIGITS_AND_PREFIXES = bytes.maketrans(b"0123456789xXoObB", b"0000000000xxxxxx")
_SUSPECT = (b"0_", b"0x")
CHECK_NAME = "load_accepts_as_checked"


class _ScreenedStream:
    """A file read for COPY that remembers whether it held an integer spelling the checks refuse.

    `decimal_commas`: every ',' becomes '.', as the checked path reads a number; only for a file
    separated by something else and without text columns, where a ',' can only be inside a number.
    """

    def __init__(self, stream: BinaryIO, decimal_commas: bool) -> None:
        self.stream, self.decimal_commas, self.suspect, self._tail = stream, decimal_commas, False, b""

    def read(self, size: int = CHUNK_BYTES) -> bytes:
        chunk = self.stream.read(size)
        if chunk and not self.suspect:
            mapped = (self._tail + chunk).translate(_DIGITS_AND_PREFIXES)
            self.suspect = any(s in mapped for s in _SUSPECT)
            self._tail = chunk[-1:]  # a pair may straddle two chunks
        return chunk.replace(b",", b".") if self.decimal_commas else chunk


def copy_into_partition(
    conn: sa.Connection,
    source: Source,
    stream: BinaryIO,
    columns: Sequence[Column],
    delimiter: str,
    params: dict,
) -> int | None:
    """COPY the rest of `stream` (past its header) into the snapshot's (empty) raw partition;
    the rows copied, or None when anything was refused (nothing of it is kept)."""
    cursor = conn.connection.dbapi_connection.cursor()
    savepoint = conn.begin_nested()
    try:
        cursor.execute("SELECT ops.partition_name(%s::regclass, %s)", (f"raw.{source.table}", params["snapshot_date"]))
        partition = pgsql.SQL(cursor.fetchone()[0])  # quoted by format(%I) in the function
        cursor.execute(
            pgsql.SQL(
                "ALTER TABLE {p} ALTER snapshot_date SET DEFAULT %(snapshot_date)s::date,"
                " ALTER source_file SET DEFAULT %(source_file)s, ALTER loaded_at SET DEFAULT now(),"
                " ADD CONSTRAINT {name} CHECK ({checks})"
            ).format(
                p=partition,
                name=pgsql.Identifier(CHECK_NAME),
                checks=pgsql.SQL(" AND ").join(casts.typed_check(c) for c in source.columns),
            ),
            params,
        )
        numbers_only = all(c.kind != "text" for c in source.columns)
        screened = _ScreenedStream(stream, decimal_commas=delimiter != "," and numbers_only)
        cursor.copy_expert(
            pgsql.SQL("COPY {p} ({columns}) FROM STDIN WITH (FORMAT csv, DELIMITER {d})").format(
                p=partition,
                columns=pgsql.SQL(", ").join(pgsql.Identifier(c.name) for c in columns),
                d=pgsql.Literal(delimiter),
            ),
            screened,
            size=CHUNK_BYTES,
        )
        rows = cursor.rowcount
        if screened.suspect or rows <= 0:
            savepoint.rollback()
            return None
        cursor.execute(
            pgsql.SQL(
                "ALTER TABLE {p} ALTER snapshot_date DROP DEFAULT, ALTER source_file DROP DEFAULT,"
                " ALTER loaded_at DROP DEFAULT, DROP CONSTRAINT {name}"
            ).format(p=partition, name=pgsql.Identifier(CHECK_NAME))
        )
        savepoint.commit()
        return rows
    except (psycopg2.DataError, psycopg2.IntegrityError):
        savepoint.rollback()  # a lost connection stays itself (retried)
        return None
    finally:
        cursor.close()
