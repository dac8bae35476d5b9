"""GX's unexpected-rows expectation with its query run once.

GX's own `UnexpectedRowsExpectation` resolves two metrics, the rows and their COUNT(*), so every
such check (the cross-table rules among them) scans its snapshot twice. This one asks for a single
metric: up to GX's 200 records together with the total, in one statement (a window count over the
unexpected rows, which are none when the check passes). Results look the same: observed_value is
the count, details.unexpected_rows the sample. Imported by etl/quality/suites.py with GX.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, Tuple

from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.unexpected_rows_expectation import UnexpectedRowsExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import (
    QueryMetricProvider,
    render_derived_table_alias,
)

TOTAL = "gate_unexpected_total"


class UnexpectedRowsQuerySample(QueryMetricProvider):
    """{"count": all unexpected rows, "rows": the first MAX_RESULT_RECORDS of them}."""

    metric_name = "unexpected_rows_query.sample"
    value_keys = ("unexpected_rows_query",)
    query_param_name: ClassVar[str] = "unexpected_rows_query"

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: Dict[str, Any],
        runtime_configuration: dict,
    ) -> dict:
        batch_selectable, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        query = cls._get_query_from_metric_value_kwargs(metric_value_kwargs)
        subquery = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
            query=query, batch_selectable=batch_selectable, execution_engine=execution_engine
        )
        aliased = render_derived_table_alias(
            subquery=subquery, alias="unexpected", dialect_name=execution_engine.dialect_name
        )
        rows = execution_engine.execute_query(
            sa.text(f"SELECT *, count(*) OVER () AS {TOTAL} FROM {aliased} LIMIT {MAX_RESULT_RECORDS}")
        ).fetchall()
        records = [{k: v for k, v in row._mapping.items() if k != TOTAL} for row in rows]
        return {"count": int(rows[0]._mapping[TOTAL]) if rows else 0, "rows": records}


class SinglePassUnexpectedRows(UnexpectedRowsExpectation):
    """UnexpectedRowsExpectation, one statement per check (see the module docstring)."""

    metric_dependencies: ClassVar[Tuple[str, ...]] = ("unexpected_rows_query.sample",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine: Any = None) -> dict:
        sample = metrics["unexpected_rows_query.sample"]
        return {
            "success": sample["count"] == 0,
            "result": {"observed_value": sample["count"], "details": {"unexpected_rows": sample["rows"]}},
        }
