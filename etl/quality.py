"""Great Expectations quality gates on the warehouse tables of one snapshot.

Why: a bad export must stop `churn_ingest` before it reaches features or scores, and whoever reads
the failed task's log must see what is wrong (table, column, how many rows, sample values) without
opening another tool.

How:
- `expectations/<table>.json` hold one suite per guarded table (format: expectations/README.md).
  Each expectation is `critical` (fails the gate) or `warning` (recorded and logged, the run goes
  on); GX 1.x carries the same two severities, so Data Docs show them too.
- `validate(engine_or_url, layer, snapshot_date)` runs every suite of a layer with GX *in the
  database*: a SQL datasource with one query asset per suite,
  `SELECT * FROM <table> WHERE snapshot_date = '<date>'` (rendered by SQLAlchemy from a
  `datetime.date`, never from text), so partition pruning applies; GX materialises it as a
  server-side temp table and computes every metric in SQL, nothing is pulled into pandas.
  Cross-table rules (same ids in every file, 3 revenue rows per customer, relative row counts)
  are `UnexpectedRowsExpectation` queries over `{batch}`.
- Results: one `dq.validation_runs` row per suite, written in its own transaction so a failed gate
  is recorded too; GX Data Docs under `reports_dir()/data_docs` (the index path is logged); a
  table of failed expectations in the log; `QualityGateFailed` when any critical one failed.
- Values from the data are HTML-escaped in what GX renders (Data Docs are opened in a browser,
  see `_for_data_docs`) and stay plain in dq.validation_runs, the log and the exception, where
  invisible characters are shown as escapes (`etl.text.visible`).

The warehouse URL reaches GX only as the in-memory config variable `${GX_WAREHOUSE_URL}`
(`runtime_environment`), so no password is ever written into a GX file.
"""
from __future__ import annotations

import copy
import datetime as dt
import html
import json
import logging
import re
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, Sequence
from urllib.parse import unquote, urlparse

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from etl import db, settings, sources
from etl.text import visible

if TYPE_CHECKING:  # GX is imported lazily: it costs ~3 s and the DAG file must parse fast
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.expectations import Expectation

log = logging.getLogger(__name__)

Layer = Literal["raw", "features"]
Severity = Literal["critical", "warning"]
SEVERITIES: tuple[str, ...] = ("critical", "warning")
SAMPLE_SIZE = 5
DATA_DOCS_SITE = "local_site"
DATA_DOCS_INDEX_LIMIT = 250  # results on the index page (≈ 50 gate runs); older pages stay on disk
URL_VARIABLE = "GX_WAREHOUSE_URL"
# COMPLETE: unexpected-rows queries return their rows (GX caps every list at 200 records);
# partial lists of map expectations are cut to SAMPLE_SIZE.
RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_SIZE}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9 ]*$")
_SUITE_KEYS = {"name", "layer", "table", "date_column", "source_file", "description", "columns", "expectations"}
_EXPECTATION_KEYS = {"type", "kwargs", "severity", "notes", "column", "description"}


class SuiteFileError(ValueError):
    """A suite JSON file does not follow the format (raised when suites are read)."""


