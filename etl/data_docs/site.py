"""The Data Docs site as GX builds it, plus what the gate's readers need: each expectation's
severity in its row, and pages that work without network (etl/data_docs/offline.py).

Both are GX extension points named in the site's config (`site_config`): a SiteBuilder that runs
the offline pass after every build, and a validation-results table renderer with a Severity
column. Imported by GX (by module name) and by `DataDocs.configure` (etl/data_docs/publish.py)
when the gate makes its context, never at import time of etl.data_docs, since it imports GX.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import unquote, urlparse

from great_expectations.render import RenderedStringTemplateContent
from great_expectations.render.renderer.content_block import ValidationResultsTableContentBlockRenderer
from great_expectations.render.renderer.site_builder import SiteBuilder

from etl.data_docs import index, offline

MODULE = __name__
CONVERTED = ".offline"  # in the site folder: every page there has been made offline
SEVERITY_HEADER = "Severity"


def site_config(current: Mapping[str, Any], results_directory: Path) -> dict[str, Any]:
    """`current` (a SiteBuilder config) with this module's builder and severity column."""
    config = {key: value for key, value in current.items() if key not in ("module_name", "class_name")}
    sections = dict(config.get("site_section_builders") or {})
    sections["validations"] = {
        **dict(sections.get("validations") or {}),
        "renderer": {
            "class_name": "ValidationResultsPageRenderer",
            "column_section_renderer": {
                "class_name": "ValidationResultsColumnSectionRenderer",
                "table_renderer": {"module_name": MODULE, "class_name": SeverityTableRenderer.__name__},
            },
        },
    }
    return {
        **config,
        "module_name": MODULE,
        "class_name": OfflineSiteBuilder.__name__,
        "site_section_builders": sections,
        "results_directory": str(results_directory),
    }


class OfflineSiteBuilder(SiteBuilder):
    """GX's SiteBuilder, then the offline pass over the pages it just wrote and a static index.

    GX's pages load Bootstrap, jQuery and Font Awesome from CDNs and draw the index table with
    JavaScript, so where the warehouse runs (no internet) they are blank; they also link to
    expectation-suite pages that this site never builds.
    """

    # GX passes the context and the runtime environment by the names in this signature
    def __init__(
        self,
        data_context,
        store_backend,
        site_name=None,
        site_index_builder=None,
        show_how_to_buttons=True,
        site_section_builders=None,
        runtime_environment=None,
        results_directory: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            data_context,
            store_backend,
            site_name=site_name,
            site_index_builder=site_index_builder,
            show_how_to_buttons=show_how_to_buttons,
            site_section_builders=site_section_builders,
            runtime_environment=runtime_environment,
            **kwargs,
        )
        self.site_directory = Path(self.store_backend["base_directory"])
        self.results_directory = Path(results_directory) if results_directory else None

    def build(self, resource_identifiers=None, build_index: bool = True):
        """GX's build, then the offline pass over the pages just built (over every page once, for
        a site built before this builder: `CONVERTED` marks a site whose pages all went through)."""
        built = super().build(resource_identifiers, build_index=build_index)
        converted = self.site_directory / CONVERTED
        if resource_identifiers is None or not converted.is_file():
            pages = sorted((self.site_directory / "validations").rglob("*.html"))
        else:
            pages = [page for page in map(self._page_of, resource_identifiers) if page is not None]
        for page in pages:
            offline.make_page_offline(page, self.site_directory)
        converted.touch()
        if build_index and self.results_directory is not None:
            index.write_index(
                self.site_directory, self.results_directory, self.site_index_builder.validation_results_limit
            )
        return built

    def _page_of(self, identifier) -> Path | None:
        url = self.get_resource_url(resource_identifier=identifier, only_if_exists=True)
        if not url:
            return None
        parsed = urlparse(url)
        return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


class SeverityTableRenderer(ValidationResultsTableContentBlockRenderer):
    """GX's table of a column's results with a Severity column after Status.

    The gate decides by severity (a failed warning does not stop the run), so a reader must see
    it beside each expectation; GX carries it in the configuration but does not render it.
    """

    @classmethod
    def _process_content_block(cls, content_block, has_failed_evr, render_object=None) -> None:
        super()._process_content_block(content_block, has_failed_evr, render_object)
        content_block.header_row.insert(1, SEVERITY_HEADER)

    @classmethod
    def _get_content_block_fn(cls, expectation_type: str, expectation_config=None) -> Callable | None:
        row_fn = super()._get_content_block_fn(expectation_type=expectation_type, expectation_config=expectation_config)
        if row_fn is None:
            return None

        def with_severity(configuration=None, result=None, runtime_configuration=None, **kwargs):
            rows = row_fn(
                configuration=configuration, result=result, runtime_configuration=runtime_configuration, **kwargs
            )
            config = result.expectation_config if result is not None else configuration
            for row in rows:
                row.insert(1, severity_cell(config))
            return rows

        return with_severity


def severity_of(config: Any) -> str:
    """'critical' / 'warning' / 'info' of an expectation configuration (GX's default: critical)."""
    severity = getattr(config, "severity", None) or "critical"
    return str(getattr(severity, "value", severity))


def severity_cell(config: Any) -> RenderedStringTemplateContent:
    severity = severity_of(config)
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={
            "template": "$severity",
            "params": {"severity": severity},
            "styling": {"params": {"severity": {"classes": ["badge", "severity", f"severity-{severity}"]}}},
        },
    )
