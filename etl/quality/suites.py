"""Suite files (expectations/<table>.json): parsing, checking and turning entries into GX
expectations. The file format is in expectations/README.md."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from etl.warehouse import settings

if TYPE_CHECKING:  # GX is imported lazily: it costs ~3 s and the DAG file must parse fast
    from great_expectations.expectations import Expectation

Layer = Literal["raw", "features", "scoring"]
Severity = Literal["critical", "warning"]
SEVERITIES: tuple[str, ...] = ("critical", "warning")

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9 ]*$")
_SUITE_KEYS = {"name", "layer", "table", "date_column", "source_file", "description", "columns", "expectations"}
_EXPECTATION_KEYS = {"type", "kwargs", "severity", "notes", "column", "description"}


class SuiteFileError(ValueError):
    """A suite JSON file does not follow the format (raised when suites are read)."""


@dataclass(frozen=True)
class ExpectationSpec:
    """One entry of a suite file. `column` names the column a table-level query is about."""

    type: str
    kwargs: Mapping[str, Any]
    severity: Severity
    notes: str
    column: str | None = None
    description: str | None = None

    @property
    def reported_column(self) -> str | None:
        return self.column or self.kwargs.get("column")


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    layer: str
    table: str
    columns: Mapping[str, str]  # column → Postgres type name as pg_typeof() prints it
    expectations: tuple[ExpectationSpec, ...]
    date_column: str = "snapshot_date"
    source_file: str | None = None
    description: str = ""
    path: Path | None = None

    def all_expectations(self) -> tuple[ExpectationSpec, ...]:
        """The file's expectations after the two generated from `columns` (names, then types)."""
        return (*_column_expectations(self.columns), *self.expectations)

    def snapshot_query(self, snapshot_date: dt.date) -> str:
        """`SELECT * FROM <table> WHERE <date_column> = '<date>'`, rendered by SQLAlchemy."""
        schema, name = self.table.split(".")
        table = sa.table(name, sa.column(self.date_column), schema=schema)
        query = (
            sa.select(sa.text("*"))
            .select_from(table)
            .where(table.c[self.date_column] == sa.literal(require_date(snapshot_date), sa.Date()))
        )
        return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def load_suites(layer: str | None = None, directory: Path | None = None) -> list[SuiteSpec]:
    """Every suite in `directory` (default expectations/), or only those of `layer`, by name."""
    directory = directory or settings.EXPECTATIONS_DIR
    suites = [read_suite(path) for path in sorted(directory.glob("*.json"))]
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise SuiteFileError(f"suite names repeat in {directory}: {sorted(names)}")
    return [s for s in suites if layer is None or s.layer == layer]


def read_suite(path: Path) -> SuiteSpec:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SuiteFileError(f"{path.name}: not valid JSON ({error})") from None
    return parse_suite(data, path)


def parse_suite(data: Mapping[str, Any], path: Path | None = None) -> SuiteSpec:
    """Check a suite's structure strictly (a typo in a key must not silently drop a check)."""
    where = path.name if path else str(data.get("name", "suite"))

    def fail(problem: str) -> SuiteFileError:
        return SuiteFileError(f"{where}: {problem}")

    unknown = set(data) - _SUITE_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    for key in ("name", "layer", "table", "columns", "expectations"):
        if not data.get(key):
            raise fail(f"'{key}' is required")
    if not _TABLE.match(data["table"]):
        raise fail(f"table must be schema.table in lower case, got {data['table']!r}")
    if path is not None and path.stem != data["name"]:
        raise fail(f"file must be named after its suite: {data['name']}.json")
    date_column = data.get("date_column", "snapshot_date")
    columns = dict(data["columns"])
    for column, type_name in columns.items():
        if not _IDENTIFIER.match(column) or not isinstance(type_name, str) or not _TYPE_NAME.match(type_name):
            raise fail(f"bad column entry {column!r}: {type_name!r}")
    if date_column not in columns:
        raise fail(f"date column {date_column!r} is not among the columns")
    expectations = tuple(_parse_expectation(entry, i, fail) for i, entry in enumerate(data["expectations"]))
    for spec in expectations:
        if spec.reported_column and spec.reported_column not in columns:
            raise fail(f"{spec.type} refers to unknown column {spec.reported_column!r}")
    return SuiteSpec(
        name=data["name"],
        layer=data["layer"],
        table=data["table"],
        columns=columns,
        expectations=expectations,
        date_column=date_column,
        source_file=data.get("source_file"),
        description=data.get("description", ""),
        path=path,
    )


