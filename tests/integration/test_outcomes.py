"""Closing the loop on a synthetic history: six monthly nights through the pipelines' step
functions (what churn_ingest, churn_retrain and churn_score call) on the same customers, the
history treating whom the job offered; the rerun test runs churn_score itself (dag.test) on two
of the nights, which keeps the DAG's wiring of the settling step proven. The labels of the periods from
night CHANGE_AT on follow another mechanism, so the settled dates before it must look like
training (no warning) and the one after it must not.

A score of night k is settled by night k + 3 (the first snapshot on or after its date + 3
months), so six nights settle nights 0–2; nights 3–5 have no outcome yet.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path

import pytest
import yaml

from tests.helpers import SettingsPatch, load_dag, rows, task_states

pytestmark = pytest.mark.integration

NIGHTS, CUSTOMERS, SEED, CHANGE_AT = 6, 3000, 11, 2
LAST = dt.date(2027, 5, 31)
EFFECTS = {"high_risk_high_profit": 0.20, "abandoned_cart": 0.20, "promo_dependent": 0.15}
HOLDOUT_SHARE = 0.3  # larger than production's 0.1, so 3 000 customers give readable intervals


def _logical(snapshot_date: dt.date) -> dt.datetime:
    return dt.datetime(snapshot_date.year, snapshot_date.month, snapshot_date.day, tzinfo=dt.timezone.utc)


def _rules_file(folder: Path) -> Path:
    from ml import segments

    data = yaml.safe_load(segments.DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    data["version"] = "history-test-1"
    data["experiment"]["holdout_share"] = HOLDOUT_SHARE
    data["targeting"]["budget"] = {"max_cost": 1e9}  # every treatment-group customer gets the offer
    path = folder / "segments.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _run(dag_id: str, snapshot_date: dt.date, **conf) -> None:
    run = load_dag(dag_id).test(logical_date=_logical(snapshot_date), **({"run_conf": conf} if conf else {}))
    assert run.state == "success", (dag_id, snapshot_date, task_states(run))


def _retrain(engine, snapshot_date: dt.date) -> dict:
    """churn_retrain's steps (reduced search, logreg): the gate decides."""
    from job import pipelines

    done = pipelines.execute(
        pipelines.RETRAIN, engine, snapshot_date, budget_name="reduced", families=["logreg"], n_jobs=2
    )
    return done["apply_promotion_gate"]


def _night(engine, data_dir: Path, snapshot_date: dt.date) -> None:
    """churn_ingest's and churn_score's pipelines for one night, as the DAGs run them."""
    from job import pipelines

    pipelines.execute(pipelines.INGEST, engine, snapshot_date, data_dir=data_dir)
    for pipeline in (pipelines.SCORE, pipelines.SETTLE):
        pipelines.execute(pipeline, engine, snapshot_date)


