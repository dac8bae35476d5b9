"""Data Docs (etl/data_docs) show values from the data as text, never as markup: GX's pages get
an escaped copy of each result."""
from __future__ import annotations

from etl import data_docs


def _data_docs_page(validation) -> str:
    """The validation page as GX's site builder renders it."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(validation))


def test_data_docs_get_values_from_the_data_escaped_once():
    """GX leaves result values raw in the page (and escapes exception messages itself)."""
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    script, img = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"

    def evr(type_, kwargs, result=None, exception_info=None):
        return ExpectationValidationResult(
            success=False, expectation_config=ExpectationConfiguration(type=type_, kwargs=kwargs),
            result=result, exception_info=exception_info)

    results = [
        evr("expect_column_values_to_be_in_set", {"column": "popular_category", "value_set": ["a<b"]}, {
            "element_count": 3, "unexpected_count": 2, "unexpected_percent": 66.7, "missing_count": 0,
            "missing_percent": 0.0, "unexpected_percent_total": 66.7, "unexpected_percent_nonmissing": 66.7,
            "partial_unexpected_list": [script, img], "unexpected_list": [script, img],
            "partial_unexpected_counts": [{"value": script, "count": 1}, {"value": img, "count": 1}],
            "unexpected_index_query": "SELECT popular_category FROM t WHERE popular_category NOT IN ('a<b')",
        }),
        evr("expect_column_most_common_value_to_be_in_set", {"column": "popular_category", "value_set": ["a"]},
            {"observed_value": [script], "details": {"most_common_values": [script]}}),
        evr("unexpected_rows_expectation", {"unexpected_rows_query": "SELECT * FROM {batch} WHERE revenue < 0"},
            {"observed_value": 1, "details": {"unexpected_rows": [{"customer_id": 215350, "category": img}]}}),
        evr("expect_column_values_to_be_between", {"column": "revenue", "min_value": 0}, None, {
            "raised_exception": True, "exception_message": f"invalid value {script}",
            "exception_traceback": f"Traceback (most recent call last):\nValueError: invalid value {img}",
        }),
    ]
    validation = ExpectationSuiteValidationResult(
        success=False, results=results, suite_name="raw.market_file",
        statistics={"evaluated_expectations": 4, "successful_expectations": 0, "unsuccessful_expectations": 4,
                    "success_percent": 0.0},
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

