"""The targeting card and the uplift training behind it, on a small synthetic history (no
warehouse): what a marketer reads, the sections the issue names, markup shown as text, one model
per offer family."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re

import pytest

from bench import uplift as simulation
from ml.uplift import card, training

pytestmark = pytest.mark.unit

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _two_families(rules):
    """The rule file with the high-risk offers and the reminders in families of their own."""
    split = tuple(
        dataclasses.replace(s, offer_family="retention" if s.conditions.get("risk_band") == ["high"] else "reminder")
        for s in rules.segments
    )
    return dataclasses.replace(rules, segments=split)


@pytest.fixture(scope="module")
def judged():
    return simulation.trained(seed=1)


def test_the_card_shows_the_verdict_policies_budget_curves_deciles_and_drivers(judged, tmp_path, monkeypatch):
    sim, _, verdict = judged
    monkeypatch.setenv("LOCAL_DIR", str(tmp_path))
    path = card.write_card("uplift-test-1", dt.date(2027, 8, 31), verdict, sim.rules)
    text = path.read_text(encoding="utf-8")
    for heading in card.SECTIONS.values():
        assert heading in text, heading
    images = re.findall(r"src='data:image/png;base64,([^']+)'", text)
    assert len(images) == 2 * len(verdict.metrics["families"])  # a Qini curve and the deciles per family
    assert all(base64.b64decode(image).startswith(PNG_MAGIC) for image in images)
    assert "http://" not in text and "https://" not in text  # self-contained
    top = verdict.metrics["families"]["retention_offer"]["drivers"][0]["feature"]
    assert top in ("marketing_current_month", "service_errors", "churn_probability")  # what the truth depends on


def test_the_card_shows_the_comparison_with_the_champion_when_there_was_one(judged):
    sim, _, verdict = judged
    compared = {"champion": "uplift-20270731-0000", "value": -3.5, "low": -9.0, "high": 2.0}
    text = card.render(
        "uplift-2",
        dt.date(2027, 8, 31),
        dataclasses.replace(verdict, metrics={**verdict.metrics, "versus_champion": compared}),
        sim.rules,
    )
    assert "gain over the champion uplift-20270731-0000" in text and "-3.5 [-9.0, 2.0]" in text


def test_markup_in_a_reason_is_shown_as_text(judged):
    sim, _, verdict = judged
    hostile = dataclasses.replace(verdict, reason="<script>alert(1)</script>")
    text = card.render("uplift-<b>x</b>", dt.date(2027, 8, 31), hostile, sim.rules)
    assert "<script>" not in text and "&lt;script&gt;" in text and "<b>x</b>" not in text


def test_each_offer_family_gets_its_own_model_and_the_cold_start_names_the_short_ones(judged):
    sim, rows, _ = judged
    rules = _two_families(sim.rules)
    verdict = training.train_and_judge(rows, rules)
    assert set(verdict.models) == set(verdict.metrics["families"]) == {"retention", "reminder"}
    few = training.train_and_judge(rows.head(2500), rules)
    assert not few.models
    assert re.match(
        r"uplift policy: not enough experiment data yet \(\d+ of 4000\): settled experiment rows per offer family, ",
        few.reason,
    ), few.reason


def test_the_gate_compares_a_challenger_with_the_champion_on_the_same_rows(judged):
    sim, _, verdict = judged
    assert training.versus(verdict, sim.rules, verdict.models).value == 0  # the same policy: no gain

    model = verdict.models["retention_offer"]

    class Backwards:  # ranks the customers the wrong way round
        def predict(self, X):
            return -model.predict(X)

    backwards = training.decisions_on(verdict.evaluation_rows, sim.rules, {"retention_offer": Backwards()})
    worse = training.versus(dataclasses.replace(verdict, evaluation_send=backwards), sim.rules, verdict.models)
    assert worse.high < 0  # surely worse than the champion: the step keeps the champion
