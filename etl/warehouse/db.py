"""Database access: one SQLAlchemy engine per URL, SQL files run with bound parameters.

Every statement lives in `sql/<layer>/<name>.sql`; Python only binds values (`:snapshot_date`),
it never formats input values into SQL text.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Mapping

import sqlalchemy as sa

from etl.warehouse import server, settings


# The server checks every few seconds, even during a long statement, whether the client is still
# there: a killed task's backend then ends and releases its locks instead of running to the end.
SESSION_OPTIONS = "-c client_connection_check_interval=2000"


@functools.lru_cache(maxsize=8)
def _engine_for(url: str) -> sa.Engine:
    parsed = sa.make_url(server.sqlalchemy_url(url))
    options = " ".join(part for part in (parsed.query.get("options"), SESSION_OPTIONS) if part)
    return sa.create_engine(
        parsed.difference_update_query(["options"]),
        connect_args={"options": options},
        pool_pre_ping=True,
    )


def get_engine(url: str | None = None) -> sa.Engine:
    """Engine for `url`, else `WAREHOUSE_URL`, else the embedded server (started on demand)."""
    return _engine_for(url or server.server_url())


def sql_file(layer: str, name: str) -> Path:
    path = settings.SQL_DIR / layer / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path


@functools.lru_cache(maxsize=256)
def read_sql(layer: str, name: str) -> str:
    return sql_file(layer, name).read_text(encoding="utf-8")


def run_sql(conn: sa.Connection, layer: str, name: str, params: Mapping[str, Any] | None = None):
    """Run one SQL file (it may hold several statements) inside the caller's transaction."""
    return conn.execute(sa.text(read_sql(layer, name)), dict(params or {}))


SCHEMA_LAYERS = ("schema", "mart")  # what ensure_schema builds, in this order


def run_layer(conn: sa.Connection, layer: str, params: Mapping[str, Any] | None = None) -> list[str]:
    """Run the numbered build steps of a layer (`010_…sql`, `020_…sql`) in order."""
    names = sorted(p.stem for p in (settings.SQL_DIR / layer).glob("[0-9]*.sql"))
    for name in names:
        run_sql(conn, layer, name, params)
    return names


def ensure_schema(engine: sa.Engine) -> None:
    """Create or update every schema object: the tables (sql/schema), then the BI views over them
    (sql/mart). All files are idempotent (IF NOT EXISTS / OR REPLACE)."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(727001)"))  # one migrator at a time
        for layer in SCHEMA_LAYERS:
            run_layer(conn, layer)


class TransientError(RuntimeError):
    """A failure of our own that a later retry heals (e.g. etl.ops.claims.SnapshotBusy: another
    run holds the date). Raised by layers above; declared here so is_transient knows it."""


def is_transient(error: BaseException) -> bool:
    """True for failures a retry can heal: the connection was lost or refused, the server is
    restarting or shutting down, a serialization failure or deadlock, or a TransientError.
    Bad data, failed gates, a missing or tampered model are not: retrying them only delays
    the error."""
    import psycopg2
    from psycopg2 import errors as pg_errors

    transient = (
        TransientError,
        sa.exc.OperationalError,
        sa.exc.InterfaceError,
        psycopg2.OperationalError,
        psycopg2.InterfaceError,
        pg_errors.SerializationFailure,
        pg_errors.DeadlockDetected,
        ConnectionError,
        TimeoutError,
    )
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, transient):
            return True
        if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
            return True
        error = error.__cause__
    return False
