"""docker-compose.yml: every part of the stack is a service, built from the locked Dockerfile,
mounting the repo in its own layout, healthy, started in order, its data on volumes."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from tests.unit.compose_stack import (
    AIRFLOW_ROLES,
    CODE_DIRS,
    ROOT,
    command_text,
    postgres_services,
    redis_services,
    short_volume,
)

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
        mounts = {
            PurePosixPath(source).as_posix(): (target, mode)
            for source, target, mode in map(short_volume, svc["volumes"])
        }
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
