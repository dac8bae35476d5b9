"""churn_score end to end on the real export: churn_ingest → the run's champion → churn_score (dag.test()).

Covers: every active customer scored once by the champion, probabilities in [0, 1], every segment
non-empty, bands/segments/offers/reasons as the rule file says, identical rows on a rerun and other
chunk sizes, PSI stored, a failed gate keeping the published scores, the Asset link between DAGs.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.helpers import independent_psi, load_dag, mapped_instances, rows, task_states
from tests.integration.scoring_chain import LOGICAL, SNAPSHOT, _chain_warehouse, chain, engine, published  # noqa: F401 (fixtures)

SCORE_TASKS = {
    "snapshots_to_score",
    "plan_shards",
    "score_shard",
    "collect_shards",
    "target_offers",
    "validate_scores",
    "publish",
    "monitor_drift",
    "settle_outcomes",
}
PER_SNAPSHOT = SCORE_TASKS - {"snapshots_to_score", "plan_shards", "score_shard"}  # mapped: one instance per snapshot


@pytest.fixture(scope="module")
def rules():
    from ml import segments

    return segments.load_rules()


def test_churn_score_dag_succeeds_with_the_champion(chain, engine):
    assert chain["score"].state == "success", chain["score_states"]
    assert chain["score_states"] == {task: "success" for task in SCORE_TASKS}
    shards = [f"{SNAPSHOT.isoformat()} shard {i}/2" for i in (1, 2)]  # CHURN_SCORE_SHARDS default 2
    assert mapped_instances(chain["score"]) == {task: [SNAPSHOT.isoformat()] for task in PER_SNAPSHOT} | {
        "score_shard": shards
    }
    # one model, trained on the snapshot churn_ingest loaded (champion.py), is the champion and
    # every published score comes from it
    [registered] = chain["registered"]
    assert registered["status"] == "champion" and registered["run_key"]
    assert {r["model_version"] for r in published(engine)} == {registered["model_version"]}


def test_every_active_customer_is_scored_once_with_a_probability(chain, engine):
    scores = published(engine)
    active = rows(
        engine,
        "SELECT customer_id FROM features.customer_features WHERE snapshot_date = :d AND is_active_3m ORDER BY customer_id",
        d=SNAPSHOT,
    )
    assert len(active) == 1297  # the real export's «active 3 months» customers
    assert [r["customer_id"] for r in scores] == [r["customer_id"] for r in active]
    probabilities = [r["churn_probability"] for r in scores]
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert len(set(round(p, 6) for p in probabilities)) > 1000  # a real model, not a constant
    # the scores rank the known labels well (the snapshot is labelled): AUC on the training data
    from sklearn.metrics import roc_auc_score

    labels = {
        r["customer_id"]: r["churn_label"]
        for r in rows(
            engine,
            "SELECT customer_id, churn_label FROM features.customer_features WHERE snapshot_date = :d AND is_active_3m",
            d=SNAPSHOT,
        )
    }
    assert roc_auc_score([labels[r["customer_id"]] for r in scores], probabilities) > 0.85


def test_segments_bands_offers_follow_the_rule_file(chain, engine, rules):
    import pandas as pd

    from ml import segments

    scores = pd.DataFrame(published(engine))
    counts = scores["segment"].value_counts().to_dict()
    assert set(counts) == set(rules.codes), counts  # every segment non-empty, nothing else
    offers = {s.code: s.offer for s in rules.segments}
    assert (scores["offer"] == scores["segment"].map(offers)).all()
    assert set(scores["rules_version"]) == {rules.version}

    [model] = rows(
        engine, "SELECT threshold FROM ml.model_registry WHERE model_version = :v", v=scores["model_version"].iloc[0]
    )
    t = model["threshold"]
    expected_band = scores["churn_probability"].map(
        lambda p: "high" if p >= t else ("medium" if p >= rules.medium_share_of_threshold * t else "low")
    )
    assert (scores["risk_band"] == expected_band).all()

    # precedence: recompute the first matching rule from the features, row by row
    feats = pd.DataFrame(
        rows(
            engine,
            "SELECT * FROM features.customer_features WHERE snapshot_date = :d AND is_active_3m ORDER BY customer_id",
            d=SNAPSHOT,
        )
    )
    merged = feats.merge(scores[["customer_id", "churn_probability", "risk_band", "segment"]], on="customer_id")
    for row in merged.sample(200, random_state=0).to_dict("records"):
        single = pd.DataFrame([row])
        first = next(s.code for s in rules.segments if s.when.mask(single)[0])
        assert row["segment"] == first
    high_profit = merged[(merged["risk_band"] == "high") & (merged["profit"] >= 4.0)]
    assert (high_profit["segment"] == "high_risk_high_profit").all()  # rule 1 wins over behaviour
    assert len(segments.assign(merged, rules)[0]) == len(merged)


def test_top_factors_are_readable_reasons_that_raise_the_probability(chain, engine, rules):
    """Rows store input, direction and impact; BI sees `segments.factor_text`'s words (the view)."""
    from ml import segments

    scores = published(engine)
    shown = {
        r["customer_id"]: r["top_factors_detail"]
        for r in rows(
            engine,
            "SELECT customer_id, top_factors_detail FROM mart.churn_scores_latest WHERE score_date = :d",
            d=SNAPSHOT,
        )
    }
    with_factors = [r for r in scores if r["top_factors"]]
    assert len(with_factors) > 0.8 * len(scores)
    for row in scores:
        factors = row["top_factors"]
        assert len(factors) <= rules.factor_count
        impacts = [f["impact"] for f in factors]
        assert impacts == sorted(impacts, reverse=True)
        assert all(i >= rules.factor_min_impact and i <= row["churn_probability"] for i in impacts)
        assert all("text" not in factor for factor in factors)
        words = [segments.factor_text(rules, f["feature"], f["direction"], f.get("value")) for f in factors]
        assert shown[row["customer_id"]] == [{**f, "text": text} for f, text in zip(factors, words)]
        assert all(": " not in text for text in words)  # every reason has a phrase of the rule file
    # high-risk customers almost always have a reason
    high = [r for r in scores if r["risk_band"] == "high"]
    assert sum(1 for r in high if r["top_factors"]) >= 0.95 * len(high)


