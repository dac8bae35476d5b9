"""The suite files parse, map to GX classes and say what the export (etl/ingest/README.md, The export) and the schema say."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from etl import quality
from etl.warehouse import settings

SUITES = quality.load_suites()
BY_NAME = {s.name: s for s in SUITES}
RAW_TABLES = {"raw.market_file", "raw.market_money", "raw.market_time", "raw.money"}
TYPE_ALIASES = {"timestamptz": "timestamp with time zone"}


def _ddl_columns() -> dict[str, dict[str, str]]:
    """table → column → type, read from the CREATE TABLE statements in sql/schema."""
    tables: dict[str, dict[str, str]] = {}
    for path in sorted((settings.SQL_DIR / "schema").glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        for name, body in re.findall(r"CREATE (?:UNLOGGED )?TABLE IF NOT EXISTS (\w+\.\w+) \((.*?)\n\)", text, re.S):
            columns = {}
            for line in body.splitlines():
                match = re.match(r"\s+([a-z_][a-z0-9_]*)\s+(double precision|[a-z]+)\b", line)
                if match and match.group(1) not in ("primary", "check"):
                    columns[match.group(1)] = TYPE_ALIASES.get(match.group(2), match.group(2))
            tables[name] = columns
        for name, like in re.findall(r"CREATE (?:UNLOGGED )?TABLE IF NOT EXISTS (\w+\.\w+)\s*\(LIKE (\w+\.\w+)", text):
            tables[name] = tables[like]
    return tables


def _expectations(suite: quality.SuiteSpec, type_: str, column: str) -> list[quality.ExpectationSpec]:
    return [e for e in suite.expectations if e.type == type_ and e.kwargs.get("column") == column]


def _allowed(suite_name: str, column: str) -> set[str]:
    [spec] = [e for e in _expectations(BY_NAME[suite_name], "expect_column_values_to_be_in_set", column)]
    return set(spec.kwargs["value_set"])


def test_one_suite_per_guarded_table():
    assert {s.table for s in SUITES if s.layer == "raw"} == RAW_TABLES
    # the features suite gates the staged features that publish_features then moves into customer_features
    assert {s.table for s in SUITES if s.layer == "features"} == {"features.customer_features_staged"}
    assert {s.name for s in SUITES if s.layer == "features"} == {"features.customer_features"}
    assert len({s.table for s in SUITES}) == len(SUITES)
    assert [s.name for s in quality.load_suites("raw")] == sorted(RAW_TABLES)


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_every_expectation_maps_to_a_gx_class(suite):
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.registry import get_expectation_impl

    for index, spec in enumerate(suite.all_expectations()):
        assert spec.severity in ("critical", "warning")
        assert issubclass(get_expectation_impl(spec.type), Expectation)
        built = quality.to_gx(spec, index)  # kwargs are checked by GX's own model here
        assert built.severity.value == spec.severity
        assert built.meta["gate_index"] == index


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_suite_columns_and_types_match_the_schema(suite):
    assert suite.columns == _ddl_columns()[suite.table]


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_suite_guards_types_row_count_and_has_critical_checks(suite):
    types = [
        e
        for e in suite.all_expectations()
        if e.type == "unexpected_rows_expectation" and "pg_typeof" in e.kwargs["unexpected_rows_query"]
    ]
    assert len(types) == 1 and all(
        f'pg_typeof("{c}")' in types[0].kwargs["unexpected_rows_query"] for c in suite.columns
    )
    assert any(
        e.type == "expect_table_row_count_to_be_between" and e.severity == "critical" for e in suite.expectations
    )


def test_raw_suites_allow_the_known_typos_and_features_only_fixed_values():
    assert "стандартт" in _allowed("raw.market_file", "service_type")
    assert "Косметика и аксесуары" in _allowed("raw.market_file", "popular_category")
    assert "предыдцщий_месяц" in _allowed("raw.market_time", "period")
    assert _allowed("features.customer_features", "service_type") == {"премиум", "стандарт"}
    categories = _allowed("features.customer_features", "popular_category")
    assert len(categories) == 6 and "Косметика и аксессуары" in categories
    assert "Косметика и аксесуары" not in categories
    assert _allowed("raw.market_money", "period") == {"препредыдущий_месяц", "предыдущий_месяц", "текущий_месяц"}
    assert _allowed("raw.market_file", "activity") == {"Снизилась", "Прежний уровень"}


def test_known_revenue_outlier_is_only_a_warning():
    """106862.2 (id 215380) must trip a warning but stay inside every critical revenue bound."""
    ranges = _expectations(BY_NAME["raw.market_money"], "expect_column_values_to_be_between", "revenue")
    critical = [e for e in ranges if e.severity == "critical"]
    warning = [e for e in ranges if e.severity == "warning"]
    assert critical and all(e.kwargs["min_value"] <= 106862.2 <= e.kwargs["max_value"] for e in critical)
    assert all(e.kwargs["min_value"] == 0 for e in critical)  # negative revenue is critical
    assert any(106862.2 > e.kwargs["max_value"] >= 7799.4 for e in warning)


def test_real_ranges_of_the_export_pass_every_critical_range():
    """The ranges measured on the real export (etl/ingest/README.md, The export) lie inside every critical bound (the real export must pass)."""
    measured = {
        "promo_share": (0, 0.99),
        "marketing_current_month": (3, 5),
        "marketing_6m": (0.9, 6.6),
        "tenure_days": (110, 1079),
        "minutes": (4, 23),
        "profit": (0.86, 7.43),
        "revenue": (0, 106862.2),
    }
    checked = 0
    for suite in SUITES:
        for e in suite.expectations:
            column = e.kwargs.get("column")
            if e.type == "expect_column_values_to_be_between" and e.severity == "critical" and column in measured:
                low, high = measured[column]
                assert e.kwargs.get("min_value", low) <= low and high <= e.kwargs.get("max_value", high), (
                    suite.name,
                    column,
                )
                checked += 1
    assert checked >= len(measured)


def test_snapshot_query_filters_the_date_as_a_rendered_literal():
    query = BY_NAME["raw.money"].snapshot_query(dt.date(2026, 5, 31))
    assert query.startswith("SELECT *") and "FROM raw.money" in query
    assert query.rstrip().endswith("snapshot_date = '2026-05-31'")


@pytest.mark.parametrize(
    "bad", [dt.datetime(2026, 5, 31, 12), "2026-05-31", "2026-05-31'; DROP TABLE raw.money; --", 20260531]
)
def test_snapshot_date_must_be_a_date(bad):
    with pytest.raises((TypeError, ValueError)):
        BY_NAME["raw.money"].snapshot_query(bad)


def _minimal(**changes) -> dict:
    suite = {
        "name": "raw.money",
        "layer": "raw",
        "table": "raw.money",
        "columns": {"snapshot_date": "date", "customer_id": "bigint"},
        "expectations": [
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": "customer_id"},
                "severity": "critical",
                "notes": "why",
            }
        ],
    }
    suite.update(changes)
    return suite


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"colums": {}}, "unknown keys"),
        ({"table": "money"}, "schema.table"),
        ({"columns": {"snapshot_date": "date", "customer id": "bigint"}}, "bad column"),
        ({"columns": {"customer_id": "bigint"}}, "date column"),
        (
            {
                "expectations": [
                    {
                        "type": "expect_column_values_to_be_unique",
                        "kwargs": {"column": "customer_id"},
                        "severity": "fatal",
                        "notes": "x",
                    }
                ]
            },
            "severity",
        ),
        (
            {
                "expectations": [
                    {
                        "type": "expect_column_values_to_be_unique",
                        "kwargs": {"column": "customer_id"},
                        "severity": "critical",
                    }
                ]
            },
            "notes",
        ),
        (
            {
                "expectations": [
                    {
                        "type": "expect_column_values_to_be_unique",
                        "kwargs": {"column": "id"},
                        "severity": "critical",
                        "notes": "x",
                    }
                ]
            },
            "unknown column",
        ),
        (
            {
                "expectations": [
                    {
                        "type": "unexpected_rows_expectation",
                        "kwargs": {"unexpected_rows_query": "SELECT 1"},
                        "severity": "critical",
                        "notes": "x",
                    }
                ]
            },
            "{batch}",
        ),
    ],
)
def test_parse_suite_rejects_mistakes(change, problem):
    with pytest.raises(quality.SuiteFileError, match=re.escape(problem)):
        quality.parse_suite(_minimal(**change))


def test_query_lines_are_joined():
    suite = quality.parse_suite(
        _minimal(
            expectations=[
                {
                    "type": "unexpected_rows_expectation",
                    "severity": "warning",
                    "notes": "x",
                    "kwargs": {"unexpected_rows_query": ["SELECT customer_id", "FROM {batch}", "WHERE false"]},
                }
            ]
        )
    )
    assert suite.expectations[0].kwargs["unexpected_rows_query"] == "SELECT customer_id\nFROM {batch}\nWHERE false"


def test_suite_files_are_named_after_their_suite():
    for path in settings.EXPECTATIONS_DIR.glob("*.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["name"] == path.stem


def _finding(**changes) -> quality.Finding:
    values = dict(
        suite="raw.market_file",
        table="raw.market_file",
        expectation="expect_column_values_to_be_between",
        severity="critical",
        success=False,
        column="promo_share",
        source_file="market_file.csv",
        source_column="Акционные_покупки",
        unexpected_count=3,
        unexpected_percent=0.23,
        sample=[1.5, 2.0, 7.0],
        arguments={"min_value": 0, "max_value": 1},
    )
    values.update(changes)
    return quality.Finding(**values)


def test_failure_message_names_table_file_column_count_and_samples():
    now = dt.datetime(2026, 5, 31, tzinfo=dt.timezone.utc)
    critical = _finding()
    warning = _finding(severity="warning", column="tenure_days", source_column="Длительность", sample=[2000])
    passed = _finding(success=True, column="pages_per_visit")
    suite = quality.SuiteResult("raw.market_file", "raw.market_file", (critical, warning, passed))
    result = quality.GateResult("raw", dt.date(2026, 5, 31), "run-1", now, now, (suite,))
    assert not result.success and result.critical_failures == [critical] and result.warnings == [warning]
    message = str(quality.QualityGateFailed(result))
    for part in (
        "raw.market_file.promo_share",
        "market_file.csv",
        "«Акционные_покупки»",
        "3 unexpected",
        "[1.5, 2.0, 7.0]",
        "max_value=1",
        "2026-05-31",
    ):
        assert part in message
    assert "tenure_days" not in message  # warnings do not fail the gate and are not listed as failures
    report = result.report()
    assert "CRITICAL" in report and "warning" in report and "tenure_days" in report
    assert "pages_per_visit" not in report


def test_a_gate_with_only_warnings_passes():
    now = dt.datetime(2026, 5, 31, tzinfo=dt.timezone.utc)
    suite = quality.SuiteResult("raw.market_money", "raw.market_money", (_finding(severity="warning"),))
    result = quality.GateResult("raw", dt.date(2026, 5, 31), "run-2", now, now, (suite,))
    assert result.success and suite.success and len(suite.failed) == 1


def test_an_expectation_that_raised_counts_as_failed_and_shows_the_error():
    finding = _finding(exception='column "promo_share" does not exist', unexpected_count=None, sample=[])
    assert 'error: column "promo_share" does not exist' in finding.describe()


def test_samples_show_invisible_characters_as_escapes():
    finding = _finding(
        expectation="expect_column_values_to_be_in_set",
        column="popular_category",
        sample=["Домашний\u00a0текстиль", "Кухонная\u200bпосуда", "a\x00b", "<b>x</b>"],
        arguments={"value_set": ["Домашний текстиль"]},
    )
    text = finding.describe()
    assert "Домашний\\xa0текстиль" in text and "Кухонная\\u200bпосуда" in text and "\\u0000" in text
    assert "\u00a0" not in text and "\u200b" not in text
    assert "<b>x</b>" in text  # the log and messages are plain text: no HTML escaping there
    assert finding.as_detail()["sample"][0] == "Домашний\u00a0текстиль"  # dq.validation_runs keeps the value
