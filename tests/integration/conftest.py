"""Fixtures every integration module may ask for by name."""

from __future__ import annotations

import pytest

from tests.integration.champion import champion  # noqa: F401 (fixture)


@pytest.fixture(scope="session")
def step_server(tmp_path_factory):
    """Pipeline steps in processes of their own, forked from one pre-imported server (run_step.py)."""
    from tests.integration.run_step import StepServer

    server = StepServer(tmp_path_factory.mktemp("steps"))
    yield server
    server.close()
