"""Offers by value end to end, through the pipelines' step functions (what the DAGs run): a
synthetic history at `make run`'s size with the true personal effects (sleeping dogs included),
decided by the rules until the uplift model has the settled experiment rows it needs and its
off-policy gain over the rules is surely above 0; then the uplift policy decides, within the
budget, and the mart says why. The real export keeps the rules and says why (test_real_export_…).
The many-seed proof of the policy against the truth is tests/unit/test_uplift_policy.py."""

from __future__ import annotations

import datetime as dt
import html
import uuid

import pytest

from tests.helpers import SettingsPatch, rows
from tests.integration.scoring_chain import SNAPSHOT, chain, engine  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration

NIGHTS, CUSTOMERS, SEED = 9, 2000, 7  # make run's defaults; nights 0–5 are settled by night 8
LAST = dt.date(2027, 8, 31)
FIRST_SETTLED = 3  # night 3 settles night 0: the first uplift training, short of data


def _train_uplift(engine, snapshot_date: dt.date) -> dict:
    from job import pipelines

    done = pipelines.execute(pipelines.RETRAIN, engine, snapshot_date, first="train_uplift", last="train_uplift")
    return done["train_uplift"]


def _decisions(engine, snapshot_date: dt.date) -> list[dict]:
    return rows(
        engine,
        "SELECT customer_id, offer_group, send_offer, treatment_probability, expected_uplift, policy "
        "FROM scoring.churn_scores WHERE score_date = :d ORDER BY customer_id",
        d=snapshot_date,
    )


