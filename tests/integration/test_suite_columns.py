"""Every suite's `columns` (from which the gate generates its name and type checks) are exactly
the columns and types of the table it guards, as Postgres built them from sql/schema."""

from __future__ import annotations

import pytest

from etl import quality
from tests.integration.test_sources import table_columns

SUITES = {suite.table: suite for suite in quality.load_suites()}


@pytest.mark.parametrize("table", sorted(SUITES))
def test_every_suite_lists_the_columns_its_table_has(engine, table: str):
    schema, name = table.split(".")
    built = {c["column_name"]: c["data_type"] for c in table_columns(engine, schema, name)}
    assert dict(SUITES[table].columns) == built
