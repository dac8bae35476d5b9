"""What a gate run found, flattened for the task log, dq.validation_runs and exceptions:
one `Finding` per expectation, grouped by suite (`SuiteResult`) and run (`GateResult`)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from etl.quality.suites import Severity
from etl.warehouse import db, sources
from etl.warehouse.text import visible


class QualityGateFailed(RuntimeError):
    """At least one critical expectation failed; `.result` holds every finding."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        super().__init__(result.failure_message())


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

    @classmethod
    def from_detail(cls, suite: str, table: str, source_file: str | None, detail: Mapping[str, Any]) -> Finding:
        """A finding as recorded in dq.validation_runs.details (the inverse of `as_detail`)."""
        return cls(
            suite=suite,
            table=table,
            source_file=source_file,
            **{
                key: detail.get(key)
                for key in (
                    "expectation",
                    "severity",
                    "success",
                    "column",
                    "source_column",
                    "unexpected_count",
                    "unexpected_percent",
                    "observed_value",
                    "description",
                    "notes",
                    "exception",
                )
            },
            sample=list(detail.get("sample") or []),
            arguments=dict(detail.get("arguments") or {}),
        )

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
        return " — ".join(
            part for part in (self.rule(), ", ".join(p for p in (self.found(), self.sample_text()) if p)) if part
        )

    def describe(self) -> str:
        return f"{self.where()}: {self.what()}"

    def as_detail(self) -> dict[str, Any]:
        """JSON for dq.validation_runs.details (one entry per expectation)."""
        return _jsonable(
            {
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
            }
        )


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


def csv_header(table: str, column: str | None) -> str | None:
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


def _short(value: Any, limit: int) -> str:
    """`value` as text for the log and messages, cut to `limit` characters.

    Invisible and look-alike characters (NBSP, zero-width space, control characters) are shown
    as escapes (`etl.warehouse.text.visible`), so a sample never looks like an allowed value while it is not.
    """
    text = value if isinstance(value, str) else json.dumps(_jsonable(value), ensure_ascii=False)
    text = visible(text, limit=len(text) * 10 + 1)  # every character fits in 10; cut below, as before
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    """Dates, decimals and other DB values as JSON-friendly values (recursively)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


# What a lost warehouse connection looks like in an expectation's exception (GX keeps running the
# suite and reports each expectation that could not run as failed).
CONNECTION_LOST = (
    "OperationalError",
    "server closed the connection",
    "terminating connection",
    "could not connect to server",
    "Connection refused",
    "the database system is shutting down",
    "the database system is starting up",
)


class GateInterrupted(db.TransientError):
    """The warehouse connection was lost while the suites ran: no verdict on the data, so nothing
    is recorded and a retry runs the gate again (a failed gate is never retried)."""


def interrupted(suite_results: Sequence[SuiteResult]) -> GateInterrupted | None:
    """The error to raise instead of a verdict when an expectation failed on a lost connection."""
    lost = [
        f
        for suite in suite_results
        for f in suite.findings
        if f.exception and any(sign in f.exception for sign in CONNECTION_LOST)
    ]
    if not lost:
        return None
    first = lost[0].exception.strip().splitlines()[0]
    return GateInterrupted(
        f"{len(lost)} expectation(s) could not run, the warehouse connection was lost ({first[:200]}): "
        "no verdict; a retry runs the gate again"
    )
