"""Database access: one SQLAlchemy engine per URL, SQL files run with bound parameters.

Every statement lives in `sql/<folder>/<name>.sql`; Python only binds values (`:snapshot_date`),
it never formats input values into SQL text.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any, Mapping

import sqlalchemy as sa

from etl.warehouse import server, settings

log = logging.getLogger(__name__)


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


def sql_file(folder: str, name: str) -> Path:
    path = settings.SQL_DIR / folder / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path}")
    return path


@functools.lru_cache(maxsize=256)
def read_sql(folder: str, name: str) -> str:
    return sql_file(folder, name).read_text(encoding="utf-8")


def run_sql(conn: sa.Connection, folder: str, name: str, params: Mapping[str, Any] | None = None):
    """Run one SQL file (it may hold several statements) inside the caller's transaction."""
    return conn.execute(sa.text(read_sql(folder, name)), dict(params or {}))


SCHEMA_FOLDERS = ("schema", "mart")  # the current schema, in this order (an empty database's build)


def run_folder(conn: sa.Connection, folder: str, params: Mapping[str, Any] | None = None) -> list[str]:
    """Run the numbered build steps of a SQL folder (`010_…sql`, `020_…sql`) in order."""
    names = sorted(p.stem for p in (settings.SQL_DIR / folder).glob("[0-9]*.sql"))
    for name in names:
        run_sql(conn, folder, name, params)
    return names


# --- schema revisions (Alembic) ----------------------------------------------------------------
# The schema changes only here, never in a nightly task: `churn migrate`, `make run` and
# `make airflow` call migrate once per version; tasks only check the revision (check_migrated).
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE_SCHEMA = "ops"  # ops.alembic_version: the job's bookkeeping, out of BI's reach
BASELINE = "0001"  # the layout of main at d986e9a, which built warehouses before revisions
_AT_HEAD: set[str] = set()  # warehouses this process found (or brought) at head


class NotMigrated(RuntimeError):
    """The warehouse is not at this code's schema revision; a migrator, not a retry, fixes it."""


def _alembic_config(conn: sa.Connection | None = None):
    from alembic.config import Config

    config = Config(attributes={"connection": conn})
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision of this checkout (etl/warehouse/migrations/versions)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


@functools.lru_cache(maxsize=1)
def _known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(script.revision for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions())


def _revision_of(conn: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table_schema": VERSION_TABLE_SCHEMA})
    return context.get_current_revision()


def schema_revision(engine: sa.Engine) -> str | None:
    """The warehouse's revision; None when it has none (empty, or built before revisions)."""
    with engine.connect() as conn:
        return _revision_of(conn)


def migrate(engine: sa.Engine) -> str:
    """Bring the warehouse to the head revision in one transaction (one migrator at a time) and
    return it. An empty database is built from sql/schema + sql/mart and stamped at head; a
    warehouse of ours without a revision was built by main at d986e9a: it is stamped at the
    baseline, then upgraded. Each revision runs once; after any, the mart views are re-created
    from sql/mart (a revision that changes their columns drops them)."""
    from alembic import command

    with engine.begin() as conn:
        run_sql(conn, "ops", "lock_migrations")
        before, config = _revision_of(conn), _alembic_config(conn)
        layout = run_sql(conn, "ops", "select_unversioned_layout").mappings().one()
        if before is None and layout["our_schemas"] == 0:
            for folder in SCHEMA_FOLDERS:
                run_folder(conn, folder)
            command.stamp(config, "head")
        else:
            if before is None:
                _check_baseline(engine, layout["missing_marks"])
                command.stamp(config, BASELINE)
            elif before not in _known_revisions():
                raise NotMigrated(_not_at_head(engine, before, head_revision()))
            command.upgrade(config, "head")
            if _revision_of(conn) != before:
                run_folder(conn, "mart")
        after = _revision_of(conn)
    _AT_HEAD.add(_key(engine))
    log.info("warehouse %s: schema revision %s → %s", engine.url.database, before or "none", after)
    return after


def _check_baseline(engine: sa.Engine, missing: list[str]) -> None:
    """A warehouse without a revision is taken as the baseline only when it has that layout."""
    if missing:
        raise NotMigrated(
            f"the warehouse {engine.url.database!r} has no schema revision and lacks parts of the baseline "
            f"layout (main at d986e9a): {', '.join(missing)}. An older checkout built it and no revision "
            "starts there: run the code of d986e9a on it once (its make run upgrades it to that layout), "
            "then `churn migrate`. Nothing was changed"
        )


def check_migrated(engine: sa.Engine) -> str:
    """Fail with what to run unless the warehouse is at this code's head revision. Cheap: one
    query per warehouse and process, then remembered."""
    if _key(engine) in _AT_HEAD:
        return head_revision()
    current, head = schema_revision(engine), head_revision()
    if current != head:
        raise NotMigrated(_not_at_head(engine, current, head))
    _AT_HEAD.add(_key(engine))
    return current


def _not_at_head(engine: sa.Engine, current: str | None, head: str) -> str:
    where = f"the warehouse {engine.url.database!r}"
    if current is not None and current not in _known_revisions():
        return (
            f"{where} is at schema revision {current}, which this code does not know (newer code "
            f"migrated it; this code needs {head}): deploy that code"
        )
    state = (
        "has no schema revision (empty, or built before revisions)"
        if current is None
        else f"is at schema revision {current}"
    )
    return (
        f"{where} {state}; this code needs revision {head}. Run `churn migrate` (or `make run` / "
        "`make airflow`, which migrate first): nightly tasks never change the schema"
    )


def _key(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def names_missing_object(error: BaseException) -> bool:
    """True when the database refused a statement for a table, column, function, type or schema
    it does not have: what a task meets on a warehouse behind this code's schema revision."""
    from psycopg2 import errors as pg_errors

    missing = (
        pg_errors.UndefinedTable,
        pg_errors.UndefinedColumn,
        pg_errors.UndefinedFunction,
        pg_errors.UndefinedObject,
        pg_errors.InvalidSchemaName,
    )
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(getattr(error, "orig", error), missing):
            return True
        error = error.__cause__
    return False


class TransientError(RuntimeError):
    """A failure of our own that a later retry heals (e.g. etl.ops.claims.SnapshotBusy: another
    run holds the date). Raised by packages above; declared here so is_transient knows it."""


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
