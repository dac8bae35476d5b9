"""The HTML reports read the way a person reads them: opened in a real headless Chromium that
cannot reach any other host (tests/browser.py), and checked on what the browser shows.

Data Docs: the hostile-export gate run of test_data_docs.py (a failed critical expectation in
raw.market_file, the real export's two failed warnings in raw.market_money), plus one suite over a
table without partitions, which GX reads through a query asset copied into a temporary table.
Model card: the run's champion (champion.py): churn_retrain's steps, reduced search (logreg) on
the real export, registered and gated as in production, its card written by training.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa

from etl import data_docs, quality
from ml import model_card, model_card_plots, model_card_use
from tests.browser import Dom
from tests.integration.test_data_docs import MARKET_FILE, SNAPSHOT, gate  # noqa: F401 (gate: the run's fixture)

PLAIN = "public.plain_market_file"  # the snapshot's rows in a table without partitions
CATEGORY_RULE = next(e for e in MARKET_FILE.expectations if e.kwargs.get("column") == "popular_category")
PLAIN_SUITE = quality.parse_suite(
    {
        "name": "checks.plain_market_file",
        "layer": "raw",
        "table": PLAIN,
        "columns": dict(MARKET_FILE.columns),
        "expectations": [
            {
                "type": CATEGORY_RULE.type,
                "kwargs": dict(CATEGORY_RULE.kwargs),
                "severity": "critical",
                "notes": "The category rule of raw.market_file, on a copy GX cannot read in place.",
            },
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "tenure_days", "max_value": 200},
                "severity": "warning",
                "notes": "A warning that fails on the real export.",
            },
        ],
    }
)
EXTERNAL = re.compile(r"https?://", re.IGNORECASE)


def _text(value: str) -> str:
    return " ".join(value.split())


@dataclass(frozen=True)
class Site:
    pages: dict[str, Path]  # suite → its validation page of this module's runs
    findings: dict[str, tuple[quality.Finding, ...]]
    index: Path

    def all(self) -> list[Path]:
        return [*self.pages.values(), self.index]


@pytest.fixture(scope="module")
def site(gate, engine) -> Site:
    error, _ = gate
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {PLAIN}"))
        conn.execute(
            sa.text(f"CREATE TABLE {PLAIN} AS SELECT * FROM raw.market_file WHERE snapshot_date = :d"), {"d": SNAPSHOT}
        )
    with pytest.raises(quality.QualityGateFailed) as plain:
        quality.validate(engine, "raw", SNAPSHOT, suites=[PLAIN_SUITE], docs=data_docs.DataDocs())
    suites = [*error.result.suites, *plain.value.result.suites]
    return Site(
        {s.suite: Path(s.data_docs_path) for s in suites},
        {s.suite: s.findings for s in suites},
        data_docs.data_docs_dir() / "index.html",
    )


@pytest.fixture(scope="module")
def shown(render, site) -> dict[Path, tuple[Dom, list[str]]]:
    """Each page of the site opened once: its DOM and the URLs the browser requested."""
    opened = {}
    for page in site.all():
        dom, requested = render.open(page)
        opened[page] = (Dom(dom), requested)
    return opened


def _expectation_rows(dom: Dom) -> list[list[str]]:
    """Rows of the tables that list expectations (header Status | Severity | Expectation | …)."""
    return [
        [_text(cell) for cell in row]
        for table in dom.tables
        if table and [_text(c) for c in table[0][:3]] == ["Status", "Severity", "Expectation"]
        for row in table[1:]
    ]


@pytest.mark.parametrize("suite", ["raw.market_file", "raw.market_money", PLAIN_SUITE.name])
def test_every_expectation_shows_its_severity(site, shown, render, suite):
    rows = _expectation_rows(shown[site.pages[suite]][0])
    findings = site.findings[suite]
    assert len(rows) == len(findings)  # one row per expectation, each with its severity
    assert {row[1] for row in rows} <= {"critical", "warning"}
    assert collections.Counter(row[1] for row in rows) == collections.Counter(f.severity for f in findings)
    failed = sorted(row[1] for row in rows if row[0] == "✘ failed")
    assert failed == sorted(f.severity for f in findings if not f.success) and failed
    assert {"critical", "warning"} <= set(render.visible_text(site.pages[suite]).split())


def test_the_failed_severities_are_the_gates(site, shown):
    """raw.market_file stopped the gate (a critical failed); raw.market_money only warned."""
    assert {row[1] for row in _expectation_rows(shown[site.pages["raw.market_file"]][0]) if row[0] == "✘ failed"} == {
        "critical"
    }
    assert {row[1] for row in _expectation_rows(shown[site.pages["raw.market_money"]][0]) if row[0] == "✘ failed"} == {
        "warning"
    }


def test_pages_need_no_network(site, shown):
    for page in site.all():
        _, requested = shown[page]
        assert [url for url in requested if EXTERNAL.match(url)] == [], page
        assert not EXTERNAL.search(page.read_text(encoding="utf-8")), f"{page} still names another host"


def test_the_page_is_readable_offline(site, render):
    """What a reader sees, with no CDN: the statistics, statuses as words, values as text."""
    visible = render.visible_text(site.pages["raw.market_file"])
    for text in (
        "Evaluated Expectations",
        "Unsuccessful Expectations",
        "✘ failed",
        "✔ passed",
        "3 unexpected values found",
        "popular_category",
        "Table of Contents",
    ):
        assert text in visible, text
    # the export's markup is shown as text (it was escaped once, and stays so)
    assert "<script>alert(1)</script>" in visible and "<img src=x onerror=alert(1)>" in visible
    assert "Show more info" not in visible  # its toggle needed Bootstrap's JavaScript; the part is open


def test_every_local_link_and_asset_resolves(site, shown):
    for page in site.all():
        dom = shown[page][0]
        ids = {attrs.get("id") for _, attrs in dom.elements}
        urls = [
            *dom.attributes("a", "href"),
            *dom.attributes("img", "src"),
            *dom.attributes("link", "href"),
            *dom.attributes("script", "src"),
        ]
        assert urls, page
        for url in urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{page}: {url}"
            if parts.path:
                assert (page.parent / unquote(parts.path)).is_file(), f"{page}: broken link {url}"
            else:
                assert parts.fragment in ids, f"{page}: no element #{parts.fragment}"


def test_batch_parts_name_the_table_and_snapshot_not_a_temp_table(site, render):
    plain = render.visible_text(site.pages[PLAIN_SUITE.name])
    assert "gx_temp_" not in plain and "gx_temp_" not in site.pages[PLAIN_SUITE.name].read_text(encoding="utf-8")
    assert PLAIN in plain and SNAPSHOT.isoformat() in plain
    batch = _text(PLAIN_SUITE.snapshot_query(SNAPSHOT))
    assert f"the snapshot query: {batch}" in _text(plain)
    assert f"FROM ({batch}) AS batch" in _text(plain)  # the query for all unexpected values
    partition = _text(render.visible_text(site.pages["raw.market_file"]))
    assert "raw.market_file" in partition and f"snapshot_date {SNAPSHOT.isoformat()}" in partition


def test_the_index_lists_each_suite_with_the_gates_verdict(site, shown):
    dom = shown[site.index][0]
    [table] = [t for t in dom.tables if t and _text(t[0][0]) == "Gate"]
    header = [_text(c) for c in table[0]]
    verdicts = {(_text(r[header.index("Run")]), _text(r[header.index("Suite")])): _text(r[0]) for r in table[1:]}
    run_name = site.pages["raw.market_file"].parent.parent.name  # validations/<suite>/<run>/<time>/<page>
    assert verdicts[(run_name, "raw.market_file")] == "✘ failed"
    assert verdicts[(run_name, "raw.market_money")] == "⚠ passed with warnings"
    assert verdicts[(run_name, "raw.money")] == "✔ passed"
    links = {(site.index.parent / unquote(href)).resolve() for href in dom.attributes("a", "href")}
    assert {page.resolve() for page in site.pages.values()} <= links


# ------------------------------------------------------------------ model card
@pytest.fixture(scope="module")
def card(champion) -> dict:
    """The registry row of the run's champion (its card written by training)."""
    return {**champion, "training_snapshot": dt.date.fromisoformat(champion["training_snapshot"])}


