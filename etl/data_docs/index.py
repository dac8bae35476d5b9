"""The Data Docs index as a static table, written after every build over GX's own.

GX's index draws its table in the browser from data in a script (jQuery + bootstrap-table from
CDNs): with no network it is empty. This one is plain HTML from the stored results of the pages
on disk, newest first, and says what the gate decided per suite: a suite with failed warnings
only did not stop the run (`meta.gate`, written by publish.store_gate_verdict).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from etl.data_docs import render

INDEX = "index.html"
TEMPLATE = "index.html.j2"
HEADER = ("Gate", "Run time", "Run", "Suite", "Table", "Critical failed", "Warnings failed", "Expectations")
Verdict = Literal["failed", "warned", "missing", "passed"]


@dataclass(frozen=True)
class Row:
    """One validation page as the index shows it, plain values (the template escapes them)."""

    verdict: Verdict
    run_time: str
    run_name: str
    link: str  # the page, relative to the index
    suite: str
    table: str
    critical: int | None
    warned: int | None
    failed: int | None
    evaluated: int | None


def write_index(site: Path, results: Path, limit: int | None = None) -> Path:
    """Write `site/index.html`: one row per validation page of the site (the newest `limit`)."""
    pages = sorted((site / "validations").rglob("*.html"), key=_run_time_folder, reverse=True)
    rows = [_row(page, site, _result(page, site, results)) for page in pages[: limit or None]]
    index = site / INDEX
    index.write_text(render.render(TEMPLATE, header=HEADER, rows=rows), encoding="utf-8")
    return index


def _run_time_folder(page: Path) -> tuple[str, str]:
    """`<suite parts>/<run name>/<run time>/<batch>.html`: run times sort as text (20261202T144154…Z)."""
    return page.parent.name, page.name


def _result(page: Path, site: Path, results: Path) -> Mapping[str, Any]:
    """The stored result a page was built from ({} when it is gone or unreadable)."""
    stored = results / page.relative_to(site / "validations").with_suffix(".json")
    try:
        return json.loads(stored.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _row(page: Path, site: Path, result: Mapping[str, Any]) -> Row:
    meta = result.get("meta") or {}
    gate = meta.get("gate") or {}
    run = meta.get("run_id") or {}
    stats = result.get("statistics") or {}
    critical, warned = _count(gate.get("critical_failed")), _count(gate.get("warnings_failed"))
    evaluated = _count(stats.get("evaluated_expectations"))
    return Row(
        verdict=_verdict(result.get("success"), critical, warned),
        run_time=str(run.get("run_time") or page.parent.name),
        run_name=str(run.get("run_name") or page.parent.parent.name),
        link=os.path.relpath(page, site).replace(os.sep, "/"),
        suite=str(result.get("suite_name") or page.stem),
        table=str((meta.get("batch_spec") or {}).get("table") or ""),
        critical=critical,
        warned=warned,
        failed=None if evaluated is None else _count(stats.get("unsuccessful_expectations") or 0),
        evaluated=evaluated,
    )


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def _verdict(success: Any, critical: int | None, warned: int | None) -> Verdict:
    if critical or (critical is None and success is False):
        return "failed"
    if warned:
        return "warned"
    if success is None:
        return "missing"
    return "passed"
