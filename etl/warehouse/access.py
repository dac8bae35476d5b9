"""Who may log in to the warehouse, and how: roles, the embedded server's door, BI logins.

Three roles (cluster-wide, created idempotently):
- `churn_writer` — what the pipeline connects as: owns the warehouse database and every schema in
  it, may create BI logins (CREATEROLE, ADMIN of the BI role), is not a superuser;
- `churn_bi_reader` — NOLOGIN; SELECT on the mart views only (sql/mart/080_grant_bi_reader.sql);
- one LOGIN per BI tool or analyst, member of `churn_bi_reader`, made by `churn bi-login`
  (etl.warehouse.bi_logins).

The embedded server's socket opens only for the OS user that runs it (unix_socket_permissions =
0700): that is the project's own processes. Over TCP (off unless WAREHOUSE_TCP_PORT is set; then
127.0.0.1 only) every login needs a password checked with scram-sha-256, and the superuser and the
writer have none, so only BI logins get in that way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.warehouse import settings

WRITER_ROLE = "churn_writer"
BI_ROLE = "churn_bi_reader"
WAREHOUSE_DATABASE = "churn"
SUPERUSER = "postgres"
TCP_HOST = "127.0.0.1"
ACCESS_FILE = "access.conf"
_LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_TCP_PORT = re.compile(r"^\s*port\s*=\s*(\d+)", re.MULTILINE)

HBA_TEXT = f"""\
# Written by etl/warehouse/access.py; edits here are overwritten at the next start.
# Socket: only the OS user that runs the server can open it (unix_socket_permissions = 0700 in
# {ACCESS_FILE}), so the project's own processes need no password there.
local   all   all                   trust
# TCP (127.0.0.1 only, when WAREHOUSE_TCP_PORT is set): a password for every login; the superuser
# and {WRITER_ROLE} have none, so only BI logins made by `churn bi-login` get in.
host    all   all   127.0.0.1/32    scram-sha-256
host    all   all   ::1/128         scram-sha-256
"""


def tcp_port_setting() -> int | None | str:
    """`WAREHOUSE_TCP_PORT`: a port → listen on 127.0.0.1 there; `off` → socket only; unset →
    keep what the data directory has (so one command's environment does not turn BI off)."""
    value = (settings.current().WAREHOUSE_TCP_PORT or "").strip().lower()
    if not value:
        return "keep"
    if value in ("off", "0", "no", "false"):
        return None
    if not value.isdigit() or not 1024 <= int(value) <= 65535:
        raise settings.ConfigError(f"WAREHOUSE_TCP_PORT={value!r}: give a port 1024..65535, or off")
    return int(value)


def configured_tcp_port(pgdata: Path) -> int | None:
    """The TCP port the data directory's access settings name, None when TCP is off."""
    path = pgdata / ACCESS_FILE
    match = _TCP_PORT.search(path.read_text(encoding="utf-8")) if path.exists() else None
    return int(match.group(1)) if match else None


def access_settings_text(tcp_port: int | None) -> str:
    """The server settings behind the door above (included from postgresql.conf)."""
    lines = [
        "# Written by etl/warehouse/access.py from WAREHOUSE_TCP_PORT; edits here are overwritten.",
        "unix_socket_permissions = 0700",
        "password_encryption = scram-sha-256",
    ]
    if tcp_port is not None:
        lines += [f"port = {tcp_port}", f"listen_addresses = '{TCP_HOST}'"]
    else:
        lines += ["listen_addresses = ''"]
    return "\n".join(lines) + "\n"


def scram_verifier(password: str, user: str, dbapi_connection: Any) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password`, made on the client by libpq
    (PQencryptPasswordConn) so the password itself never reaches the server or its statement log.
    libpq wants the psycopg2 connection (or cursor) the verifier is for, not a SQLAlchemy one."""
    from psycopg2.extensions import encrypt_password  # the DAG files import this module's callers

    return encrypt_password(password, user, scope=dbapi_connection, algorithm="scram-sha-256")


def check_login_name(name: str) -> str:
    if not _LOGIN_NAME.match(name) or name in (WRITER_ROLE, BI_ROLE, SUPERUSER):
        raise settings.ConfigError(
            f"BI login name {name!r}: use lower-case letters, digits and _ (not a role of the job)"
        )
    return name


@dataclass(frozen=True)
class BiLogin:
    """What a BI tool needs to connect, printed once by `churn bi-login`."""

    host: str
    port: int
    database: str
    user: str
    password: str
    created: bool

    def connection_block(self) -> str:
        jdbc = f"jdbc:postgresql://{self.host}:{self.port}/{self.database}?user={self.user}&sslmode=disable"
        url = f"postgresql+psycopg2://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"
        state = "created" if self.created else "existed: its password was replaced"
        return "\n".join(
            [
                f"BI login {self.user} ({state}); read-only, mart views only.",
                f"  host:       {self.host}",
                f"  port:       {self.port}",
                f"  database:   {self.database}",
                f"  user:       {self.user}",
                f"  password:   {self.password}    (shown once: store it in your BI tool now)",
                f"  JDBC:       {jdbc}",
                f"  SQLAlchemy: {url}",
            ]
        )