def test_the_model_card_says_what_it_is_for(card, render):
    visible = _text(render.visible_text(Path(card["model_card_path"])))
    assert model_card_use.SECTION_TITLE in visible
    for heading in ("Intended use", "Not intended for", "Limitations"):
        assert heading in visible
    assert "retention offers" in visible and "Credit, pricing" in visible and "adverse decisions" in visible
    # the facts are this version's: its snapshot, rows and cross-validation spread
    roc = card["metrics"]["roc_auc"]
    assert f"one snapshot ({card['training_snapshot'].isoformat()}) of {card['training_rows']} customers" in visible
    assert f"ROC-AUC {roc['mean']:.3f} ± {roc['std']:.3f} over {card['metrics']['folds']} folds" in visible
    assert "population stability index" in visible


def test_the_model_card_titles_every_plot(card, render):
    path = Path(card["model_card_path"])
    dom, requested = render.open(path)
    visible = render.visible_text(path)
    for title in model_card_plots.TITLES.values():
        assert title in visible, f"no caption {title!r}"
    images = {attrs.get("alt"): attrs.get("src", "") for tag, attrs in Dom(dom).elements if tag == "img"}
    assert set(images) == set(model_card_plots.TITLES)
    for alt, src in images.items():
        png = base64.b64decode(src.removeprefix("data:image/png;base64,"))
        assert png.startswith(b"\x89PNG"), alt
    width = int.from_bytes(base64.b64decode(images["feature distributions"].split(",", 1)[1])[16:20], "big")
    assert width > 1200  # wide enough for full category names beside each panel
    assert [url for url in requested if EXTERNAL.match(url)] == [] and not EXTERNAL.search(dom)


