"""Data Docs (etl/data_docs) show values from the data and names from the suites as text, never as
markup: GX's pages get an escaped copy of each result, and the pages written from this room's own
templates escape whatever they are given."""

from __future__ import annotations

import json
from pathlib import Path

from etl import data_docs
from etl.data_docs import index, offline, render
from etl.data_docs.style import MARKER, STYLE

SCRIPT, IMG = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"
BREAKOUT = "x\"'><svg onload=alert(1)>"  # closes an attribute of either quote, then opens a tag
RAW_MARKUP = ("<script>", "<img src=x", "<svg", "onerror=alert(1)>")


def _data_docs_page(validation) -> str:
    """The validation page as GX's site builder renders it."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(validation))


def test_data_docs_get_values_from_the_data_escaped_once():
    """GX leaves result values raw in the page (and escapes exception messages itself).
    It is long because it builds one result of each kind GX renders, inline, beside its asserts."""
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    script, img = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"

    def evr(type_, kwargs, result=None, exception_info=None):
        return ExpectationValidationResult(
            success=False,
            expectation_config=ExpectationConfiguration(type=type_, kwargs=kwargs),
            result=result,
            exception_info=exception_info,
        )

    results = [
        evr(
            "expect_column_values_to_be_in_set",
            {"column": "popular_category", "value_set": ["a<b"]},
            {
                "element_count": 3,
                "unexpected_count": 2,
                "unexpected_percent": 66.7,
                "missing_count": 0,
                "missing_percent": 0.0,
                "unexpected_percent_total": 66.7,
                "unexpected_percent_nonmissing": 66.7,
                "partial_unexpected_list": [script, img],
                "unexpected_list": [script, img],
                "partial_unexpected_counts": [{"value": script, "count": 1}, {"value": img, "count": 1}],
                "unexpected_index_query": "SELECT popular_category FROM t WHERE popular_category NOT IN ('a<b')",
            },
        ),
        evr(
            "expect_column_most_common_value_to_be_in_set",
            {"column": "popular_category", "value_set": ["a"]},
            {"observed_value": [script], "details": {"most_common_values": [script]}},
        ),
        evr(
            "unexpected_rows_expectation",
            {"unexpected_rows_query": "SELECT * FROM {batch} WHERE revenue < 0"},
            {"observed_value": 1, "details": {"unexpected_rows": [{"customer_id": 215350, "category": img}]}},
        ),
        evr(
            "expect_column_values_to_be_between",
            {"column": "revenue", "min_value": 0},
            None,
            {
                "raised_exception": True,
                "exception_message": f"invalid value {script}",
                "exception_traceback": f"Traceback (most recent call last):\nValueError: invalid value {img}",
            },
        ),
    ]
    validation = ExpectationSuiteValidationResult(
        success=False,
        results=results,
        suite_name="raw.market_file",
        statistics={
            "evaluated_expectations": 4,
            "successful_expectations": 0,
            "unsuccessful_expectations": 4,
            "success_percent": 0.0,
        },
        meta={"run_id": {"run_name": "raw_2026-05-31", "run_time": "2026-05-31T00:00:00+00:00"}},
    )
    plain = _data_docs_page(validation)
    assert script in plain and "<img src=x onerror" in plain  # what GX does on its own

    escaped = data_docs.for_data_docs(validation)
    page = _data_docs_page(escaped)
    assert script not in page and "<img src=x onerror" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # counts table, observed value, exception
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&amp;" not in page  # nothing escaped twice: neither the message nor the suite's values
    assert "revenue &lt; 0" in page and "a&lt;b" in page
    rows = escaped.results[2].result["details"]["unexpected_rows"]
    assert rows == [{"customer_id": 215350, "category": "&lt;img src=x onerror=alert(1)&gt;"}]
    # the gate's own result is untouched: findings and dq.validation_runs keep the plain values
    assert validation.results[0].result["partial_unexpected_list"] == [script, img]
    assert validation.results[3].exception_info["exception_traceback"].endswith(img)


def _stored(results: Path, site: Path, parts: tuple[str, ...], result: dict) -> Path:
    """A validation page of the site and the stored result it was built from, as GX lays them out."""
    page = site.joinpath("validations", *parts).with_suffix(".html")
    page.parent.mkdir(parents=True)
    page.write_text("<html><body>page</body></html>", encoding="utf-8")
    stored = results.joinpath(*parts).with_suffix(".json")
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps(result), encoding="utf-8")
    return page


def test_the_index_shows_hostile_suite_table_and_run_names_as_text(tmp_path):
    site, results = tmp_path / "site", tmp_path / "results"
    suite, table, run_name = f"raw.{SCRIPT}", f"raw.{IMG}", f"raw_2026-05-31_{BREAKOUT}"
    _stored(
        results,
        site,
        (suite, run_name, "20260531T000000.000000Z", f"{BREAKOUT}-batch"),
        {
            "suite_name": suite,
            "success": False,
            "statistics": {"evaluated_expectations": 3, "unsuccessful_expectations": 2},
            "meta": {
                "gate": {"critical_failed": 1, "warnings_failed": 1},
                "batch_spec": {"table": table},
                "run_id": {"run_name": run_name, "run_time": f"2026-05-31T00:00:00 {SCRIPT}"},
            },
        },
    )
    _stored(
        results,
        site,
        ("raw.money", "raw_2026-05-31_ok", "20260530T000000.000000Z", "batch"),
        {
            "suite_name": "raw.money",
            "success": True,
            "meta": {"gate": {"critical_failed": 0, "warnings_failed": 2}},
        },
    )
    page = index.write_index(site, results).read_text(encoding="utf-8")

    assert not [m for m in RAW_MARKUP if m in page]
    assert "raw.&lt;script&gt;alert(1)&lt;/script&gt;" in page and "raw.&lt;img src=x onerror=alert(1)&gt;" in page
    assert "raw_2026-05-31_x&#34;&#39;&gt;&lt;svg onload=alert(1)&gt;" in page  # the run name, a cell
    # the link to the page: the quotes in its path cannot end the attribute
    assert 'href="validations/raw.&lt;script&gt;alert(1)&lt;/script&gt;/raw_2026-05-31_x&#34;&#39;&gt;' in page
    assert "✘ failed" in page and "1</td>" in page and "2 of 3 failed" in page
    assert "⚠ passed with warnings" in page  # the second suite: warnings only
    assert "&amp;lt;" not in page  # escaped once


def test_pages_of_the_room_get_the_stylesheet_unescaped_and_the_marker():
    head = render.render(render.HEAD)
    assert head == f"{MARKER}<style>{STYLE}</style>"  # CSS quotes stay quotes inside <style>
    assert render.ENVIRONMENT.autoescape is True


def test_the_offline_pass_keeps_escaped_text_escaped(tmp_path):
    """GX rendered from `for_data_docs`' copy: the rewrite must not turn escaped text back into markup."""
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>t</title></head><body><table><tr><td>&lt;script&gt;x&lt;/script&gt;"
        '</td><td title="a &quot;b&quot;">&#60;img&#62;</td></tr></table></body></html>',
        encoding="utf-8",
    )
    offline.make_page_offline(page, tmp_path)
    rewritten = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;x&lt;/script&gt;" in rewritten and "&#60;img&#62;" in rewritten
    assert "<script>" not in rewritten and "<img" not in rewritten
    assert rewritten.count(MARKER) == 1 and f"<style>{STYLE}</style></head>" in rewritten
