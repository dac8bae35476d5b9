"""The gate run: every suite of a layer on one snapshot, with GX computing in the database.

See the package docstring for the why; `validate` is the entry point.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

import sqlalchemy as sa

from etl.quality import samples
from etl.quality.results import Finding, GateResult, QualityGateFailed, SuiteResult, csv_header, interrupted
from etl.quality.suites import ExpectationSpec, Layer, SuiteFileError, SuiteSpec, load_suites, require_date, to_gx
from etl.warehouse import db, settings

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult

log = logging.getLogger(__name__)

URL_VARIABLE = "GX_WAREHOUSE_URL"


class Publisher(Protocol):
    """Where a gate run's results are shown to people: `etl.data_docs.DataDocs` (GX Data Docs).

    The caller of `validate` passes it in, so the gate decides and records without knowing how its
    results are rendered, and the rendering lives in a room of its own above this one.
    """

    def configure(self, config: Any) -> None:
        """Add the stores and sites it needs to the run's GX `DataContextConfig`."""

    def publish(
        self,
        context: Any,
        validations: Mapping[Any, ExpectationSuiteValidationResult],
        findings: Mapping[str, Sequence[Finding]],
    ) -> tuple[Mapping[str, str | None], Path | None]:
        """After the checkpoint: the page of each suite's result (by suite name), and the index page."""


def validate(
    engine: sa.Engine,
    layer: Layer,
    snapshot_date: dt.date,
    *,
    raise_on_failure: bool = True,
    suites: Sequence[SuiteSpec] | None = None,
    docs: Publisher | None = None,
) -> GateResult:
    """Run the layer's suites on the snapshot, record and log the results, raise on a critical failure.

    The dq.validation_runs rows and the pages of `docs` (the pipelines pass `etl.data_docs.DataDocs()`;
    None: no pages, the results stay in memory) are written before `QualityGateFailed` is raised.
    """
    require_date(snapshot_date)
    specs = list(suites) if suites is not None else load_suites(layer)
    if not specs:
        raise SuiteFileError(f"no suites for layer {layer!r} in {settings.EXPECTATIONS_DIR}")
    run_id = str(uuid.uuid4())
    started_at = dt.datetime.now(dt.timezone.utc)
    clock = time.perf_counter()
    suite_results, index = _run_gx(engine, layer, snapshot_date, specs, run_id, started_at, docs)
    lost = interrupted(suite_results)
    if lost is not None:
        raise lost
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
            db.run_sql(
                conn,
                "dq",
                "insert_validation_run",
                {
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
                },
            )


def critical_failures(engine: sa.Engine, snapshot_date: dt.date, since: dt.datetime) -> list[Finding]:
    """The failed critical expectations of the newest failed gate of the date started at or after
    `since`, read back from dq.validation_runs: what a person must see when a gate stopped a run."""
    source_files = {spec.name: spec.source_file for spec in load_suites()}
    with engine.connect() as conn:
        rows = db.run_sql(
            conn, "dq", "select_critical_failures", {"snapshot_date": require_date(snapshot_date), "since": since}
        )
        return [Finding.from_detail(r.suite, r.table_name, source_files.get(r.suite), r.detail) for r in rows]


