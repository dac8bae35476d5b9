"""The copy of a gate's result that Data Docs are rendered from: values from the data
HTML-escaped (they never reach a browser as raw HTML), the batch named in a reader's terms.

Stored by etl/data_docs/publish.py in place of GX's own; the gate's findings, dq.validation_runs
and the log keep the plain values.
"""

from __future__ import annotations

import copy
import html
import re
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult


# Keys whose values GX itself escapes, or that must stay as they are, when they reach Data Docs:
# an exception message is a string-template parameter (escaped by GX's view); index column names
# come from the suite and must still match the keys of `unexpected_index_list`.
_EXCEPTION_KEYS_GX_ESCAPES = frozenset({"exception_message"})
_RESULT_KEYS_KEPT = frozenset({"unexpected_index_column_names"})


def for_data_docs(
    validation: ExpectationSuiteValidationResult, table: str | None = None
) -> ExpectationSuiteValidationResult:
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

    The copy also names the rows checked in terms a reader can use (`_batch_for_readers`): the
    suite's `table` and the snapshot, where GX shows its batch spec and, for a query asset, a
    query for all unexpected values over the temporary table it copied the batch into, which is
    gone when the run ends; that query reads the snapshot's rows instead (`_real_query`).
    """
    escaped = copy.copy(validation)
    escaped.meta = _batch_for_readers(validation.meta or {}, table)
    batch_query = ((validation.meta or {}).get("batch_spec") or {}).get("query")
    escaped.results = []
    for evr in validation.results:
        evr_copy = copy.copy(evr)
        evr_copy.result = _escape_html(_real_query(evr.result, batch_query), keep=_RESULT_KEYS_KEPT)
        evr_copy.exception_info = _escape_html(evr.exception_info, keep=_EXCEPTION_KEYS_GX_ESCAPES)
        escaped.results.append(evr_copy)
    return escaped


# What GX shows of the batch ("Show more info…"): replaced by `_batch_for_readers`.
_BATCH_KEYS = ("batch_spec", "batch_markers", "batch_kwargs", "batch_parameters", "batch_request")
_SNAPSHOT = re.compile(r"\d{4}-\d{2}-\d{2}")  # the gate names its runs <layer>_<snapshot>_<run id>
_TEMP_TABLE = re.compile(r"\bgx_temp_[0-9a-f]{8}\b")  # great_expectations.util.generate_temporary_table_name


def _batch_for_readers(meta: Mapping[str, Any], table: str | None) -> dict[str, Any]:
    """The result's meta with the batch described by table, snapshot and where its rows were read
    (the snapshot's partition, or the snapshot query), instead of GX's load markers and spec."""
    spec = meta.get("batch_spec") or {}
    if not spec and table is None:
        return dict(meta)
    run_id = meta.get("run_id")  # a RunIdentifier, or its dict once read back from the store
    run_name = run_id.get("run_name") if isinstance(run_id, Mapping) else getattr(run_id, "run_name", None)
    snapshot = _SNAPSHOT.search(str(run_name or ""))
    shown: dict[str, Any] = {"data_asset_name": spec.get("data_asset_name"), "table": table}
    if snapshot:
        shown["snapshot_date"] = snapshot.group()
    if spec.get("query"):
        shown["rows"] = f"the snapshot query: {spec['query']}"
    elif spec.get("table_name"):
        shown["rows"] = "the snapshot's partition " + ".".join(
            filter(None, (spec.get("schema_name"), spec["table_name"]))
        )
    return {
        **{k: v for k, v in meta.items() if k not in _BATCH_KEYS},
        "batch_spec": {k: v for k, v in shown.items() if v is not None},
    }


def _real_query(result: Any, batch_query: str | None) -> Any:
    """`result` with its query for all unexpected values reading the batch's own rows, not GX's
    temporary copy of them (dropped after the run); without the snapshot query, no query."""
    query = result.get("unexpected_index_query") if isinstance(result, Mapping) else None
    if not isinstance(query, str) or not _TEMP_TABLE.search(query):
        return result
    kept = {k: v for k, v in result.items() if k != "unexpected_index_query"}
    if batch_query:
        kept["unexpected_index_query"] = _TEMP_TABLE.sub(lambda _: f"({batch_query}) AS batch", query)
    return kept


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
