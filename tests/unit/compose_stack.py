"""docker-compose.yml as the containers would get it: the YAML read with PyYAML, its `${VAR}`
references interpolated the way Compose does it with made-up secrets, and the fixtures the
compose tests share (services, their roles, the Airflow ones)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any, Iterator

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