def _parse_expectation(entry: Mapping[str, Any], index: int, fail) -> ExpectationSpec:
    unknown = set(entry) - _EXPECTATION_KEYS
    if unknown:
        raise fail(f"expectation #{index + 1}: unknown keys {sorted(unknown)}")
    if not entry.get("type") or not isinstance(entry.get("kwargs"), dict):
        raise fail(f"expectation #{index + 1}: 'type' and 'kwargs' are required")
    if entry.get("severity") not in SEVERITIES:
        raise fail(f"expectation #{index + 1} ({entry['type']}): severity must be one of {SEVERITIES}")
    if not entry.get("notes"):
        raise fail(f"expectation #{index + 1} ({entry['type']}): 'notes' (why this check) is required")
    kwargs = dict(entry["kwargs"])
    query = kwargs.get("unexpected_rows_query")
    if isinstance(query, list):  # a list of lines keeps long SQL reviewable in JSON
        kwargs["unexpected_rows_query"] = "\n".join(query)
    if entry["type"] == "unexpected_rows_expectation" and "{batch}" not in kwargs.get("unexpected_rows_query", ""):
        raise fail(f"expectation #{index + 1}: an unexpected-rows query must read {{batch}} (the snapshot)")
    return ExpectationSpec(
        type=entry["type"],
        kwargs=kwargs,
        severity=entry["severity"],
        notes=entry["notes"],
        column=entry.get("column"),
        description=entry.get("description"),
    )


def _column_expectations(columns: Mapping[str, str]) -> tuple[ExpectationSpec, ExpectationSpec]:
    """Column set (GX) and column types (pg_typeof of the batch's first row).

    GX cannot read column types of a query asset on Postgres, so types are checked with a query.
    Names and type names are validated identifiers from the suite file, never input data.
    """
    names = ", ".join(f"'{name}'" for name in columns)
    expected = ", ".join(f"'{type_name}'" for type_name in columns.values())
    actual = ", ".join(f'pg_typeof("{name}")::text' for name in columns)
    query = "\n".join(
        [
            "SELECT column_name, expected_type, actual_type",
            "FROM (",
            f"    SELECT unnest(ARRAY[{names}]) AS column_name,",
            f"           unnest(ARRAY[{expected}]) AS expected_type,",
            f"           unnest(ARRAY[{actual}]) AS actual_type",
            "    FROM (SELECT * FROM {batch} LIMIT 1) AS first_row",
            ") AS types",
            "WHERE actual_type IS DISTINCT FROM expected_type",
        ]
    )
    return (
        ExpectationSpec(
            type="expect_table_columns_to_match_set",
            kwargs={"column_set": list(columns), "exact_match": True},
            severity="critical",
            notes="Generated from the suite's `columns`: exactly these columns.",
        ),
        ExpectationSpec(
            type="unexpected_rows_expectation",
            kwargs={"unexpected_rows_query": query},
            severity="critical",
            notes="Generated from the suite's `columns`: each column has its declared Postgres type.",
            description="Column types as declared in the suite: columns whose type differs",
        ),
    )


def to_gx(spec: ExpectationSpec, index: int) -> Expectation:
    """The GX expectation object for one entry (its class is found from the snake_case type)."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    if spec.type == "unexpected_rows_expectation":
        from etl.quality.single_pass import SinglePassUnexpectedRows

        return SinglePassUnexpectedRows(
            **spec.kwargs,
            meta={"gate_index": index, "column": spec.reported_column},
            notes=spec.notes,
            description=spec.description,
            severity=spec.severity,
        )
    config = ExpectationConfiguration(
        type=spec.type,
        kwargs=dict(spec.kwargs),
        meta={"gate_index": index, "column": spec.reported_column},
        notes=spec.notes,
        description=spec.description,
        severity=spec.severity,
    )
    return config.to_domain_obj()


def require_date(value: object) -> dt.date:
    """A calendar date, refused otherwise (a datetime or text never reaches the SQL we build)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"snapshot_date must be a datetime.date, got {type(value).__name__}: {value!r}")
    return value
