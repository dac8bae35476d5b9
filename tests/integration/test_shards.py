"""Sharded scoring: the same rows whatever the shard count, a failed shard retried alone, and
nothing published until every shard is complete."""

from __future__ import annotations

import pytest

from etl.ops.batches import PublishRefused
from job import pipelines
from ml import scoring
from ml.uplift import steps as uplift
from tests.helpers import rows
from tests.integration.scoring_chain import SNAPSHOT, _chain_warehouse, chain, engine, published  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration

STAGED = (
    "SELECT score_date, customer_id, model_version, churn_probability, risk_band, segment, offer, "
    "top_factors, profit, rules_version, offer_group FROM scoring.churn_scores_staged WHERE score_date = :d ORDER BY customer_id"
)


def _sharded(engine, shards: int, chunk_size: int | None = None) -> list[dict]:
    pipelines.execute(pipelines.SCORE, engine, SNAPSHOT, last="target_offers", shards=shards, chunk_size=chunk_size)
    return rows(engine, STAGED, d=SNAPSHOT)


def _same(a: dict, b: dict) -> bool:
    """Equal rows; the probability to 1e-12: BLAS sums a row's dot product in an order that
    depends on the row's place in its chunk, so other chunk cuts move the last bit."""
    return abs(a["churn_probability"] - b["churn_probability"]) < 1e-12 and (
        {**a, "churn_probability": None} == {**b, "churn_probability": None}
    )


def test_any_shard_count_stages_identical_rows(chain, engine):
    unsharded = _sharded(engine, 1, None)
    for shards, chunk in ((2, None), (3, 97)):
        sharded = _sharded(engine, shards, chunk)
        differ = [(a, b) for a, b in zip(sharded, unsharded) if not _same(a, b)]
        assert len(sharded) == len(unsharded) and not differ, (shards, differ[:2])
    assert len(unsharded) == len(published(engine))
    scoring.validate(engine, SNAPSHOT)
    scoring.publish(engine, SNAPSHOT)
    assert all(_same(a, b) for a, b in zip(published(engine), unsharded))


def test_a_failed_shard_is_retried_alone_and_nothing_partial_is_published(chain, engine, monkeypatch):
    before = published(engine)
    items = scoring.plan_shards(engine, SNAPSHOT, 2)
    scoring.score_shard(engine, items[0])
    with pytest.raises(scoring.ShardsIncomplete, match=r"shard 1/2: 0 scores for \d+ customers"):
        scoring.collect_shards(engine, SNAPSHOT, 2)
    with pytest.raises(PublishRefused):
        scoring.publish(engine, SNAPSHOT)  # the plan voided the gate's earlier pass of the date
    assert published(engine) == before

    from ml.scoring import steps

    def broken(*args, **kwargs):
        raise ConnectionError("worker lost mid-shard")

    with monkeypatch.context() as patch:
        patch.setattr(steps, "score_chunk", broken)
        with pytest.raises(ConnectionError):
            scoring.score_shard(engine, items[1])
    first_shard = rows(engine, STAGED, d=SNAPSHOT)
    assert first_shard and all(r["customer_id"] % 2 == 0 for r in first_shard)  # the failed shard wrote nothing
    scoring.score_shard(engine, items[1])  # the retry, alone
    collected = scoring.collect_shards(engine, SNAPSHOT, 2)
    assert collected["rows"] == len(before)
    uplift.target_offers(engine, SNAPSHOT)
    scoring.validate(engine, SNAPSHOT)
    scoring.publish(engine, SNAPSHOT)
    assert published(engine) == before


def test_shards_of_two_models_are_not_collected(chain, engine):
    items = scoring.plan_shards(engine, SNAPSHOT, 2)
    scoring.score_shard(engine, items[0])
    scoring.score_shard(engine, items[1])
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE scoring.churn_scores_staged DISABLE TRIGGER ALL")
        conn.exec_driver_sql(
            "UPDATE scoring.churn_scores_staged SET model_version = 'other' "
            "WHERE customer_id %% 2 = 1 AND score_date = %(d)s",
            {"d": SNAPSHOT},
        )
    with pytest.raises(scoring.ShardsIncomplete, match="models"):
        scoring.collect_shards(engine, SNAPSHOT, 2)
