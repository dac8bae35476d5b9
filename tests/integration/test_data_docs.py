"""Values from the export are shown as text in Data Docs, never run as HTML, and stay plain elsewhere.

Data Docs pages are opened in a browser, so a category such as `<script>alert(1)</script>` in the
export must reach them HTML-escaped, exactly once. dq.validation_runs, the gate's log and its
exception are plain text: they keep the value as it is, with invisible characters (here a
non-breaking space that makes a value look like an allowed category) shown as escapes.

One corrupted copy of the real export is loaded and gated once, with the raw suites plus one
cross-table unexpected-rows rule whose sample rows carry the category.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from pathlib import Path

import pytest

from etl import data_docs, ingest, quality
from tests.helpers import copy_export, rows
from tests.integration.corruptions import MF, both, set_value

SNAPSHOT = dt.date(2024, 10, 31)
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
NBSP = "Домашний\u00a0текстиль"  # looks exactly like the allowed «Домашний текстиль»
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
RAW_MARKUP = (SCRIPT, "<img src=x onerror")

MARKET_FILE = next(s for s in quality.load_suites("raw") if s.name == "raw.market_file")
[CATEGORY_RULE] = [
    e
    for e in MARKET_FILE.expectations
    if e.type == "expect_column_values_to_be_in_set" and e.kwargs["column"] == "popular_category"
]
ALLOWED_SQL = ", ".join("'" + c.replace("'", "''") + "'" for c in CATEGORY_RULE.kwargs["value_set"])

# Rows of two tables side by side: the unknown category and the same customer's revenue.
CROSS_TABLE = quality.parse_suite(
    {
        "name": "checks.category_revenue",
        "layer": "raw",
        "table": "raw.market_file",
        "source_file": "market_file.csv",
        "columns": dict(MARKET_FILE.columns),
        "expectations": [
            {
                "type": "unexpected_rows_expectation",
                "column": "popular_category",
                "description": "Customers with an unknown category, with their current-month revenue",
                "kwargs": {
                    "unexpected_rows_query": "\n".join(
                        [
                            "WITH batch AS (SELECT * FROM {batch})",
                            "SELECT b.customer_id, b.popular_category, m.revenue",
                            "FROM batch AS b",
                            "JOIN raw.market_money AS m ON m.customer_id = b.customer_id",
                            "  AND m.snapshot_date = b.snapshot_date AND m.period = 'текущий_месяц'",
                            f"WHERE b.popular_category NOT IN ({ALLOWED_SQL})",
                            "ORDER BY b.customer_id",
                        ]
                    )
                },
                "severity": "critical",
                "notes": "Sample rows that hold values of two tables.",
            }
        ],
    }
)


@pytest.fixture(scope="module")
def gate(engine, real_data_dir, tmp_path_factory) -> tuple[quality.QualityGateFailed, str]:
    """The failed gate's exception and what it logged."""
    folder = copy_export(real_data_dir, tmp_path_factory.mktemp("hostile_export"))
    both(
        set_value(MF, "Популярная_категория", SCRIPT, id="215350"),
        set_value(MF, "Популярная_категория", IMG, id="215351"),
        set_value(MF, "Популярная_категория", NBSP, id="215352"),
    )(folder)
    ingest.load_raw(engine, SNAPSHOT, data_dir=folder)
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    logger = logging.getLogger(quality.__name__)
    logger.addHandler(handler)
    try:
        with pytest.raises(quality.QualityGateFailed) as caught:
            quality.validate(
                engine, "raw", SNAPSHOT, suites=[*quality.load_suites("raw"), CROSS_TABLE], docs=data_docs.DataDocs()
            )
    finally:
        logger.removeHandler(handler)
    return caught.value, logged.getvalue()


def _suite(error: quality.QualityGateFailed, name: str) -> quality.SuiteResult:
    return next(s for s in error.result.suites if s.suite == name)


def _stored_result(error: quality.QualityGateFailed, name: str) -> dict:
    """The GX validation result JSON of this run that Data Docs are built from."""
    run = error.result.run_id[:8]
    [path] = [p for p in data_docs.results_store_dir().rglob(f"*-{name}.json") if f"_{run}" in str(p)]
    return json.loads(path.read_text(encoding="utf-8"))