class QualityGateFailed(RuntimeError):
    """At least one critical expectation failed; `.result` holds every finding."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        super().__init__(result.failure_message())


# ------------------------------------------------------------------------------------ suites
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
        query = sa.select(sa.text("*")).select_from(table).where(
            table.c[self.date_column] == sa.literal(_as_date(snapshot_date), sa.Date())
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
    query = "\n".join([
        "SELECT column_name, expected_type, actual_type",
        "FROM (",
        f"    SELECT unnest(ARRAY[{names}]) AS column_name,",
        f"           unnest(ARRAY[{expected}]) AS expected_type,",
        f"           unnest(ARRAY[{actual}]) AS actual_type",
        "    FROM (SELECT * FROM {batch} LIMIT 1) AS first_row",
        ") AS types",
        "WHERE actual_type IS DISTINCT FROM expected_type",
    ])
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

    config = ExpectationConfiguration(
        type=spec.type,
        kwargs=dict(spec.kwargs),
        meta={"gate_index": index, "column": spec.reported_column},
        notes=spec.notes,
        description=spec.description,
        severity=spec.severity,
    )
    return config.to_domain_obj()


# ----------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Finding:
    """The outcome of one expectation, flattened for logs, dq.validation_runs and exceptions."""

    suite: str
    table: str
    expectation: str
    severity: Severity
    success: bool
    column: str | None = None
    source_file: str | None = None
    source_column: str | None = None  # CSV header of the column, for raw tables
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    sample: list[Any] = field(default_factory=list)
    arguments: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    notes: str | None = None
    exception: str | None = None

    def where(self) -> str:
        """`raw.market_file.promo_share (market_file.csv «Акционные_покупки»)`."""
        place = f"{self.table}.{self.column}" if self.column else f"{self.table} (table)"
        if self.source_file:
            place += f" ({self.source_file}" + (f" «{self.source_column}»" if self.source_column else "") + ")"
        return place

    def rule(self) -> str:
        """The suite's description of the check, else the GX type and its arguments."""
        if self.description:
            return self.description
        arguments = ", ".join(f"{k}={_short(v, 60)}" for k, v in self.arguments.items())
        return self.expectation + (f" [{arguments}]" if arguments else "")

    def found(self) -> str:
        """What the data showed: the error, the unexpected count or the observed value."""
        if self.exception:
            return f"error: {_short(self.exception, 300)}"
        if self.unexpected_count is not None:
            noun = "unexpected"
            if self.expectation == "unexpected_rows_expectation":
                noun += " row" if self.unexpected_count == 1 else " rows"
            text = f"{self.unexpected_count} {noun}"
            if self.unexpected_percent is not None:
                text += f" ({self.unexpected_percent:.2f} %)"
            return text
        return "" if self.observed_value is None else f"observed {_short(self.observed_value, 120)}"

    def sample_text(self) -> str:
        return f"e.g. {_short(self.sample, 300)}" if self.sample and not self.exception else ""

    def what(self) -> str:
        """The rule and what was found, in one line."""
        return " — ".join(part for part in (self.rule(), ", ".join(
            p for p in (self.found(), self.sample_text()) if p
        )) if part)

    def describe(self) -> str:
        return f"{self.where()}: {self.what()}"

    def as_detail(self) -> dict[str, Any]:
        """JSON for dq.validation_runs.details (one entry per expectation)."""
        return _jsonable({
            "expectation": self.expectation,
            "severity": self.severity,
            "success": self.success,
            "column": self.column,
            "source_column": self.source_column,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "observed_value": self.observed_value,
            "sample": self.sample,
            "arguments": dict(self.arguments),
            "description": self.description,
            "notes": self.notes,
            "exception": self.exception,
        })


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    table: str
    findings: tuple[Finding, ...]
    data_docs_path: str | None = None

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if not f.success]

    @property
    def critical_failed(self) -> list[Finding]:
        return [f for f in self.failed if f.severity == "critical"]

    @property
    def warnings_failed(self) -> list[Finding]:
        return [f for f in self.failed if f.severity != "critical"]

    @property
    def success(self) -> bool:
        """The suite passes when no critical expectation failed (warnings do not count)."""
        return not self.critical_failed