def test_rerun_of_the_same_date_gives_identical_rows(chain, engine):
    before = published(engine)
    [stamp_before] = rows(
        engine, "SELECT min(scored_at) AS t FROM scoring.churn_scores WHERE score_date = :d", d=SNAPSHOT
    )
    run = load_dag("churn_score").test(logical_date=LOGICAL)
    assert run.state == "success", task_states(run)
    assert published(engine) == before
    [stamp_after] = rows(
        engine, "SELECT min(scored_at) AS t FROM scoring.churn_scores WHERE score_date = :d", d=SNAPSHOT
    )
    assert stamp_after["t"] > stamp_before["t"]  # really rewritten, not skipped


def test_chunked_scoring_gives_the_same_rows_as_one_chunk(chain, engine):
    from job import pipelines

    result = pipelines.execute(pipelines.SCORE, engine, SNAPSHOT, last="target_offers", shards=1, chunk_size=128)
    [shard] = result["score_shard"]
    assert shard["chunks"] == -(-1297 // 128) and result["collect_shards"]["rows"] == 1297
    staged = rows(
        engine,
        "SELECT score_date, customer_id, model_version, churn_probability, risk_band, segment, offer, "
        "top_factors, profit, rules_version, offer_group FROM scoring.churn_scores_staged WHERE score_date = :d ORDER BY customer_id",
        d=SNAPSHOT,
    )
    assert staged == published(engine)
    pipelines.execute(pipelines.SCORE, engine, SNAPSHOT, first="validate_scores")  # gate, publish: no staged rows left
    assert (
        rows(engine, "SELECT count(*) AS n FROM scoring.churn_scores_staged WHERE score_date = :d", d=SNAPSHOT)[0]["n"]
        == 0
    )


def test_psi_of_every_input_and_the_score_is_stored(chain, engine):
    import pandas as pd

    from ml import features

    psi = {r["variable"]: r for r in rows(engine, "SELECT * FROM scoring.drift_psi WHERE score_date = :d", d=SNAPSHOT)}
    assert set(psi) == set(features.FEATURES) | {"churn_probability"}
    model_version = published(engine)[0]["model_version"]
    [registry] = rows(engine, "SELECT reference FROM ml.model_registry WHERE model_version = :v", v=model_version)
    ref = registry["reference"]
    # independent recomputation (tests.helpers.independent_psi) on the whole snapshot at once
    frame = pd.DataFrame(
        rows(
            engine,
            "SELECT * FROM features.customer_features WHERE snapshot_date = :d AND is_active_3m ORDER BY customer_id",
            d=SNAPSHOT,
        )
    )
    X = features.to_model_input(frame)
    for column in features.FEATURES:
        assert psi[column]["psi"] == pytest.approx(independent_psi(ref["features"][column], X[column]), abs=1e-9)
        assert psi[column]["customers"] == 1297
    scores = [r["churn_probability"] for r in published(engine)]
    assert psi["churn_probability"]["psi"] == pytest.approx(independent_psi(ref["score"], scores), abs=1e-9)
    assert all(
        r["status"] == ("shifted" if r["psi"] > 0.2 else "watch" if r["psi"] >= 0.1 else "stable") for r in psi.values()
    )


def test_gx_gate_rejects_corrupted_scores_and_keeps_the_published_ones(chain, engine, monkeypatch):
    from ml.scoring import steps

    before = published(engine)
    original = steps.score_chunk

    def corrupted(*args, **kwargs):
        out = original(*args, **kwargs)
        out.loc[0, "churn_probability"] = 1.5
        return out

    monkeypatch.setattr(steps, "score_chunk", corrupted)
    run = load_dag("churn_score").test(logical_date=LOGICAL)
    states = task_states(run)
    assert states["score_shard"] == "success" and states["collect_shards"] == "success"
    assert states["validate_scores"] == "failed"
    assert states["publish"] == states["monitor_drift"] == states["settle_outcomes"] == "upstream_failed"
    assert published(engine) == before
    [gate] = rows(
        engine,
        "SELECT success, details FROM dq.validation_runs WHERE suite = 'scoring.churn_scores' AND snapshot_date = :d "
        "ORDER BY started_at DESC LIMIT 1",
        d=SNAPSHOT,
    )
    assert gate["success"] is False
    failed = [d for d in gate["details"] if not d["success"]]
    # the first row of each shard's first chunk was corrupted: one per shard
    assert any(d["column"] == "churn_probability" and d["sample"] == [1.5, 1.5] for d in failed), failed
    # publish refuses to run on its own without gated staged rows of another date
    from etl.ops.batches import PublishRefused

    with pytest.raises(PublishRefused, match="nothing was staged"):
        steps.publish(engine, dt.date(1999, 1, 1))


def test_assets_link_churn_ingest_to_churn_score(chain):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    from job.orchestration import runtime
    from job.orchestration.assets import CHAMPION_MODEL, CHURN_SCORES, CUSTOMER_FEATURES

    ingest, score = load_dag("churn_ingest"), load_dag("churn_score")
    assert CUSTOMER_FEATURES in ingest.get_task("publish_features").outlets
    # features | champion: a published snapshot, or a promotion (which rescores the newest)
    assert tuple(score.timetable.asset_condition.objects) == (CUSTOMER_FEATURES, CHAMPION_MODEL)
    assert CHURN_SCORES in score.get_task("publish").outlets

    with create_session() as session:

        def extras(asset):
            events = (
                session.query(AssetEvent)
                .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                .filter(AssetModel.uri == asset.uri)
                .all()
            )
            return [dict(e.extra or {}) for e in events]

        features_extras = extras(CUSTOMER_FEATURES)
        scores_extras = extras(CHURN_SCORES)
    # other modules run churn_ingest for other dates in the same Airflow metadata: find ours
    features_extra = {"snapshot_date": SNAPSHOT.isoformat()}
    assert features_extra in features_extras
    ours = [e for e in scores_extras if e.get("score_date") == SNAPSHOT.isoformat()]
    assert ours and all(e["rows"] == 1297 and e["model_version"] for e in ours)

    class Event:  # what an asset-triggered run of churn_score sees: no logical date, the event's extra
        extra = features_extra

    context = {"params": {}, "logical_date": None, "triggering_asset_events": {CUSTOMER_FEATURES: [Event()]}}
    assert runtime.snapshot_date(context) == SNAPSHOT


def test_scored_snapshot_for_the_run_summary(chain, engine, rules):
    from ml import scoring

    scored = scoring.scored_snapshot(engine, SNAPSHOT)
    scores = published(engine)
    assert scored["rows_scored"] == len(scores) == 1297
    assert scored["model_version"] == scores[0]["model_version"]
    assert 0.85 < scored["cv_roc_auc_mean"] <= 1
    assert scored["mean_probability"] == pytest.approx(sum(r["churn_probability"] for r in scores) / len(scores))
    assert list(scored["segments"]) == rules.codes  # precedence order, all non-empty
    assert sum(scored["segments"].values()) == 1297
    assert sum(scored["risk_bands"].values()) == 1297
    text = scoring.render_scored_snapshot(scored)
    assert scored["model_version"] in text and "high_risk_high_profit" in text
    json.dumps(scored, default=str)  # JSON-able for logs


def test_a_changed_rule_file_must_bump_its_version(chain, engine, rules):
    import dataclasses

    from ml import scoring, segments

    before = rows(engine, "SELECT count(*) AS n FROM scoring.churn_scores_staged WHERE score_date = :d", d=SNAPSHOT)
    edited = dataclasses.replace(rules, sha256="0" * 64)  # same version, other content
    with pytest.raises(segments.RulesError, match="bump `version`"):
        scoring.plan_shards(engine, SNAPSHOT, rules=edited)
    assert (
        rows(engine, "SELECT count(*) AS n FROM scoring.churn_scores_staged WHERE score_date = :d", d=SNAPSHOT)
        == before
    )
    recorded = rows(
        engine,
        "SELECT segment, precedence, offer FROM scoring.segment_rules WHERE rules_version = :v ORDER BY precedence",
        v=rules.version,
    )
    assert [(r["segment"], r["offer"]) for r in recorded] == [(s.code, s.offer) for s in rules.segments]
    assert scoring.latest_features_snapshot(engine) >= SNAPSHOT  # the DAG's fallback date


def test_drift_above_0_2_is_stored_and_logged_as_a_warning(chain, engine, caplog):
    import logging

    import sqlalchemy as sa

    from job import pipelines
    from ml import monitoring

    shifted = dt.date(2026, 9, 30)
    with engine.begin() as conn:  # the same customers, registered three times as long ago
        conn.execute(sa.text("SELECT ops.replace_partition('features.customer_features', :s)"), {"s": shifted})
        conn.execute(
            sa.text(
                "INSERT INTO features.customer_features "
                "SELECT (:s)::date, customer_id, churn_label, service_type, allow_messages, marketing_6m, marketing_current_month, "
                "tenure_days * 3, promo_share, popular_category, avg_categories_per_visit, unpaid_items_quarter, service_errors, "
                "pages_per_visit, revenue_two_months_ago, revenue_last_month, revenue_current_month, revenue_outlier_fixed, "
                "minutes_last_month, minutes_current_month, profit, is_active_3m "
                "FROM features.customer_features WHERE snapshot_date = :d"
            ),
            {"s": shifted, "d": SNAPSHOT},
        )
    pipelines.execute(pipelines.SCORE, engine, shifted)
    with caplog.at_level(logging.WARNING, logger="ml.monitoring"):
        results = {r["variable"]: r for r in monitoring.compute_psi(engine, shifted)}
    assert results["tenure_days"]["status"] == "shifted" and results["tenure_days"]["psi"] > 0.2
    assert results["pages_per_visit"]["status"] == "stable"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "DRIFT" in r.getMessage()]
    assert len(warnings) == 1 and "tenure_days" in warnings[0].getMessage()
    [stored] = rows(
        engine, "SELECT psi, status FROM mart.model_drift WHERE score_date = :s AND variable = 'tenure_days'", s=shifted
    )
    assert stored["status"] == "shifted" and stored["psi"] == round(results["tenure_days"]["psi"], 4)  # BI: 4 decimals
    with engine.begin() as conn:  # leave the chain's dates as they were for the mart tests
        for statement in (
            "DELETE FROM scoring.drift_psi WHERE score_date = :s",
            "DELETE FROM scoring.churn_scores WHERE score_date = :s",
            "DELETE FROM ops.staged_batches WHERE snapshot_date = :s",
            "DELETE FROM features.customer_features WHERE snapshot_date = :s",
        ):
            conn.execute(sa.text(statement), {"s": shifted})
        conn.execute(sa.text("SELECT scoring.point_newest_scores()"))  # the chain's date is newest again