def test_no_data_docs_page_holds_the_values_as_markup(gate):
    pages = sorted(data_docs.data_docs_dir().rglob("*.html"))
    assert len(pages) > len(gate[0].result.suites)  # the run's pages and the index at least
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for markup in RAW_MARKUP:
            assert markup not in text, f"{page} contains {markup!r} unescaped"


def test_the_validation_page_shows_the_values_escaped_once(gate):
    error, _ = gate
    page = Path(_suite(error, "raw.market_file").data_docs_path).read_text(encoding="utf-8")
    assert SCRIPT_ESCAPED in page and IMG_ESCAPED in page
    assert NBSP in page  # the page shows the value itself; only markup characters are escaped
    assert "&amp;lt;" not in page and "&amp;gt;" not in page and "&amp;#x27;" not in page
    # the suite's own values, which GX escapes itself, are not escaped a second time
    assert "Косметика и аксесуары" in page and "&amp;" not in page


def test_sample_rows_of_a_cross_table_rule_are_escaped_for_data_docs_only(gate):
    error, _ = gate
    [finding] = _suite(error, "checks.category_revenue").critical_failed
    assert [r["popular_category"] for r in finding.sample] == [SCRIPT, IMG, NBSP]
    assert all(isinstance(r["revenue"], float) for r in finding.sample)  # from raw.market_money
    [stored] = [
        r
        for r in _stored_result(error, "checks.category_revenue")["results"]
        if r["expectation_config"]["type"] == "single_pass_unexpected_rows"  # etl/quality/single_pass.py
        and "raw.market_money" in r["expectation_config"]["kwargs"]["unexpected_rows_query"]
    ]
    shown = stored["result"]["details"]["unexpected_rows"]
    assert [r["popular_category"] for r in shown] == [SCRIPT_ESCAPED, IMG_ESCAPED, NBSP]
    assert [r["customer_id"] for r in shown] == [215350, 215351, 215352]  # numbers stay numbers
    assert stored["result"]["observed_value"] == 3


def test_stored_results_for_data_docs_escape_the_unexpected_values(gate):
    error, _ = gate
    [stored] = [
        r
        for r in _stored_result(error, "raw.market_file")["results"]
        if r["expectation_config"]["type"] == "expect_column_values_to_be_in_set"
        and r["expectation_config"]["kwargs"]["column"] == "popular_category"
    ]
    result = stored["result"]
    for key in ("partial_unexpected_list", "unexpected_list"):
        assert sorted(result[key]) == sorted([SCRIPT_ESCAPED, IMG_ESCAPED, NBSP]), key
    assert sorted(c["value"] for c in result["partial_unexpected_counts"]) == sorted(
        [SCRIPT_ESCAPED, IMG_ESCAPED, NBSP]
    )
    # the suite's configuration is not data: it stays as written (GX escapes it when rendering)
    assert stored["expectation_config"]["kwargs"]["value_set"] == CATEGORY_RULE.kwargs["value_set"]


def test_validation_runs_keep_the_plain_values(gate, engine):
    error, _ = gate
    recorded = rows(
        engine, "SELECT suite, details FROM dq.validation_runs WHERE run_id = :r ORDER BY suite", r=error.result.run_id
    )
    details = {r["suite"]: r["details"] for r in recorded}
    [category] = [
        d
        for d in details["raw.market_file"]
        if d["column"] == "popular_category" and d["expectation"] == "expect_column_values_to_be_in_set"
    ]
    assert not category["success"] and category["unexpected_count"] == 3
    assert sorted(category["sample"]) == sorted([SCRIPT, IMG, NBSP])
    [rule] = [d for d in details["checks.category_revenue"] if not d["success"]]
    assert [r["popular_category"] for r in rule["sample"]] == [SCRIPT, IMG, NBSP]
    assert "&lt;" not in json.dumps(details, ensure_ascii=False)


def test_message_and_log_show_invisible_characters_as_escapes(gate):
    error, logged = gate
    message = str(error)
    assert "raw.market_file.popular_category (market_file.csv «Популярная_категория»)" in message
    for text in (message, logged):
        assert "Домашний\\xa0текстиль" in text
        assert NBSP not in text
        assert SCRIPT in text and IMG in text and "&lt;" not in text  # plain text, not HTML
