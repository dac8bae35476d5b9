"""docker-compose.yml: configuration comes from the environment only — one warehouse URL, credentials
that match the Postgres servers, a Redis broker, no secret in the file; and the real
`docker-compose config` accepts the file where that binary exists."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml

from tests.unit.compose_stack import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    REQUIRED_REF,
    ROOT,
    SECRET_KEY,
    URL_PASSWORD,
    MissingVariable,
    command_text,
    interpolate,
    postgres_services,
    redis_services,
    walk_environments,
)

# --- configuration ------------------------------------------------------------------------------


def test_warehouse_url_reaches_the_warehouse_server(airflow_services, services, test_env):
    for name, svc in airflow_services.items():
        env = svc["environment"]
        # one way to name the warehouse: tasks read WAREHOUSE_URL, no Airflow connection duplicates it
        assert not any(key.startswith("AIRFLOW_CONN_") for key in env), name
        url = urlsplit(env["WAREHOUSE_URL"])
        assert url.scheme == "postgresql"
        server = postgres_services(services).get(url.hostname)
        assert server, f"{name}: WAREHOUSE_URL host {url.hostname} is not a Postgres service"
        db_env = server["environment"]
        # the job is the writer role that warehouse-init.sh makes, not the server's superuser
        assert (url.username, url.path.lstrip("/"), url.port) == ("churn_writer", db_env["POSTGRES_DB"], 5432)
        assert url.username != db_env["POSTGRES_USER"]
        assert url.password == db_env["CHURN_WRITER_PASSWORD"] and url.password in test_env.values()
        assert url.password != db_env["POSTGRES_PASSWORD"]


def test_airflow_metadata_has_its_own_database_with_matching_credentials(airflow_services, services):
    env = next(iter(airflow_services.values()))["environment"]
    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    results = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    warehouse = urlsplit(env["WAREHOUSE_URL"])
    assert metadata.scheme.startswith("postgresql") and results.scheme.startswith("db+postgresql")
    server = postgres_services(services)[metadata.hostname]["environment"]
    for url in (metadata, results):
        assert (url.hostname, url.username, url.password, url.path.lstrip("/")) == (
            metadata.hostname,
            server["POSTGRES_USER"],
            server["POSTGRES_PASSWORD"],
            server["POSTGRES_DB"],
        )
    assert (metadata.hostname, metadata.path) != (warehouse.hostname, warehouse.path), "metadata ≠ warehouse"


def test_executor_is_celery_with_the_redis_service_as_broker(airflow_services, services):
    ((redis_name, redis),) = redis_services(services).items()
    for name, svc in airflow_services.items():
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert (broker.scheme, broker.hostname) == ("redis", redis_name), name
        assert broker.password == redis["environment"]["REDIS_PASSWORD"], f"{name}: broker password ≠ Redis's"
    assert re.search(r"--requirepass \"?\$\{?REDIS_PASSWORD\b", command_text(redis)), "Redis must require it"


def test_components_agree_on_shared_secrets_and_the_execution_api(airflow_services, roles, services):
    """A per-container random default for any of these breaks task tokens, logs or stored secrets."""
    for key in (
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    ):
        values = {svc["environment"].get(key) for svc in airflow_services.values()}
        assert len(values) == 1 and None not in values and "" not in values, f"{key}: {values}"
    env = next(iter(airflow_services.values()))["environment"]
    api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname == roles["api-server"] and api.path.rstrip("/") == "/execution"
    container_ports = {str(p).split(":")[-1].split("/")[0] for p in services[roles["api-server"]].get("ports", [])}
    assert str(api.port) in container_ports, "execution API port is not the api-server's"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["PYTHONPATH"] and env["DATA_DIR"]


def test_no_secret_is_written_in_the_file(raw, text, required_vars):
    """Every password-like value, and every password inside a URL, is a required ${VAR}."""
    secret_refs: set[str] = set()
    for service, key, value in walk_environments(raw):
        if SECRET_KEY.search(key) and not key.endswith(("_FILE", "_PATH")):  # a path names a secret
            ref = REQUIRED_REF.fullmatch(value)
            assert ref, f"{service}.{key} must be a required variable ${{VAR:?...}}, not {value!r}"
            secret_refs.add(ref.group(1))
    for password in URL_PASSWORD.findall(text):
        ref = REQUIRED_REF.fullmatch(password)
        assert ref, f"password {password!r} written in a URL"
        secret_refs.add(ref.group(1))
    assert secret_refs, "found no secret at all: the checks above looked at nothing"
    for name in secret_refs:
        uses = re.findall(r"\$\{" + name + r"(\W[^}]*)?\}", text)
        assert all(use.startswith(":?") for use in uses), f"{name} has a default somewhere: {uses}"
    assert secret_refs <= required_vars


def test_a_missing_secret_stops_the_stack(raw, test_env):
    for name in test_env:
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw, {k: v for k, v in test_env.items() if k != name})
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw, {**test_env, name: ""})


def test_env_example_lists_every_variable_without_a_secret(text, required_vars):
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    assigned = dict(re.findall(r"^([A-Za-z_]\w*)=(.*)$", example, re.M))
    assert required_vars <= set(assigned), f"missing in .env.example: {required_vars - set(assigned)}"
    assert all(assigned[name] == "" for name in required_vars), "secrets in .env.example must stay empty"
    optional = set(re.findall(r"\$\{([A-Za-z_]\w*):-", text))
    undocumented = {name for name in optional if not re.search(rf"^#?\s*{name}=", example, re.M)}
    assert not undocumented, f"optional variables not in .env.example: {undocumented}"


# --- the real tool ----------------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose (Debian package `docker-compose`) is not on PATH: the one check that needs "
    "a binary not every machine has; the YAML checks above ran without it",
)
def test_docker_compose_config_accepts_the_file(tmp_path, test_env, config):
    empty_env_file = tmp_path / "empty.env"  # so a developer's .env cannot fill in the gaps
    empty_env_file.write_text("")
    base = {k: v for k, v in os.environ.items() if k not in test_env and not k.startswith("COMPOSE_")}
    command = ["docker-compose", "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), "config"]

    run = subprocess.run(command, env={**base, **test_env}, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rendered = yaml.safe_load(run.stdout)["services"]
    assert set(rendered) == set(config["services"])
    for name, svc in config["services"].items():  # our interpolation agrees with Compose's
        assert rendered[name].get("environment", {}) == {k: str(v) for k, v in svc.get("environment", {}).items()}

    missing = sorted(test_env)[0]
    run = subprocess.run(
        command,
        env={**base, **{k: v for k, v in test_env.items() if k != missing}},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0 and missing in run.stderr, run.stderr
