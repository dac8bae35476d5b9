"""docker-compose.yml: the production-shaped stack holds together.

The YAML is read with PyYAML and its `${VAR}` references are interpolated the way Compose does it,
with made-up secrets, so the checks look at what the containers would actually get: the same URL
in WAREHOUSE_URL and the Airflow connection, credentials that match the Postgres servers, a Redis
broker, the repo's code mounted in its own layout, and no secret that does not come from the
environment. The last test runs the real `docker-compose config` where that binary exists.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
CODE_DIRS = ("dags", "etl", "ml", "job", "sql", "expectations", "config")  # config: the segment rule file scoring reads

# Which service plays which Airflow part, told by its command rather than by its name.
AIRFLOW_ROLES = {
    "init": r"\bairflow db migrate\b",
    "api-server": r"(?<![-\w])api-server(?![-\w])",
    "scheduler": r"(?<![-\w])scheduler(?![-\w])",
    "dag-processor": r"(?<![-\w])dag-processor(?![-\w])",
    "triggerer": r"(?<![-\w])triggerer(?![-\w])",
    "worker": r"\bcelery worker\b",
}
SECRET_KEY = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|AUTH$")
URL_PASSWORD = re.compile(r"://[^:/@\s\"']*:([^@\s\"']*)@")
REQUIRED_REF = re.compile(r"\$\{([A-Za-z_]\w*):\?[^}]*\}")
REFERENCE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_]\w*))")


class MissingVariable(Exception):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            return env.get(match.group("named"), "")
        parsed = re.fullmatch(r"([A-Za-z_]\w*)(?:(:?[-?])(.*))?", match.group("braced"), re.S)
        assert parsed, f"invalid interpolation {match.group(0)!r}"
        name, operator, argument = parsed.groups()
        current = env.get(name)
        if operator in (":?", "?") and (current is None or (operator == ":?" and current == "")):
            raise MissingVariable(f"{name}: {argument}")
        if operator == ":-" and not current or operator == "-" and current is None:
            return argument
        return current or ""

    return REFERENCE.sub(substitute, value)


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def short_volume(spec: str) -> tuple[str, str, str]:
    """`source:target[:mode]` → (source, target, mode)."""
    parts = spec.split(":")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"


def walk_environments(compose: dict) -> Iterator[tuple[str, str, str]]:
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        assert isinstance(environment, dict), f"{name}: write environment as a mapping"
        for key, value in environment.items():
            yield name, key, str(value)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def text(raw: dict) -> str:
    """Every string value of the file (comments left out), uninterpolated."""
    return "\n".join(strings(raw))


@pytest.fixture(scope="module")
def required_vars(text: str) -> set[str]:
    return set(REQUIRED_REF.findall(text))


@pytest.fixture(scope="module")
def test_env(required_vars: set[str]) -> dict[str, str]:
    """A distinct, URL-safe made-up value for every required variable."""
    return {name: f"{name.lower().replace('_', '-')}-{secrets.token_hex(4)}" for name in required_vars}


@pytest.fixture(scope="module")
def config(raw: dict, test_env: dict[str, str]) -> dict:
    return interpolate(raw, test_env)


@pytest.fixture(scope="module")
def services(config: dict) -> dict[str, dict]:
    return config["services"]


@pytest.fixture(scope="module")
def roles(services: dict[str, dict]) -> dict[str, str]:
    """Airflow role → the one service that plays it."""
    found = {}
    for role, pattern in AIRFLOW_ROLES.items():
        matches = [name for name, svc in services.items() if re.search(pattern, command_text(svc))]
        assert len(matches) == 1, f"{role}: expected exactly one service, found {matches}"
        found[role] = matches[0]
    return found


@pytest.fixture(scope="module")
def airflow_services(services: dict[str, dict], roles: dict[str, str]) -> dict[str, dict]:
    return {name: services[name] for name in roles.values()}


def postgres_services(services: dict[str, dict]) -> dict[str, dict]:
    return {n: s for n, s in services.items() if str(s.get("image", "")).startswith("postgres:")}


def redis_services(services: dict[str, dict]) -> dict[str, dict]:
    return {n: s for n, s in services.items() if str(s.get("image", "")).startswith("redis:")}


# --- services ---------------------------------------------------------------------------------


def test_every_part_of_the_stack_is_a_service(services, roles):
    assert postgres_services(services), "no Postgres service"
    assert len(redis_services(services)) == 1, "expected one Redis service (the Celery broker)"
    assert set(roles) == set(AIRFLOW_ROLES)
    assert len(set(roles.values())) == len(roles), f"one service per Airflow part: {roles}"


def test_dag_processor_is_its_own_long_running_service(services, roles):
    """Airflow 3 no longer parses DAGs inside the scheduler."""
    processor, scheduler = services[roles["dag-processor"]], services[roles["scheduler"]]
    assert command_text(processor).strip() == "dag-processor"
    assert "dag-processor" not in command_text(scheduler)
    assert processor.get("restart") in ("always", "unless-stopped")


def test_airflow_services_share_one_image_built_from_the_locked_dockerfile(airflow_services):
    builds = {repr(svc.get("build")) for svc in airflow_services.values()}
    images = {svc.get("image") for svc in airflow_services.values()}
    assert len(builds) == 1 and None not in images and len(images) == 1, (builds, images)
    build = next(iter(airflow_services.values()))["build"]
    assert (ROOT / build["context"]).resolve() == ROOT, "build context must be the repo (it COPYs the lock)"
    dockerfile = (ROOT / build["context"] / build["dockerfile"]).read_text(encoding="utf-8")

    args = dict(re.findall(r"^ARG (\w+)=(\S+)", dockerfile, re.M))
    base = re.search(r"^FROM (\S+)", dockerfile, re.M).group(1)
    base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), base)
    airflow_pin = re.search(r"^apache-airflow==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert base == f"apache/airflow:{airflow_pin}-python3.11"
    assert re.search(r"^COPY\b.*\bconstraints\.txt\b", dockerfile, re.M)
    assert re.search(r"pip install\b[^\n]*-c \S*constraints\.txt", dockerfile), "install with the lock"


def test_airflow_services_mount_the_repo_code_in_its_own_layout(airflow_services):
    """etl.warehouse.settings finds sql/ and expectations/ beside etl/: the containers must keep that layout."""
    for name, svc in airflow_services.items():
        env = svc["environment"]
        root = PurePosixPath(env["PYTHONPATH"])
        mounts = {PurePosixPath(source).as_posix(): (target, mode)
                  for source, target, mode in map(short_volume, svc["volumes"])}
        for folder in CODE_DIRS:
            assert folder in mounts, f"{name}: ./{folder} is not mounted"
            target, mode = mounts[folder]
            assert PurePosixPath(target) == root / folder, f"{name}: ./{folder} → {target}, not under {root}"
            assert mode == "ro", f"{name}: code mounts are read-only"
        assert PurePosixPath(env["AIRFLOW__CORE__DAGS_FOLDER"]) == root / "dags"


def test_data_dir_and_state_are_mounted(airflow_services, config):
    for name, svc in airflow_services.items():
        env = svc["environment"]
        targets = {target: source for source, target, _ in map(short_volume, svc["volumes"])}
        data_root = env["DATA_DIR"].split("{snapshot_date}")[0].rstrip("/")
        assert data_root in targets, f"{name}: DATA_DIR {env['DATA_DIR']} is not a mounted folder"
        for key in ("MODEL_STORE_DIR", "REPORTS_DIR"):
            path = PurePosixPath(env[key])
            holders = [t for t in targets if path == PurePosixPath(t) or PurePosixPath(t) in path.parents]
            assert holders, f"{name}: {key}={path} is not on a volume"
            assert all(targets[t] in config["volumes"] for t in holders), f"{name}: {key} must be a named volume"


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
        assert (url.username, url.path.lstrip("/"), url.port) == (db_env["POSTGRES_USER"], db_env["POSTGRES_DB"], 5432)
        assert url.password == db_env["POSTGRES_PASSWORD"] and url.password in test_env.values()


def test_airflow_metadata_has_its_own_database_with_matching_credentials(airflow_services, services):
    env = next(iter(airflow_services.values()))["environment"]
    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    results = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    warehouse = urlsplit(env["WAREHOUSE_URL"])
    assert metadata.scheme.startswith("postgresql") and results.scheme.startswith("db+postgresql")
    server = postgres_services(services)[metadata.hostname]["environment"]
    for url in (metadata, results):
        assert (url.hostname, url.username, url.password, url.path.lstrip("/")) == (
            metadata.hostname, server["POSTGRES_USER"], server["POSTGRES_PASSWORD"], server["POSTGRES_DB"])
    assert (metadata.hostname, metadata.path) != (warehouse.hostname, warehouse.path), "metadata ≠ warehouse"


def test_executor_is_celery_with_the_redis_service_as_broker(airflow_services, services):
    (redis_name, redis), = redis_services(services).items()
    for name, svc in airflow_services.items():
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert (broker.scheme, broker.hostname) == ("redis", redis_name), name
        assert broker.password == redis["environment"]["REDIS_PASSWORD"], f"{name}: broker password ≠ Redis's"
    assert re.search(r"--requirepass \"?\$\{?REDIS_PASSWORD\b", command_text(redis)), "Redis must require it"


def test_components_agree_on_shared_secrets_and_the_execution_api(airflow_services, roles, services):
    """A per-container random default for any of these breaks task tokens, logs or stored secrets."""
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
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


# --- health, order, restarts, storage -------------------------------------------------------------


def test_databases_and_broker_have_healthchecks(services):
    for name, svc in {**postgres_services(services), **redis_services(services)}.items():
        test = svc.get("healthcheck", {}).get("test")
        assert test, f"{name}: no healthcheck"
        assert svc.get("restart") in ("always", "unless-stopped"), name
    for name, svc in postgres_services(services).items():
        check = " ".join(svc["healthcheck"]["test"])
        # over TCP: the image's init-time server answers on the socket before the real start
        assert "pg_isready" in check and re.search(r"-h\s+(127\.0\.0\.1|localhost)", check), name


def test_airflow_services_wait_for_healthy_backends_and_for_init(services, roles, airflow_services):
    backends = set(postgres_services(services)) | set(redis_services(services))
    for role, name in roles.items():
        depends = airflow_services[name].get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for backend in backends:
            assert depends.get(backend, {}).get("condition") == "service_healthy", f"{name} → {backend}"
        if role == "init":
            assert str(airflow_services[name].get("restart", "no")) == "no"
            continue
        assert depends.get(roles["init"], {}).get("condition") == "service_completed_successfully", name
        assert airflow_services[name].get("restart") in ("always", "unless-stopped"), name
        assert airflow_services[name].get("healthcheck", {}).get("test"), f"{name}: no healthcheck"
    worker = airflow_services[roles["worker"]]["depends_on"]
    assert worker[roles["api-server"]]["condition"] == "service_healthy", "worker needs the Execution API"


def test_postgres_data_lives_in_named_volumes(services, config):
    seen = set()
    for name, svc in postgres_services(services).items():
        mounts = {target: source for source, target, _ in map(short_volume, svc.get("volumes", []))}
        # PostgreSQL 18 images keep PGDATA in /var/lib/postgresql/18/docker: mount the parent
        assert "/var/lib/postgresql" in mounts, f"{name}: data not on a volume at /var/lib/postgresql"
        source = mounts["/var/lib/postgresql"]
        assert source in (config.get("volumes") or {}), f"{name}: {source} is not a named volume"
        assert source not in seen, f"{name}: shares its data volume"
        seen.add(source)


def test_api_server_login_comes_from_the_environment(services, roles):
    """SimpleAuthManager (Airflow 3) has no user table: the password file is written at start."""
    api = services[roles["api-server"]]
    env = api["environment"]
    command = command_text(api)
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in command, "must write the file Airflow reads"
    assert "AIRFLOW_ADMIN_PASSWORD" in command and env.get("AIRFLOW_ADMIN_PASSWORD")
    user = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(":")[0]
    assert user == env["AIRFLOW_ADMIN_USER"]
    assert command.rstrip().endswith("exec airflow api-server")


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
    run = subprocess.run(command, env={**base, **{k: v for k, v in test_env.items() if k != missing}},
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and missing in run.stderr, run.stderr
