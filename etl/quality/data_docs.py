"""Data Docs: where GX writes its HTML and result JSON, and the escaped copy of each result
it renders from (values from the data never reach a browser as raw HTML)."""
from __future__ import annotations

import copy
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from urllib.parse import unquote, urlparse

from etl.quality.results import Finding
from etl.warehouse import settings

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult

SITE = "local_site"
INDEX_LIMIT = 250  # results on the index page (≈ 50 gate runs); older pages stay on disk


def data_docs_dir() -> Path:
    return settings.reports_dir() / "data_docs"


def results_store_dir() -> Path:
    """GX validation result JSON (what the Data Docs index lists), beside the HTML."""
    return settings.reports_dir() / "gx" / "validations"


def store_gate_verdict(context, identifier, validation, findings: Sequence[Finding]) -> None:
    """Make the stored result (what the Data Docs index shows) say what the gate decided.

    GX marks a suite failed when any expectation fails, whatever its severity; the gate passes
    with failed warnings. The pages still show every failed expectation with its severity.
    """
    critical = sum(1 for f in findings if not f.success and f.severity == "critical")
    warned = sum(1 for f in findings if not f.success and f.severity != "critical")
    validation.meta["gate"] = {"critical_failed": critical, "warnings_failed": warned}
    validation.success = critical == 0
    context.validation_results_store.set(identifier, for_data_docs(validation))


# Keys whose values GX itself escapes, or that must stay as they are, when they reach Data Docs:
# an exception message is a string-template parameter (escaped by GX's view); index column names
# come from the suite and must still match the keys of `unexpected_index_list`.
_EXCEPTION_KEYS_GX_ESCAPES = frozenset({"exception_message"})
_RESULT_KEYS_KEPT = frozenset({"unexpected_index_column_names"})


def for_data_docs(validation: ExpectationSuiteValidationResult) -> ExpectationSuiteValidationResult:
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


def url_to_path(url: str) -> str:
    parsed = urlparse(url)
    return unquote(parsed.path) if parsed.scheme == "file" else url