def test_the_model_card_lists_the_parameters_as_a_table(card, render):
    dom = Dom(render(Path(card["model_card_path"])))
    [table] = [t for t in dom.tables if t and [_text(c) for c in t[0]] == ["parameter", "value"]]
    shown = {_text(name): _text(value) for name, value in table[1:]}
    assert shown == {name: model_card.parameter_value(value) for name, value in card["parameters"].items()}
    assert all("{" not in value for value in shown.values())  # no JSON blob in one cell


def test_category_names_are_wrapped_not_cut():
    long_name = "Мелкая бытовая техника и электроника"
    assert model_card_plots.wrapped(long_name).replace("\n", " ") == long_name
    assert max(map(len, model_card_plots.wrapped(long_name).splitlines())) <= model_card_plots.LABEL_WIDTH


# ------------------------------------------------------------------ targeting card
def test_the_targeting_card_reads_offline_with_every_section(render, tmp_path_factory):
    from bench import uplift as simulation
    from ml.uplift import card as targeting_card

    sim, _, verdict = simulation.trained(seed=1)
    path = tmp_path_factory.mktemp("targeting") / "card.html"
    path.write_text(targeting_card.render("uplift-render-test", dt.date(2027, 8, 31), verdict, sim.rules))
    dom, requested = render.open(path)
    visible = _text(render.visible_text(path))
    for heading in targeting_card.SECTIONS.values():
        assert heading in visible, heading
    assert _text(verdict.reason) in visible
    for title in targeting_card.TITLES.values():
        assert title in visible, f"no caption {title!r}"
    images = [attrs.get("src", "") for tag, attrs in Dom(dom).elements if tag == "img"]
    assert len(images) == 2 * len(verdict.models)
    assert all(base64.b64decode(src.removeprefix("data:image/png;base64,")).startswith(b"\x89PNG") for src in images)
    assert [url for url in requested if EXTERNAL.match(url)] == [] and not EXTERNAL.search(dom)