@pytest.fixture(scope="module")
def history(request, airflow_db, tmp_path_factory):
    """The nine nights in a database of their own: the churn model trained on night 0, the uplift
    models trained at night 3 (too little data) and night 8 (enough)."""
    from etl.warehouse import db, server
    from job import pipelines
    from job.local.synthetic_history import DEFAULT_OFFER_EFFECTS, SyntheticHistory

    url = server.create_database(f"churn_test_targeting_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    request.addfinalizer(lambda: (engine.dispose(), server.drop_database(url)))
    db.migrate(engine)
    story = SyntheticHistory.create(
        NIGHTS, LAST, CUSTOMERS, SEED, tmp_path_factory.mktemp("history"), DEFAULT_OFFER_EFFECTS
    )
    trained = {}
    with SettingsPatch.context() as patch:
        patch.setenv("WAREHOUSE_URL", url)
        for index, snapshot_date in enumerate(story.dates):
            export = story.write(index)
            pipelines.execute(pipelines.INGEST, engine, snapshot_date, data_dir=export)
            if index == 0:
                pipelines.execute(
                    pipelines.RETRAIN, engine, snapshot_date, first="prepare_training_set", budget_name="reduced",
                    families=["logreg"], n_jobs=2,
                )  # fmt: skip
            if index in (FIRST_SETTLED, NIGHTS - 1):
                trained[index] = _train_uplift(engine, snapshot_date)
            pipelines.execute(pipelines.SCORE, engine, snapshot_date)
            pipelines.execute(pipelines.SETTLE, engine, snapshot_date)
            story.record_offers(engine, index)
    return {"url": url, "engine": engine, "story": story, "trained": trained}


def test_the_rules_decide_until_the_data_suffices_and_the_mart_says_why(history):
    engine = history["engine"]
    early = history["trained"][FIRST_SETTLED]
    assert early["status"] == "insufficient_data"
    assert early["reason"].startswith("uplift policy: not enough experiment data yet (")
    summary = rows(engine, "SELECT DISTINCT score_date, policy, policy_reason FROM mart.targeting_summary ORDER BY 1")
    assert [r["policy"] for r in summary] == ["rules"] * (NIGHTS - 1) + ["uplift"]
    assert summary[FIRST_SETTLED]["policy_reason"] == early["reason"]
    n, m = early["reason"].split("(")[1].split(")")[0].split(" of ")
    assert 0 < int(n) < int(m) == 2000  # night 0's settled customers, short of the threshold


def test_the_uplift_policy_takes_over_once_its_gain_is_surely_above_zero(history):
    engine, last = history["engine"], history["story"].dates[-1]
    late = history["trained"][NIGHTS - 1]
    assert late["status"] == "champion", late["reason"]
    [decision] = rows(engine, "SELECT * FROM scoring.targeting_decisions WHERE score_date = :d", d=last)
    assert decision["policy"] == "uplift" and decision["uplift_model_version"] == late["model_version"]
    assert decision["expected_gain_low"] > 0 and "off-policy gain over the rules" in decision["reason"]
    latest = rows(
        engine,
        "SELECT policy, send_offer, expected_uplift, expected_value, contact_cost FROM mart.churn_scores_latest "
        "WHERE in_newest_snapshot",
    )
    assert {r["policy"] for r in latest} == {"uplift", "exploration"}
    chosen = [r for r in latest if r["policy"] == "uplift" and r["send_offer"]]
    assert chosen and all(r["expected_value"] > 0 and r["expected_uplift"] > 0 for r in chosen)
    # the card the mart points at exists and holds the verdict
    [card] = {
        r["targeting_card_path"]
        for r in rows(engine, "SELECT * FROM mart.targeting_summary WHERE score_date = :d", d=last)
    }
    assert html.escape(late["reason"]) in open(card, encoding="utf-8").read()


def test_the_budget_is_never_exceeded_on_any_night(history):
    engine = history["engine"]
    spent = rows(
        engine,
        "SELECT score_date, sum(contact_cost) FILTER (WHERE send_offer) AS cost, "
        "count(*) FILTER (WHERE send_offer) AS contacts FROM scoring.churn_scores GROUP BY score_date",
    )
    budget = rows(engine, "SELECT DISTINCT score_date, budget_max_cost, budget_used_cost FROM mart.targeting_summary")
    by_date = {r["score_date"]: r for r in budget}
    assert len(spent) == NIGHTS
    for r in spent:
        assert r["cost"] <= by_date[r["score_date"]]["budget_max_cost"] + 1e-6
        assert r["cost"] == pytest.approx(by_date[r["score_date"]]["budget_used_cost"], abs=0.01)


def test_a_rerun_of_a_date_gives_identical_decisions(history):
    from job import pipelines

    engine, last = history["engine"], history["story"].dates[-1]
    stamp = "SELECT min(scored_at) AS t FROM scoring.churn_scores WHERE score_date = :d"
    before, [scored] = _decisions(engine, last), rows(engine, stamp, d=last)
    with SettingsPatch.context() as patch:
        patch.setenv("WAREHOUSE_URL", history["url"])
        pipelines.execute(pipelines.SCORE, engine, last)
    assert rows(engine, stamp, d=last)[0]["t"] > scored["t"]  # really scored and decided again
    assert _decisions(engine, last) == before


def test_real_export_keeps_the_rules_and_says_why(chain, engine):  # noqa: F811 (fixture)
    summary = rows(engine, "SELECT * FROM mart.targeting_summary WHERE score_date = :d", d=SNAPSHOT)
    assert summary and {r["policy"] for r in summary} == {"rules"}
    [reason] = {r["policy_reason"] for r in summary}
    assert reason.startswith("uplift policy: not enough experiment data yet (0 of 2000)")
    latest = rows(engine, "SELECT policy, send_offer, expected_uplift, contact_cost FROM mart.churn_scores_latest")
    assert {r["policy"] for r in latest} <= {"rules", "exploration"}
    assert all(r["expected_uplift"] is None and r["contact_cost"] is not None for r in latest)
    cost = sum(r["contact_cost"] for r in latest if r["send_offer"])
    assert cost <= summary[0]["budget_max_cost"] and cost == pytest.approx(summary[0]["budget_used_cost"], abs=0.01)


def test_realized_performance_is_over_every_customer_sent_no_offer(history):
    # the budget leaves customers out: the holdout alone would hold only the riskiest the rules reached
    engine = history["engine"]
    realized = rows(engine, "SELECT score_date, evaluated_on, customers FROM outcomes.realized_performance")
    assert len(realized) == NIGHTS - 3 and {r["evaluated_on"] for r in realized} == {"untreated"}
    for r in realized:
        [sent_none] = rows(
            engine,
            "SELECT count(*) AS n, count(*) FILTER (WHERE offer_group = 'holdout') AS holdout "
            "FROM scoring.churn_scores WHERE score_date = :d AND NOT send_offer",
            d=r["score_date"],
        )
        assert sent_none["holdout"] < r["customers"] <= sent_none["n"]