@dataclass(frozen=True)
class GateResult:
    layer: str
    snapshot_date: dt.date
    run_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    suites: tuple[SuiteResult, ...]
    data_docs_index: Path | None = None

    @property
    def success(self) -> bool:
        return all(s.success for s in self.suites)

    @property
    def critical_failures(self) -> list[Finding]:
        return [f for s in self.suites for f in s.critical_failed]

    @property
    def warnings(self) -> list[Finding]:
        return [f for s in self.suites for f in s.warnings_failed]

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def headline(self) -> str:
        evaluated = sum(len(s.findings) for s in self.suites)
        verdict = "PASSED" if self.success else "FAILED"
        return (
            f"GX gate '{self.layer}' {verdict} for snapshot {self.snapshot_date}: {len(self.suites)} suites, "
            f"{evaluated} expectations, {len(self.critical_failures)} critical and {len(self.warnings)} "
            f"warning(s) failed (run {self.run_id}, {self.seconds:.1f} s)"
        )

    def report(self) -> str:
        """Headline, a table of every failed expectation, and where Data Docs are."""
        lines = [self.headline()]
        failed = self.critical_failures + self.warnings
        if failed:
            lines.append(_table(failed))
        if self.data_docs_index:
            lines.append(f"Data Docs: {self.data_docs_index}")
        return "\n".join(lines)

    def failure_message(self) -> str:
        lines = [self.headline()]
        lines += [f"  - {f.describe()}" for f in self.critical_failures]
        if self.data_docs_index:
            lines.append(f"Data Docs: {self.data_docs_index}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------- the gate
def validate(
    engine_or_url: sa.Engine | str | None,
    layer: Layer | str,
    snapshot_date: dt.date | str,
    *,
    raise_on_failure: bool = True,
    suites: Sequence[SuiteSpec] | None = None,
) -> GateResult:
    """Run the layer's suites on the snapshot, record and log the results, raise on a critical failure.

    The dq.validation_runs rows and Data Docs are written before `QualityGateFailed` is raised.
    """
    snapshot_date = _as_date(snapshot_date)
    engine = engine_or_url if isinstance(engine_or_url, sa.Engine) else db.get_engine(engine_or_url)
    specs = list(suites) if suites is not None else load_suites(layer)
    if not specs:
        raise SuiteFileError(f"no suites for layer {layer!r} in {settings.EXPECTATIONS_DIR}")
    run_id = str(uuid.uuid4())
    started_at = dt.datetime.now(dt.timezone.utc)
    clock = time.perf_counter()
    suite_results, index = _run_gx(engine, layer, snapshot_date, specs, run_id, started_at)
    finished_at = started_at + dt.timedelta(seconds=time.perf_counter() - clock)
    result = GateResult(layer, snapshot_date, run_id, started_at, finished_at, tuple(suite_results), index)
    record(engine, result)
    (log.info if result.success and not result.warnings else log.warning)("%s", result.report())
    if raise_on_failure and not result.success:
        raise QualityGateFailed(result)
    return result


def record(engine: sa.Engine, result: GateResult) -> None:
    """One dq.validation_runs row per suite, in a transaction of its own."""
    with engine.begin() as conn:
        for suite in result.suites:
            db.run_sql(conn, "dq", "insert_validation_run", {
                "run_id": result.run_id,
                "layer": result.layer,
                "suite": suite.suite,
                "table_name": suite.table,
                "snapshot_date": result.snapshot_date,
                "success": suite.success,
                "evaluated_count": len(suite.findings),
                "failed_count": len(suite.failed),
                "critical_failed": len(suite.critical_failed),
                "warnings_failed": len(suite.warnings_failed),
                "started_at": result.started_at,
                "finished_at": result.finished_at,
                "data_docs_path": suite.data_docs_path,
                "details": json.dumps([f.as_detail() for f in suite.findings], ensure_ascii=False),
            })


def data_docs_dir() -> Path:
    return settings.reports_dir() / "data_docs"


def _results_store_dir() -> Path:
    """GX validation result JSON (what the Data Docs index lists), beside the HTML."""
    return settings.reports_dir() / "gx" / "validations"


def _run_gx(
    engine: sa.Engine,
    layer: str,
    snapshot_date: dt.date,
    specs: Sequence[SuiteSpec],
    run_id: str,
    started_at: dt.datetime,
) -> tuple[list[SuiteResult], Path | None]:
    """One ephemeral GX context; one query asset + suite + validation definition per table; one
    checkpoint; then one Data Docs build for the run's results."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    url = engine.url.render_as_string(hide_password=False)
    context = _context(url)
    with warnings.catch_warnings():  # "a PostgresDatasource may be more appropriate": it rejects
        warnings.simplefilter("ignore")  # the embedded server's socket-only URL, add_sql does not
        datasource = context.data_sources.add_sql(
            name="warehouse",
            connection_string="${" + URL_VARIABLE + "}",
            # GX reads a query asset's column names by running the whole query and keeping only the
            # header, which pulls the snapshot to the client; a temp table (CREATE TEMP TABLE AS,
            # server-side, dropped with GX's connections) is reflected without reading rows.
            create_temp_table=True,
        )
    try:
        definitions = []
        for spec in specs:
            asset = datasource.add_query_asset(name=spec.name, query=spec.snapshot_query(snapshot_date))
            batch = asset.add_batch_definition_whole_table(name=f"snapshot_{snapshot_date.isoformat()}")
            suite = context.suites.add(gx.ExpectationSuite(
                name=spec.name, meta={"table": spec.table, "notes": spec.description}
            ))
            for index, expectation in enumerate(spec.all_expectations()):
                suite.add_expectation(to_gx(expectation, index))
            definitions.append(context.validation_definitions.add(
                gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)
            ))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"{layer}_gate",
            validation_definitions=definitions,
            result_format=RESULT_FORMAT,
        ))
        run_name = f"{layer}_{snapshot_date.isoformat()}_{run_id[:8]}"
        outcome = checkpoint.run(run_id=RunIdentifier(run_name=run_name, run_time=started_at))
    finally:
        datasource.get_engine().dispose()  # GX keeps its own pool; do not leak connections

    by_suite = {spec.name: spec for spec in specs}
    findings: dict[str, tuple[Finding, ...]] = {}
    for identifier, validation in outcome.run_results.items():
        spec = by_suite[validation.suite_name]
        findings[spec.name] = tuple(_findings(spec, validation))
        _store_gate_verdict(context, identifier, validation, findings[spec.name])
    # One Data Docs build for all suites (UpdateDataDocsAction would rebuild the index per suite).
    context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=list(outcome.run_results))

    results: dict[str, SuiteResult] = {}
    for identifier, validation in outcome.run_results.items():
        docs = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DATA_DOCS_SITE)
        results[validation.suite_name] = SuiteResult(
            suite=validation.suite_name,
            table=by_suite[validation.suite_name].table,
            findings=findings[validation.suite_name],
            data_docs_path=_url_to_path(docs[0]["site_url"]) if docs else None,
        )
    index = data_docs_dir() / "index.html"
    return [results[spec.name] for spec in specs], index if index.is_file() else None


def _store_gate_verdict(context, identifier, validation, findings: Sequence[Finding]) -> None:
    """Make the stored result (what the Data Docs index shows) say what the gate decided.

    GX marks a suite failed when any expectation fails, whatever its severity; the gate passes
    with failed warnings. The pages still show every failed expectation with its severity.
    """
    critical = sum(1 for f in findings if not f.success and f.severity == "critical")
    warned = sum(1 for f in findings if not f.success and f.severity != "critical")
    validation.meta["gate"] = {"critical_failed": critical, "warnings_failed": warned}
    validation.success = critical == 0
    context.validation_results_store.set(identifier, _for_data_docs(validation))


# Keys whose values GX itself escapes, or that must stay as they are, when they reach Data Docs:
# an exception message is a string-template parameter (escaped by GX's view); index column names
# come from the suite and must still match the keys of `unexpected_index_list`.
_EXCEPTION_KEYS_GX_ESCAPES = frozenset({"exception_message"})
_RESULT_KEYS_KEPT = frozenset({"unexpected_index_column_names"})


def _for_data_docs(validation: ExpectationSuiteValidationResult) -> ExpectationSuiteValidationResult:
    """A copy of the suite's result whose values from the data are HTML-escaped, for Data Docs.

    Data Docs pages are opened in a browser, and GX (1.24) writes result values into them as raw
    HTML: its Jinja templates are `.j2` files, which `select_autoescape(["html", "xml"])` leaves
    unescaped, and `DefaultJinjaView.render_string_template` escapes only string *parameters* of
    a string template. Unexpected values and their counts become table cells, observed values a
    cell (`str()` of the value), the unexpected index query and an exception's traceback become
    templates: all raw, so an export value `<script>…</script>` would run in the reader's browser.

    So every string in each expectation's `result` (lists, counts, observed value, details,
    the rows of `UnexpectedRowsExpectation`, which GX 1.24 does not show but a renderer may) and
    in its exception info is escaped here, once, except where GX already escapes: the exception
    message (a template parameter; escaping it here would show `&lt;`) and the expectation's
    configuration (from the suite files, rendered through parameters) are left as they are.

    Only this copy goes to the validation results store, i.e. the JSON under `reports_dir()/gx`
    that Data Docs are built from; findings, dq.validation_runs and the log keep the plain values.
    """
    escaped = copy.copy(validation)
    escaped.results = []
    for evr in validation.results:
        evr_copy = copy.copy(evr)
        evr_copy.result = _escape_html(evr.result, keep=_RESULT_KEYS_KEPT)
        evr_copy.exception_info = _escape_html(evr.exception_info, keep=_EXCEPTION_KEYS_GX_ESCAPES)
        escaped.results.append(evr_copy)
    return escaped


def _escape_html(value: Any, keep: frozenset[str] = frozenset()) -> Any:
    """`value` with every string in it HTML-escaped (recursively; keys and `keep` keys' values unchanged)."""
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, Mapping):
        return {k: v if k in keep else _escape_html(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_html(v, keep) for v in value]
    if isinstance(value, tuple):
        return tuple(_escape_html(v, keep) for v in value)
    return value


def _context(url: str):
    """Ephemeral context; validation results and Data Docs go to files under reports_dir()."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    config.stores[config.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(_results_store_dir())},
    }
    config.data_docs_sites = {
        DATA_DOCS_SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir())},
            # The index lists the newest results only: it reads each one, so it would slow down daily.
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "validation_results_limit": DATA_DOCS_INDEX_LIMIT,
            },
        }
    }
    return gx.get_context(project_config=config, mode="ephemeral", runtime_environment={URL_VARIABLE: url})


def _findings(spec: SuiteSpec, validation: ExpectationSuiteValidationResult) -> list[Finding]:
    expectations = spec.all_expectations()
    findings = []
    for evr in validation.results:
        config = evr.expectation_config
        expectation = expectations[config.meta["gate_index"]]
        findings.append(_finding(spec, expectation, evr))
    findings.sort(key=lambda f: f.success)  # failures first
    return findings


def _finding(spec: SuiteSpec, expectation: ExpectationSpec, evr) -> Finding:
    result = evr.result or {}
    exception = _exception_message(evr.exception_info)
    unexpected_count = result.get("unexpected_count")
    observed = result.get("observed_value")
    sample: list[Any] = []
    if expectation.type == "unexpected_rows_expectation":
        unexpected_count, observed = observed, None
        sample = list((result.get("details") or {}).get("unexpected_rows") or [])[:SAMPLE_SIZE]
    elif result.get("partial_unexpected_list") is not None:
        sample = list(result["partial_unexpected_list"])[:SAMPLE_SIZE]
    elif not evr.success and isinstance(result.get("details"), dict):
        sample = [result["details"].get("mismatched", result["details"])]
    column = expectation.reported_column
    return Finding(
        suite=spec.name,
        table=spec.table,
        expectation=expectation.type,
        severity=expectation.severity,
        success=bool(evr.success) and exception is None,
        column=column,
        source_file=spec.source_file,
        source_column=_csv_header(spec.table, column),
        unexpected_count=unexpected_count,
        unexpected_percent=result.get("unexpected_percent"),
        observed_value=observed,
        sample=sample,
        arguments={k: v for k, v in expectation.kwargs.items() if k not in ("column", "unexpected_rows_query")},
        description=expectation.description,
        notes=expectation.notes,
        exception=exception,
    )


def _exception_message(info: Any) -> str | None:
    """GX gives either one exception dict or one per metric; keep the first message raised."""
    if not info:
        return None
    candidates = [info] if "raised_exception" in info else list(info.values())
    for candidate in candidates:
        if isinstance(candidate, Mapping) and candidate.get("raised_exception"):
            return str(candidate.get("exception_message") or "exception")
    return None


def _csv_header(table: str, column: str | None) -> str | None:
    """The export's header of a raw column (`promo_share` → «Акционные_покупки»)."""
    schema, name = table.split(".")
    if schema != "raw" or column is None:
        return None
    for source in sources.SOURCES:
        if source.table == name:
            return next((c.header for c in source.columns if c.name == column), None)
    return None


def _table(findings: Iterable[Finding]) -> str:
    """A plain-text table for the task log: one failed expectation per line."""
    header = ("severity", "where", "found", "rule, sample")
    rows = [
        (
            f.severity.upper() if f.severity == "critical" else f.severity,
            f.where(),
            f.found(),
            f.rule() + (f" — {f.sample_text()}" if f.sample_text() else ""),
        )
        for f in findings
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    return "\n".join(
        "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in [header, *rows]
    )


def _as_date(value: dt.date | str) -> dt.date:
    """A real calendar date (a datetime or free text is refused before any SQL is built)."""
    if isinstance(value, dt.datetime):
        raise TypeError(f"snapshot_date must be a date, not a datetime: {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise TypeError(f"snapshot_date must be a date, got {type(value).__name__}")


def _url_to_path(url: str) -> str:
    parsed = urlparse(url)
    return unquote(parsed.path) if parsed.scheme == "file" else url


def _short(value: Any, limit: int) -> str:
    """`value` as text for the log and messages, cut to `limit` characters.

    Invisible and look-alike characters (NBSP, zero-width space, control characters) are shown
    as escapes (`etl.text.visible`), so a sample never looks like an allowed value while it is not.
    """
    text = value if isinstance(value, str) else json.dumps(_jsonable(value), ensure_ascii=False)
    text = visible(text, limit=len(text) * 10 + 1)  # every character fits in 10; cut below, as before
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    """Dates, decimals and other DB values as JSON-friendly values (recursively)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))