def test_a_tampered_champion_fails_the_score_task_at_once_and_keeps_the_scores(chain, engine):
    """Not transient: no retry (2 × 5 minutes would make the run look hung), the message says why."""
    import time

    from ml import registry

    before = published(engine)
    champion = registry.get_champion(engine)
    artifact = registry.artifact_path_for(champion["model_version"])
    original = artifact.read_bytes()
    artifact.write_bytes(original + b"tampered")
    try:
        started = time.monotonic()
        run = load_dag("churn_score").test(logical_date=LOGICAL, run_conf={"snapshot_date": SNAPSHOT.isoformat()})
        seconds = time.monotonic() - started
    finally:
        artifact.write_bytes(original)
    assert run.state == "failed"
    assert task_states(run)["score_shard"] == "failed"
    assert seconds < 120, f"the failed score task was retried ({seconds:.0f} s)"
    assert published(engine) == before
    assert _attempts(run, "score_shard") == [1, 1]
    from etl.ops import claims

    held = [c for c in claims.list_claims(engine) if c["run_id"].startswith("churn_score/")]
    assert held == []  # the failure callback gave the date back


def _attempts(dag_run, task_id: str) -> list[int]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        return [
            ti.try_number
            for ti in session.query(TaskInstance).filter(
                TaskInstance.dag_id == dag_run.dag_id,
                TaskInstance.run_id == dag_run.run_id,
                TaskInstance.task_id == task_id,
            )
        ]


def test_a_model_with_published_scores_cannot_be_deleted(chain, engine):
    import sqlalchemy as sa

    [registered] = chain["registered"]
    with pytest.raises(sa.exc.IntegrityError, match="churn_scores_model_version_fkey"):
        with engine.begin() as conn:
            conn.execute(
                sa.text("DELETE FROM ml.model_registry WHERE model_version = :v"), {"v": registered["model_version"]}
            )
    assert (
        rows(
            engine,
            "SELECT count(*) AS n FROM ml.model_registry WHERE model_version = :v",
            v=registered["model_version"],
        )[0]["n"]
        == 1
    )
