"""GX Data Docs of the quality gates: HTML pages a person opens in a browser, where the warehouse
runs (no network), showing what each gate run decided and why.

Why a room of its own: the gate (etl.quality) decides and records; how its results are rendered
for people is a separate concern, rewritten around GX's site builder. The gate does not import
this room: the pipelines' steps pass `DataDocs()` to `quality.validate(..., docs=...)` (the gate's
`Publisher`), and the gate calls it to configure GX's context and, after the checkpoint, to
publish the run's results.

Modules: `publish` (where the HTML and result JSON go; `DataDocs`, the gate's publisher),
`escaped` (the copy of each result the pages are built from: values from the data HTML-escaped,
see `escaped.for_data_docs`), `site` (the GX site builder: a severity column, then `offline`
makes every page work without network, `style` its stylesheet, `index` a static index).
Pages this room writes itself are Jinja2 templates in templates/ (`render`), autoescaped.
The names re-exported here are the room's interface; importing it does not import GX.
"""

from etl.data_docs.escaped import for_data_docs
from etl.data_docs.publish import DataDocs, data_docs_dir, results_store_dir

__all__ = ["DataDocs", "data_docs_dir", "for_data_docs", "results_store_dir"]
