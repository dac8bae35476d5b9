"""BI logins over TCP, tried as a BI tool would: a fresh embedded warehouse with TCP on, a login
made by the real `churn bi-login`, then password logins over 127.0.0.1 — the mart answers, and
everything else is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from etl.warehouse import access
from tests.helpers import ROOT

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _churn(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "job.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def tcp_warehouse(tmp_path_factory):
    """Its own embedded server (LOCAL_DIR of its own, a free port), stopped at the end."""
    local = tmp_path_factory.mktemp("tcp-warehouse")
    env = {**os.environ, "LOCAL_DIR": str(local), "WAREHOUSE_TCP_PORT": str(_free_port())}
    env.pop("WAREHOUSE_URL", None)
    yield env
    subprocess.run([sys.executable, "-m", "etl.warehouse.server", "stop"], env=env, timeout=120)


@pytest.fixture(scope="module")
def bi_login(tcp_warehouse) -> dict[str, str]:
    """The README's way: `WAREHOUSE_TCP_PORT=… make bi-login NAME=…`, on a migrated warehouse
    (`make run` and `make airflow` migrate first; here `churn migrate`)."""
    migrated = _churn(tcp_warehouse, "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    done = subprocess.run(
        ["make", "--no-print-directory", "bi-login", "NAME=bi_analyst"],
        cwd=ROOT,
        env=tcp_warehouse,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    block = dict(re.findall(r"^\s+(host|port|database|user|password|JDBC|SQLAlchemy):\s+(\S+)", done.stdout, re.M))
    assert block["password"] in block["SQLAlchemy"] and "shown once" in done.stdout
    return block


def _connect(block: dict[str, str], **overrides):
    params = {
        "host": block["host"],
        "port": int(block["port"]),
        "dbname": block["database"],
        "user": block["user"],
        "password": block["password"],
        "connect_timeout": 10,
    }
    params.update(overrides)
    return psycopg2.connect(**params)


def _as_writer(env: dict[str, str], query: str) -> list[tuple]:
    """A query as the pipeline's writer over the socket (the project's own way in)."""
    code = (
        "import sys, sqlalchemy as sa; from etl.warehouse import db; "
        "print(repr([tuple(r) for r in db.get_engine().connect().execute(sa.text(sys.argv[1]))]))"
    )
    done = subprocess.run([sys.executable, "-c", code, query], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout)  # noqa: S307 — our own repr of plain tuples


def test_the_scram_verifier_proves_the_password_and_hides_it(tcp_warehouse):
    """RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key")) for the stored salt; libpq
    makes it on the writer's own connection, a fresh salt each time."""
    code = (
        "from etl.warehouse import access, db; raw = db.get_engine().raw_connection(); "
        "print(*(access.scram_verifier('s3cret', 'bi_x', raw.dbapi_connection) for _ in '12')); raw.close()"
    )
    done = subprocess.run([sys.executable, "-c", code], env=tcp_warehouse, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    verifier, again = done.stdout.split()
    method, iterations_salt, keys = verifier.split("$")
    iterations, salt = iterations_salt.split(":")
    stored, _server = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", b"s3cret", base64.b64decode(salt), int(iterations))
    assert method == "SCRAM-SHA-256" and "s3cret" not in verifier
    assert base64.b64decode(stored) == hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    assert again != verifier


def test_the_block_names_the_tcp_door_and_a_jdbc_url(bi_login, tcp_warehouse):
    assert (bi_login["host"], bi_login["port"]) == ("127.0.0.1", tcp_warehouse["WAREHOUSE_TCP_PORT"])
    assert bi_login["database"] == access.WAREHOUSE_DATABASE
    assert bi_login["JDBC"].startswith(f"jdbc:postgresql://127.0.0.1:{bi_login['port']}/churn?user=bi_analyst")


def test_the_login_selects_from_every_mart_view_over_tcp(bi_login, tcp_warehouse):
    views = [
        name
        for (name,) in _as_writer(tcp_warehouse, "SELECT viewname FROM pg_views WHERE schemaname = 'mart' ORDER BY 1")
    ]
    assert {"churn_scores_latest", "segment_summary", "model_drift", "data_quality"} <= set(views)
    with _connect(bi_login) as conn, conn.cursor() as cur:
        for view in views:
            cur.execute(f'SELECT * FROM mart."{view}" LIMIT 1')
            assert cur.description, view
        cur.execute("SELECT current_user, inet_server_addr() IS NOT NULL")
        assert cur.fetchone() == ("bi_analyst", True)  # over TCP, as the login


def test_a_wrong_password_is_refused(bi_login):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(bi_login, password=bi_login["password"] + "x")


@pytest.mark.parametrize("role", [access.SUPERUSER, access.WRITER_ROLE])
def test_the_superuser_and_the_writer_cannot_log_in_over_tcp(bi_login, role):
    with pytest.raises(psycopg2.OperationalError, match="no password supplied"):
        _connect(bi_login, user=role, password="")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(bi_login, user=role, password="postgres")


def test_every_schema_but_mart_is_refused(bi_login, tcp_warehouse):
    tables = _as_writer(
        tcp_warehouse,
        """
        SELECT DISTINCT ON (table_schema) table_schema, table_name FROM information_schema.tables
        WHERE table_schema NOT IN ('mart', 'pg_catalog', 'information_schema')
        ORDER BY table_schema, table_name""",
    )
    assert {schema for schema, _ in tables} >= {"raw", "staging", "features", "ml", "scoring", "dq", "ops", "outcomes"}
    for schema, table in tables:
        with _connect(bi_login) as conn, conn.cursor() as cur:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege, match=f"permission denied for schema {schema}"):
                cur.execute(f'SELECT 1 FROM "{schema}"."{table}" LIMIT 1')


def test_the_login_cannot_write_even_in_mart(bi_login):
    with _connect(bi_login) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cur.execute("CREATE TABLE mart.scratch (x int)")


def test_a_second_bi_login_call_replaces_the_password(tcp_warehouse):
    first = _churn(tcp_warehouse, "bi-login", "bi_rotated")
    second = _churn(tcp_warehouse, "bi-login", "bi_rotated")
    assert first.returncode == second.returncode == 0, second.stderr
    assert "existed: its password was replaced" in second.stdout
    old, new = (re.search(r"password:\s+(\S+)", done.stdout).group(1) for done in (first, second))
    block = {
        "host": "127.0.0.1",
        "port": tcp_warehouse["WAREHOUSE_TCP_PORT"],
        "database": "churn",
        "user": "bi_rotated",
        "password": new,
    }
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(block, password=old)
    _connect(block, password=new).close()


def test_a_job_role_cannot_be_taken_over_by_bi_login(tcp_warehouse):
    done = _churn(tcp_warehouse, "bi-login", access.WRITER_ROLE)
    assert done.returncode != 0 and "not a role of the job" in done.stderr


def test_the_socket_opens_only_for_the_servers_own_os_user(tcp_warehouse, bi_login):
    sockets = list((Path(tcp_warehouse["LOCAL_DIR"]) / "pg").glob(".s.PGSQL.*"))
    sockets = [path for path in sockets if not path.name.endswith(".lock")]
    assert sockets, "the socket lives in the data directory"
    for path in sockets:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
