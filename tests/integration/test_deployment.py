"""The real deployment (job/deployment.py, `make airflow`): what every component is started with.

The deployment itself runs in test_readme_commands.py, started by `make airflow` as a person
starts it: the LocalExecutor scores a night and stops on Ctrl-C; the CeleryExecutor (the compose
stack's) scores a three-night backfill and a re-published night and stops on `make airflow-stop`.
"""
from __future__ import annotations

import uuid


def test_every_component_gets_the_same_ports_secrets_and_a_postgres_metadata_database(tmp_path):
    """What the deployment's components are started with (no process started here)."""
    import stat

    import sqlalchemy as sa

    from etl.warehouse import server
    from job.deployment import Deployment

    metadata = f"churn_test_airflow_{uuid.uuid4().hex[:8]}"
    try:
        first = Deployment(home=tmp_path, executor="CeleryExecutor", metadata_database=metadata).environment()
        again = Deployment(home=tmp_path, metadata_database=metadata).environment()
    finally:
        for database in (metadata, f"{metadata}_celery"):
            server.drop_database(server.create_database(database, exist_ok=True))
    port = first["AIRFLOW__API__PORT"]
    assert first["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert first["AIRFLOW__API__BASE_URL"] == f"http://127.0.0.1:{port}"
    assert first["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://127.0.0.1:{port}/execution/"
    listening = {port, first["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"], first["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"]}
    assert len(listening) == 3  # nothing reports to another server's port
    assert sa.make_url(first["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).get_backend_name() == "postgresql"
    assert sa.make_url(first["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).database == metadata
    assert first["AIRFLOW__CELERY__BROKER_URL"].startswith("sqla+postgresql")  # no Redis, no system service
    assert first["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert again["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    for secret in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert len(first[secret]) >= 32 and first[secret] == again[secret]  # kept, not made per start
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert first["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "True" and first["CHURN_DEADLINES"] == "on"