@pytest.fixture(scope="module")
def lived(request, airflow_db, tmp_path_factory):
    """The six nights, in a database of their own, trained once (night 0)."""
    from etl.warehouse import db, server
    from job import pipelines
    from job.local.synthetic_history import SyntheticHistory

    url = server.create_database(f"churn_test_outcomes_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    request.addfinalizer(lambda: (engine.dispose(), server.drop_database(url)))
    db.migrate(engine)
    folder = tmp_path_factory.mktemp("history")
    # one true effect per segment: what the effect estimates of mart.offer_effects are checked against
    story = SyntheticHistory.create(
        NIGHTS, LAST, CUSTOMERS, SEED, folder, EFFECTS, mechanism_change_at=CHANGE_AT, personal_effects=False
    )
    with SettingsPatch.context() as patch:
        patch.setenv("WAREHOUSE_URL", url)
        patch.setenv("SEGMENT_RULES", str(_rules_file(folder)))
        for index, snapshot_date in enumerate(story.dates):
            export = story.write(index)
            if index == 0:  # the champion is trained on night 0's features, then scores every night
                pipelines.execute(pipelines.INGEST, engine, snapshot_date, data_dir=export)
                assert _retrain(engine, snapshot_date)["status"] == "champion"
            _night(engine, export, snapshot_date)
            story.record_offers(engine, index)
    return {"url": url, "engine": engine, "story": story, "dates": story.dates}


@pytest.fixture()
def on_history(lived, monkeypatch, tmp_path):
    monkeypatch.setenv("WAREHOUSE_URL", lived["url"])
    monkeypatch.setenv("SEGMENT_RULES", str(_rules_file(tmp_path)))
    return lived


def _performance(engine) -> dict[dt.date, dict]:
    return {r["score_date"]: r for r in rows(engine, "SELECT * FROM mart.realized_performance ORDER BY score_date")}


def test_realized_roc_auc_drops_and_the_job_warns_when_the_label_mechanism_changes(on_history, caplog):
    from job.local.synthetic_history import add_months
    from ml import outcomes

    engine, dates = on_history["engine"], on_history["dates"]
    performance = _performance(engine)
    assert list(performance) == dates
    same, changed = performance[dates[0]], performance[dates[2]]
    assert [performance[d]["settled_by"] for d in dates[:3]] == dates[3:]
    # over the holdout: the offers changed the treated customers' outcomes, not the holdout's
    assert same["evaluated_on"] == changed["evaluated_on"] == "holdout"
    assert same["evaluated_customers"] == pytest.approx(HOLDOUT_SHARE * same["settled_customers"], rel=0.15)
    for unchanged in (same, performance[dates[1]]):  # the mechanism the model was trained on: no warning
        assert unchanged["status"] == "settled", unchanged
        assert unchanged["roc_auc_high"] >= unchanged["cv_roc_auc"] - unchanged["cv_roc_auc_spread"], unchanged
    assert same["roc_auc_low"] < same["roc_auc"] < same["roc_auc_high"]
    assert changed["status"] == "below cv" and changed["roc_auc"] < same["roc_auc"] - 0.1, changed
    assert changed["roc_auc_high"] < same["roc_auc_low"]  # the drop is beyond both intervals
    for snapshot_date in dates[3:]:
        assert (
            performance[snapshot_date]["status"] == "no outcome yet"
            and performance[snapshot_date]["settled_customers"] is None
        )
        assert performance[snapshot_date]["status_text"] == (
            f"no outcome has arrived yet: these scores are settled by the first snapshot on or after {add_months(snapshot_date, 3)}"
        )
    deciles = rows(engine, "SELECT * FROM mart.realized_calibration WHERE score_date = :d ORDER BY decile", d=dates[0])
    assert [d["decile"] for d in deciles] == list(range(1, 11))
    assert sum(d["customers"] for d in deciles) == same["evaluated_customers"]
    assert deciles[0]["mean_predicted_probability"] < deciles[-1]["mean_predicted_probability"]
    assert deciles[0]["realized_churn_rate"] < deciles[-1]["realized_churn_rate"]

    # settling again (what a retry of the task does) writes the same rows and warns for the changed date only
    before = rows(engine, "SELECT * FROM outcomes.realized_performance ORDER BY score_date")
    with caplog.at_level(logging.WARNING, logger="ml.outcomes.settle"):
        for snapshot_date in dates[3:]:
            outcomes.settle_outcomes(engine, snapshot_date)
    warned = [r.getMessage() for r in caplog.records if "realized ROC-AUC" in r.getMessage()]
    assert len(warned) == 1 and str(dates[2]) in warned[0]
    after = rows(engine, "SELECT * FROM outcomes.realized_performance ORDER BY score_date")
    assert [{k: v for k, v in r.items() if k != "computed_at"} for r in after] == [
        {k: v for k, v in r.items() if k != "computed_at"} for r in before
    ]


def test_offer_effects_recover_the_true_effect_of_each_segment(on_history):
    engine, dates = on_history["engine"], on_history["dates"]
    effects = rows(
        engine,
        "SELECT * FROM mart.offer_effects WHERE score_date = ANY(:d) ORDER BY score_date, segment_precedence",
        d=dates[:3],
    )
    estimated = [e for e in effects if e["verdict"] not in ("too small to tell", "no customers")]
    with_effect = [e for e in estimated if EFFECTS.get(e["segment_code"])]
    assert len(with_effect) >= 3
    for effect in estimated:
        truth = -EFFECTS.get(effect["segment_code"], 0.0)
        if truth:
            assert effect["churn_rate_difference_low"] <= truth <= effect["churn_rate_difference_high"], effect
            assert effect["revenue_change_difference_high"] > 0, effect  # never a clear revenue loss
    # offers that prevent a drop also keep revenue: over the segments with an effect, the holdout's fell more
    assert sum(e["revenue_change_difference"] * e["treated_customers"] for e in with_effect) > 0
    # the held-out share is the rule file's (binomial sd ≈ 0.01 over ~2 000 customers)
    counts = rows(
        engine,
        "SELECT sum(treated_customers) AS t, sum(holdout_customers) AS h FROM outcomes.offer_effects "
        "WHERE score_date = :d",
        d=dates[0],
    )[0]
    assert float(counts["h"] / (counts["t"] + counts["h"])) == pytest.approx(HOLDOUT_SHARE, abs=0.04)
    small = [e for e in effects if e["verdict"] == "too small to tell"]
    for effect in small:
        assert min(effect["treated_customers"], effect["holdout_customers"]) < effect["min_group"]
        assert effect["churn_rate_difference_low"] is None and "too small to tell" in effect["verdict_text"]
    unsettled = rows(engine, "SELECT DISTINCT verdict FROM mart.offer_effects WHERE score_date = ANY(:d)", d=dates[3:])
    assert unsettled == [{"verdict": "no outcome yet"}]


def test_make_runs_summary_prints_the_outcomes(on_history):
    from ml.outcomes import report

    engine, dates = on_history["engine"], on_history["dates"]
    text = report.render_outcomes(engine).splitlines()
    assert text[0] == "realized performance (mart.realized_performance):"
    [changed] = [line for line in text if line.startswith(f"  {dates[2]}")]
    assert "of the holdout" in changed and changed.endswith("WARNING: below CV minus spread, retrain")
    assert sum("no outcome has arrived yet" in line for line in text) == 3  # nights 3-5
    assert not any("WARNING" in line for line in text if line.startswith((f"  {dates[0]}", f"  {dates[1]}")))
    assert f"offer effects of the scores of {dates[2]}, treated vs holdout (mart.offer_effects):" in text
    assert any("high_risk_high_profit" in line and "offer lowers churn" in line for line in text)


def test_the_offer_list_sends_offers_to_the_treatment_group_only(on_history):
    engine = on_history["engine"]
    latest = rows(
        engine,
        "SELECT offer_group, send_offer, count(*) AS n FROM mart.churn_scores_latest "
        "WHERE in_newest_snapshot GROUP BY offer_group, send_offer ORDER BY offer_group",
    )
    assert [(r["offer_group"], r["send_offer"]) for r in latest] == [("holdout", False), ("treatment", True)]
    held_out = rows(engine, "SELECT sum(holdout_customers) AS h FROM mart.segment_summary")[0]["h"]
    assert held_out == next(r["n"] for r in latest if r["offer_group"] == "holdout")


def test_reruns_give_identical_groups_and_outcome_rows(on_history):
    engine, dates = on_history["engine"], on_history["dates"]
    groups = "SELECT score_date, customer_id, offer_group FROM scoring.churn_scores ORDER BY score_date, customer_id"
    tables = {
        name: f"SELECT * FROM outcomes.{name} ORDER BY 1, 2, 3"
        for name in ("realized_performance", "calibration_deciles", "offer_effects")
    }

    def snapshot() -> dict:
        strip = lambda found: [{k: v for k, v in r.items() if k != "computed_at"} for r in found]  # noqa: E731
        return {"groups": rows(engine, groups), **{name: strip(rows(engine, sql)) for name, sql in tables.items()}}

    stamp = "SELECT computed_at FROM outcomes.realized_performance WHERE score_date = :d"
    before, computed = snapshot(), rows(engine, stamp, d=dates[0])
    _run("churn_score", dates[0])  # rescoring a settled date settles it again
    _run("churn_score", dates[3])  # the snapshot date whose labels settle it
    assert snapshot() == before
    assert rows(engine, stamp, d=dates[0])[0]["computed_at"] > computed[0]["computed_at"]  # really rewritten


def test_the_gate_and_the_model_card_show_the_champions_realized_performance(on_history):
    """Last in the module: the retrain may promote a new champion, which the tests above must not meet."""
    engine, dates = on_history["engine"], on_history["dates"]
    _retrain(engine, dates[-1])
    [latest] = rows(
        engine, "SELECT decision, model_card_path FROM ml.model_registry WHERE training_snapshot = :d", d=dates[-1]
    )
    realized = latest["decision"]["champion_realized"]
    assert [r["score_date"] for r in realized] == [d.isoformat() for d in reversed(dates[:3])]
    assert [r["below_cv"] for r in realized] == [True, False, False]
    card = Path(latest["model_card_path"]).read_text(encoding="utf-8")
    assert "Realized performance of the champion" in card and "below CV − spread" in card
    assert f"{realized[0]['roc_auc']:.3f}" in card
