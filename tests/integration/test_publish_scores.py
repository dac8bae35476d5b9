"""Publishing scores moves the gated staged partition: rows written once, a refused publish loses nothing."""

from __future__ import annotations

import pytest

from tests.helpers import rows
from tests.integration.scoring_chain import SNAPSHOT, _chain_warehouse, chain, engine, published  # noqa: F401 (fixtures)


def test_publish_moves_the_staged_partition_and_a_refused_one_keeps_both_sides(chain, engine):
    """The staged rows are written once: publish makes their partition the published one (same
    storage, constraints added, logged). Staged rows that break the published checks (a gate
    bypassed) are refused whole: the published date and the staged partition stay as they were."""
    import sqlalchemy as sa

    from job import pipelines
    from ml import scoring

    before = published(engine)
    suffix = SNAPSHOT.strftime("%Y%m%d")  # of the date's partitions
    pipelines.execute(pipelines.SCORE, engine, SNAPSHOT, last="validate_scores")
    with engine.begin() as conn:  # after the gate: one row the published checks refuse
        conn.execute(
            sa.text(
                f"UPDATE scoring.churn_scores_staged_p{suffix} SET churn_probability = 2 "
                "WHERE customer_id = (SELECT min(customer_id) FROM scoring.churn_scores_staged)"
            )
        )
    with pytest.raises(sa.exc.IntegrityError, match="churn_scores_probability_range"):
        scoring.publish(engine, SNAPSHOT)
    assert published(engine) == before
    assert (
        rows(engine, "SELECT count(*) AS n FROM scoring.churn_scores_staged WHERE score_date = :d", d=SNAPSHOT)[0]["n"]
        == 1297
    )
    pipelines.execute(pipelines.SCORE, engine, SNAPSHOT, last="validate_scores")  # rescored, gated: then published
    [staged] = rows(engine, f"SELECT pg_relation_filenode('scoring.churn_scores_staged_p{suffix}') AS node")
    scoring.publish(engine, SNAPSHOT)
    [moved] = rows(
        engine,
        f"SELECT pg_relation_filenode('scoring.churn_scores_p{suffix}') AS node, "
        f"relpersistence FROM pg_class WHERE oid = 'scoring.churn_scores_p{suffix}'::regclass",
    )
    assert moved == {"node": staged["node"], "relpersistence": "p"}
    assert published(engine) == before
    assert rows(engine, "SELECT to_regclass(:t) AS t", t=f"scoring.churn_scores_staged_p{suffix}")[0]["t"] is None
