"""Fixtures of the docker-compose tests (defined in compose_stack.py, module-scoped, built only
when a test asks for them)."""

from tests.unit.compose_stack import (  # noqa: F401 (fixtures)
    airflow_services,
    config,
    raw,
    required_vars,
    roles,
    services,
    test_env,
    text,
)