def _run_gx(
    engine: sa.Engine,
    layer: str,
    snapshot_date: dt.date,
    specs: Sequence[SuiteSpec],
    run_id: str,
    started_at: dt.datetime,
    docs: Publisher | None,
) -> tuple[list[SuiteResult], Path | None]:
    """One ephemeral GX context; one asset + suite + validation definition per table (the
    snapshot's partition, else a query of the snapshot's rows); one checkpoint that counts, a
    second pass for the samples of what failed (etl/quality/samples.py); then the run's results
    published once by `docs`."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    partitions = _partitions(engine, specs, snapshot_date)
    context = _context(engine.url.render_as_string(hide_password=False), docs)
    sources = (_datasource(context), _datasource(context, "warehouse_partitions", create_temp_table=False))
    try:
        definitions = {
            spec.name: _validation(context, sources, spec, snapshot_date, partitions.get(spec.name)) for spec in specs
        }
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{layer}_gate",
                validation_definitions=list(definitions.values()),
                result_format=samples.COUNT_FORMAT,
            )
        )
        run_name = f"{layer}_{snapshot_date.isoformat()}_{run_id[:8]}"
        outcome = checkpoint.run(run_id=RunIdentifier(run_name=run_name, run_time=started_at))
        samples.add_samples(context, outcome, {spec.name: spec for spec in specs}, definitions)
    finally:
        for source in sources:
            source.get_engine().dispose()  # GX keeps its own pools; do not leak connections
    return _suite_results(context, outcome, specs, docs)


def _datasource(context, name: str = "warehouse", create_temp_table: bool = True):
    """The warehouse as a GX SQL datasource, its URL passed only as a config variable.

    For query assets GX must copy each batch into a temp table: it reads a query asset's column
    names by running the whole query and keeping only the header, which pulls the snapshot to the
    client, while a temp table (server-side, dropped with GX's connections) is reflected without
    reading rows. Table assets (partitions) are reflected from the catalog and read in place, by
    a second datasource without the copy.
    """
    with warnings.catch_warnings():  # "a PostgresDatasource may be more appropriate": it rejects
        warnings.simplefilter("ignore")  # the embedded server's socket-only URL, add_sql does not
        return context.data_sources.add_sql(
            name=name, connection_string="${" + URL_VARIABLE + "}", create_temp_table=create_temp_table
        )


def _partitions(engine: sa.Engine, specs: Sequence[SuiteSpec], snapshot_date: dt.date) -> dict[str, tuple[str, str]]:
    """suite name → (schema, table) of its table's partition for the snapshot, where there is one."""
    found = {}
    with engine.connect() as conn:
        for spec in specs:
            row = db.run_sql(
                conn, "dq", "select_snapshot_partition", {"parent": spec.table, "snapshot_date": snapshot_date}
            ).first()
            if row is not None:
                found[spec.name] = (row.schema_name, row.table_name)
    return found


def _validation(context, sources, spec: SuiteSpec, snapshot_date: dt.date, partition: tuple[str, str] | None):
    """The suite of one table as a GX validation definition over the snapshot: its partition as
    a table asset, else the snapshot query as a query asset (copied into a temp table by GX)."""
    import great_expectations as gx

    queries, partitions = sources
    if partition is not None:
        asset = partitions.add_table_asset(name=spec.name, schema_name=partition[0], table_name=partition[1])
    else:
        asset = queries.add_query_asset(name=spec.name, query=spec.snapshot_query(snapshot_date))
    batch = asset.add_batch_definition_whole_table(name=f"snapshot_{snapshot_date.isoformat()}")
    suite = context.suites.add(
        gx.ExpectationSuite(name=spec.name, meta={"table": spec.table, "notes": spec.description})
    )
    for index, expectation in enumerate(spec.all_expectations()):
        suite.add_expectation(to_gx(expectation, index))
    return context.validation_definitions.add(gx.ValidationDefinition(name=spec.name, data=batch, suite=suite))


def _suite_results(
    context, outcome, specs: Sequence[SuiteSpec], docs: Publisher | None
) -> tuple[list[SuiteResult], Path | None]:
    """Findings per suite, then the run's results published once for all suites (GX's
    UpdateDataDocsAction would rebuild the index once per suite)."""
    by_suite = {spec.name: spec for spec in specs}
    findings = {
        validation.suite_name: tuple(_findings(by_suite[validation.suite_name], validation))
        for validation in outcome.run_results.values()
    }
    pages, index = docs.publish(context, outcome.run_results, findings) if docs is not None else ({}, None)
    results = [
        SuiteResult(
            suite=spec.name, table=spec.table, findings=findings[spec.name], data_docs_path=pages.get(spec.name)
        )
        for spec in specs
    ]
    return results, index


def _context(url: str, docs: Publisher | None = None):
    """Ephemeral context, with what `docs` adds (etl.data_docs: results and pages under reports_dir())."""
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
    if docs is not None:
        docs.configure(config)  # may import more of GX (a site builder): before the cap
    _cap_gx_loggers()
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
        sample = list((result.get("details") or {}).get("unexpected_rows") or [])[: samples.SAMPLE_SIZE]
    elif result.get("partial_unexpected_list") is not None:
        sample = list(result["partial_unexpected_list"])[: samples.SAMPLE_SIZE]
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
        source_column=csv_header(spec.table, column),
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


def _cap_gx_loggers() -> None:
    """A few GX modules set their own logger to INFO when imported, past the WARNING cap that
    etl.quality puts on `great_expectations`: let them inherit the cap again."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if (
            name.startswith("great_expectations.")
            and isinstance(logger, logging.Logger)
            and 0 < logger.level < logging.WARNING
        ):
            logger.setLevel(logging.NOTSET)
