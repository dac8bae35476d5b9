"""Data Docs for the gate: where GX writes its HTML and result JSON, and what a gate run adds to
GX's context (`DataDocs.configure`) and does after its checkpoint (`DataDocs.publish`).

`DataDocs` is the gate's publisher (`etl.quality.gate.Publisher`): the pipelines' steps pass it to
`quality.validate(..., docs=DataDocs())`. The site is built by etl/data_docs/site.py's builder
(severity column, pages rewritten to work offline by offline.py, a static index by index.py) from
the escaped copy of each result (escaped.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from urllib.parse import unquote, urlparse

from etl.data_docs.escaped import for_data_docs
from etl.warehouse import settings

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult

    from etl.quality import Finding

SITE = "local_site"
INDEX_LIMIT = 250  # results on the index page (≈ 50 gate runs); older pages stay on disk


def data_docs_dir() -> Path:
    return settings.reports_dir() / "data_docs"


def results_store_dir() -> Path:
    """GX validation result JSON (what the Data Docs index lists), beside the HTML."""
    return settings.reports_dir() / "gx" / "validations"


class DataDocs:
    """The gate's results as GX Data Docs under `data_docs_dir()`, their JSON under `results_store_dir()`."""

    def configure(self, config: Any) -> None:
        """A file store for the results (the index reads them back) and the site of site.py's builder:
        pages that work offline and show each expectation's severity. The index lists the newest
        results only: it reads each one."""
        from etl.data_docs import site  # imports GX: only here

        config.stores[config.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(results_store_dir())},
        }
        config.data_docs_sites = {
            SITE: site.site_config(
                {
                    "show_how_to_buttons": False,
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(data_docs_dir()),
                    },
                    "site_index_builder": {
                        "class_name": "DefaultSiteIndexBuilder",
                        "validation_results_limit": INDEX_LIMIT,
                    },
                },
                results_store_dir(),
            )
        }

    def publish(
        self,
        context: Any,
        validations: Mapping[Any, ExpectationSuiteValidationResult],
        findings: Mapping[str, Sequence[Finding]],
    ) -> tuple[dict[str, str | None], Path | None]:
        """Store each result as the gate decided it, build the site once for the run, and return
        each suite's page (by suite name) and the index (None where GX wrote none)."""
        for identifier, validation in validations.items():
            store_gate_verdict(context, identifier, validation, findings[validation.suite_name])
        context.build_data_docs(site_names=[SITE], resource_identifiers=list(validations))
        pages: dict[str, str | None] = {}
        for identifier, validation in validations.items():
            urls = context.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE)
            pages[validation.suite_name] = url_to_path(urls[0]["site_url"]) if urls else None
        index = data_docs_dir() / "index.html"
        return pages, index if index.is_file() else None


def store_gate_verdict(context, identifier, validation, findings: Sequence[Finding]) -> None:
    """Make the stored result (what the Data Docs index shows) say what the gate decided.

    GX marks a suite failed when any expectation fails, whatever its severity; the gate passes
    with failed warnings. The pages still show every failed expectation with its severity (the
    site's builder is etl/data_docs/site.py's, configured by `DataDocs.configure`).
    """
    critical = sum(1 for f in findings if not f.success and f.severity == "critical")
    warned = sum(1 for f in findings if not f.success and f.severity != "critical")
    validation.meta["gate"] = {"critical_failed": critical, "warnings_failed": warned}
    validation.success = critical == 0
    table = findings[0].table if findings else None
    context.validation_results_store.set(identifier, for_data_docs(validation, table=table))


def url_to_path(url: str) -> str:
    parsed = urlparse(url)
    return unquote(parsed.path) if parsed.scheme == "file" else url
