"""ml/model_card.py renders its Jinja2 template with autoescape on: whatever text reaches the card
(a model version, a feature or parameter name, a gate reason) is shown as text and never runs.
Plots are stubbed (they are drawn in tests/integration/test_reports_render.py); no database."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml import features, model_card, model_card_plots

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert(1)</script>"
PNG = "iVBORw0KGgo="
STAT = {"mean": 0.71234, "std": 0.0456, "min": 0.61, "max": 0.8}


class _Page(HTMLParser):
    """The tags a browser would build and the text it would show."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _realized(snapshot_date: str) -> dict:
    return {
        "score_date": snapshot_date,
        "settled_by": "2026-04-01",
        "customers": 100,
        "evaluated_on": "settled",
        "roc_auc": 0.7,
        "roc_auc_low": None,
        "roc_auc_high": 0.8,
        "brier_score": 0.2,
        "cv_roc_auc_mean": 0.72,
        "cv_roc_auc_std": 0.03,
        "below_cv": True,
    }


def _card(hostile: str, *, params: dict | None = None, realized: list | None = None) -> dict:
    params = {"model__C": 0.5, f"model__{hostile}": hostile} if params is None else params
    details = [
        {
            "family": "logreg",
            "estimator": "LogisticRegression",
            "metrics": {"roc_auc": STAT, "brier": STAT},
            "search": {"n_iter": 4},
            "search_seconds": 1.5,
            "eval_seconds": 2.25,
            "params": params,
        }
    ]
    frame = pd.DataFrame({"x": range(6)})
    return dict(
        model_version=f"v1{hostile}",
        frame=frame,
        X=frame,
        y=np.array([0, 1, 1, 0, 1, 0]),
        best={"family": "logreg", "estimator": f"LR{hostile}", "params": params, "folds": {}},
        details=details,
        decision={
            "promote": True,
            "rule": f"rule {hostile}",
            "reason": f"reason {hostile}",
            "champion_source": f"source {hostile}",
            "champion_version": f"champion{hostile}",
            "champion_realized": [_realized(hostile)] if realized is None else realized,
        },
        metrics={
            "cv": {"scheme": "repeated stratified", "splits": 5, "repeats": 2},
            "folds": 10,
            "search": {"budget": "reduced", "n_iter": 4, "folds": 3},
            "threshold": 0.4321,
            "threshold_rule": f"max F1 {hostile}",
            "calibration": "isotonic",
            "permutation_importance": {},
            **{name: STAT for name in ("roc_auc", "brier", "log_loss", "f1", "recall", "precision")},
        },
        artifact_sha256="ab" * 32,
        library_versions={"scikit-learn": f"1.9.1{hostile}"},
        snapshot=dt.date(2026, 1, 1),
    )


@pytest.fixture(autouse=True)
def _no_plots(monkeypatch):
    for name in dir(model_card):
        if name.startswith("plot_"):
            monkeypatch.setattr(model_card, name, lambda *args, **kwargs: PNG)


def test_hostile_text_is_escaped_everywhere_it_appears(monkeypatch):
    monkeypatch.setattr(features, "FEATURES", (*features.FEATURES, f"feature{HOSTILE}"))
    page = model_card.render(**_card(HOSTILE))
    assert "<script" not in page.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for shown in (
        f"v1{escaped}",
        f"model__{escaped}",
        f"reason {escaped}",
        f"rule {escaped}",
        f"champion{escaped}",
        f"feature{escaped}",
        f"1.9.1{escaped}",
        f"max F1 {escaped}",
    ):
        assert shown in page, shown
    parsed = _Page(page)
    assert "script" not in parsed.tags
    assert f"Churn model card — v1{HOSTILE}" in parsed.text  # a reader sees the text as it was


def test_a_quote_cannot_leave_an_attribute(monkeypatch):
    """The plot titles go into attributes: a quote in one must not open a new attribute."""
    monkeypatch.setitem(model_card_plots.TITLES, "candidates", "x' onerror='alert(1)")
    page = model_card.render(**_card("'\" onmouseover='alert(1)"))
    assert "onerror='" not in page and "onmouseover='" not in page
    [candidates] = [attrs for tag, attrs in _attributes(page) if tag == "img" and attrs.get("alt") == "candidates"]
    assert set(candidates) == {"title", "alt", "src"} and candidates["title"] == "x' onerror='alert(1)"


def _attributes(page: str) -> list[tuple[str, dict]]:
    found: list[tuple[str, dict]] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.append((tag, dict(attrs)))
    parser.feed(page)
    return found


def test_every_plot_is_a_captioned_figure_in_the_cards_order():
    page = model_card.render(**_card("plain"))
    images = re.findall(r"<img title='([^']+)' alt='([^']+)' src='data:image/png;base64,([^']+)'>", page)
    assert [alt for _, alt, _ in images] == [
        "candidates",
        "class balance",
        "feature distributions",
        "correlation matrix",
        "roc and precision-recall",
        "calibration curve",
        "confusion matrix",
        "permutation importance",
    ]
    assert all(title == model_card_plots.TITLES[alt] and png == PNG for title, alt, png in images)
    assert all(f"<figcaption>{model_card_plots.TITLES[alt]}</figcaption>" in page for _, alt, _ in images)


def test_the_parameters_and_the_champions_outcomes_or_their_absence():
    page = model_card.render(**_card("plain"))
    assert "<th>parameter</th><th>value</th>" in page and "<td>model__C</td><td>0.5</td>" in page
    assert "Realized performance of the champion championplain" in page
    assert "<td>0.700 [n/a, 0.800]</td>" in page and "below CV − spread" in page
    bare = model_card.render(**_card("plain", params={}, realized=[]))
    assert "No parameters (defaults)." in bare and "No outcome has arrived yet" in bare


def test_the_template_ships_with_the_package():
    """setuptools installs only .py files unless package-data names the rest."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["ml"]
    shipped = {path for pattern in patterns for path in (ROOT / "ml").glob(pattern)}
    assert model_card.TEMPLATES / model_card.TEMPLATE in shipped
    assert model_card.TEMPLATES.parent == ROOT / "ml"
