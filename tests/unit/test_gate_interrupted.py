"""A gate whose warehouse connection was lost mid-suite gives no verdict: GX reports each
expectation it could not run as failed, and taking that for bad data would fail the night for
good. It is a transient error instead, which the task's retries heal."""

from __future__ import annotations

import pytest

from etl.quality.results import Finding, GateInterrupted, SuiteResult, interrupted
from etl.warehouse import db

pytestmark = pytest.mark.unit


def _suite(*exceptions: str | None) -> SuiteResult:
    findings = tuple(
        Finding(
            "raw.money",
            "raw.money",
            "expect_column_values_to_not_be_null",
            "critical",
            exception is None,
            exception=exception,
        )
        for exception in exceptions
    )
    return SuiteResult("raw.money", "raw.money", findings)


def test_a_lost_connection_is_transient_not_a_failed_gate():
    lost = interrupted(
        [
            _suite(None),
            _suite("(psycopg2.OperationalError) server closed the connection unexpectedly\nThis probably means …"),
        ]
    )
    assert isinstance(lost, GateInterrupted) and db.is_transient(lost)
    assert "1 expectation(s) could not run" in str(lost) and "server closed the connection" in str(lost)


def test_an_expectation_that_fails_on_the_data_is_a_verdict():
    assert interrupted([_suite(None, None)]) is None
    assert interrupted([_suite('column "profit" does not exist')]) is None
