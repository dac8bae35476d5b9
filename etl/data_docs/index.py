"""The Data Docs index as a static table, written after every build over GX's own.

GX's index draws its table in the browser from data in a script (jQuery + bootstrap-table from
CDNs): with no network it is empty. This one is plain HTML from the stored results of the pages
on disk, newest first, and says what the gate decided per suite: a suite with failed warnings
only did not stop the run (`meta.gate`, written by publish.store_gate_verdict).
"""
from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any, Mapping

from etl.data_docs.style import MARKER, STYLE

INDEX = "index.html"
HEADER = ("Gate", "Run time", "Run", "Suite", "Table", "Critical failed", "Warnings failed", "Expectations")


def write_index(site: Path, results: Path, limit: int | None = None) -> Path:
    """Write `site/index.html`: one row per validation page of the site (the newest `limit`)."""
    pages = sorted((site / "validations").rglob("*.html"), key=_run_time_folder, reverse=True)
    rows = [_row(page, site, _result(page, site, results)) for page in pages[:limit or None]]
    body = (
        "<h1>Data Docs — quality gate results</h1>"
        "<p>One row per suite and gate run, newest first. <b>Gate</b> is the run's verdict for the "
        "suite: a failed <span class='badge severity severity-critical'>critical</span> expectation "
        "stops the run, a failed <span class='badge severity severity-warning'>warning</span> is "
        "recorded and the run goes on.</p>"
        + (_table(rows) if rows else "<p>No validation results yet.</p>")
    )
    index = site / INDEX
    index.write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Data Docs — quality gate results</title>{MARKER}<style>{STYLE}</style></head>"
        f"<body><div class='container-fluid'>{body}</div></body></html>",
        encoding="utf-8")
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


def _row(page: Path, site: Path, result: Mapping[str, Any]) -> tuple[str, ...]:
    meta = result.get("meta") or {}
    gate = meta.get("gate") or {}
    run = meta.get("run_id") or {}
    stats = result.get("statistics") or {}
    critical, warned = gate.get("critical_failed"), gate.get("warnings_failed")
    suite = str(result.get("suite_name") or page.stem)
    link = html.escape(os.path.relpath(page, site).replace(os.sep, "/"), quote=True)
    evaluated = stats.get("evaluated_expectations")
    return (
        _verdict(result.get("success"), critical, warned),
        html.escape(str(run.get("run_time") or page.parent.name)),
        html.escape(str(run.get("run_name") or page.parent.parent.name)),
        f"<a href=\"{link}\">{html.escape(suite)}</a>",
        html.escape(str((meta.get("batch_spec") or {}).get("table") or "")),
        "" if critical is None else str(int(critical)),
        "" if warned is None else str(int(warned)),
        "" if evaluated is None else f"{int(stats.get('unsuccessful_expectations') or 0)} of {int(evaluated)} failed",
    )


def _verdict(success: Any, critical: Any, warned: Any) -> str:
    if critical or (critical is None and success is False):
        return "<span class='status-failed'>✘ failed</span>"
    if warned:
        return "<span class='status-warned'>⚠ passed with warnings</span>"
    if success is None:
        return "<span>result missing</span>"
    return "<span class='status-passed'>✔ passed</span>"


def _table(rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table class='table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
