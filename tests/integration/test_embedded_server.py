"""The embedded warehouse as a fresh checkout and an older one meet it: its own server in a
LOCAL_DIR of its own, started by a separate process as `make run` would."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg2
import pytest

from etl.warehouse import access

pytestmark = pytest.mark.integration


def _url(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "etl.warehouse.server", "url"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    env = {**os.environ, "LOCAL_DIR": str(tmp_path_factory.mktemp("own-warehouse")), "WAREHOUSE_TCP_PORT": "off"}
    env.pop("WAREHOUSE_URL", None)
    yield env
    subprocess.run([sys.executable, "-m", "etl.warehouse.server", "stop"], env=env, timeout=120)


def _as_superuser(env: dict[str, str], database: str, statement: str) -> list[tuple]:
    socket_dir = os.path.join(env["LOCAL_DIR"], "pg")
    conn = psycopg2.connect(host=socket_dir, dbname=database, user=access.SUPERUSER)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def test_a_fresh_server_gives_the_pipeline_the_writer_on_its_own_database(own_server):
    url = _url(own_server)
    assert url.startswith(f"postgresql://{access.WRITER_ROLE}@/{access.WAREHOUSE_DATABASE}?host=") and "&port=" in url
    [(owner, superuser)] = _as_superuser(
        own_server,
        "postgres",
        (
            "SELECT pg_get_userbyid(datdba), (SELECT rolsuper FROM pg_roles WHERE rolname = 'churn_writer') "
            "FROM pg_database WHERE datname = 'churn'"
        ),
    )
    assert (owner, superuser) == (access.WRITER_ROLE, False)


def test_an_older_superuser_warehouse_in_database_postgres_is_refused_and_kept(own_server):
    """Checkouts from before the writer role kept the warehouse in database `postgres`; main at
    d986e9a adopted it at its first start. This code has no upgrade from there: it says what to
    run instead of making an empty warehouse beside the rows."""
    _url(own_server)
    _as_superuser(own_server, "postgres", "DROP DATABASE churn WITH (FORCE)")
    _as_superuser(
        own_server,
        "postgres",
        "CREATE SCHEMA ml; CREATE TABLE ml.model_registry (model_version text); "
        "INSERT INTO ml.model_registry VALUES ('churn-old-1')",
    )
    done = subprocess.run(
        [sys.executable, "-m", "etl.warehouse.server", "url"],
        env=own_server,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0 and "database postgres, owned by the superuser" in done.stderr
    assert "d986e9a" in done.stderr
    assert _as_superuser(own_server, "postgres", "SELECT model_version FROM ml.model_registry") == [("churn-old-1",)]
    assert _as_superuser(own_server, "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'churn'") == [(0,)]
