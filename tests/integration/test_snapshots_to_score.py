"""ml.scoring.snapshots_to_score on the scoring chain's warehouse: the warehouse, not the Asset
events, says which snapshots churn_score must (re)score. Each case is set up in a transaction
that is rolled back, so the chain's rows stay as they are."""

from __future__ import annotations

import sqlalchemy as sa

from tests.integration.scoring_chain import SNAPSHOT, _chain_warehouse, chain, engine  # noqa: F401 (fixtures)


def _due_after(engine, *statements: str) -> list:
    from etl.warehouse import db

    with engine.connect() as conn, conn.begin() as transaction:
        for statement in statements:
            conn.execute(sa.text(statement), {"d": SNAPSHOT})
        due = list(db.run_sql(conn, "scoring", "select_snapshots_to_score").scalars())
        transaction.rollback()
    return due


def test_nothing_is_due_once_the_champion_scored_the_newest_features(chain, engine):
    from ml import scoring

    assert scoring.snapshots_to_score(engine) == []


def test_features_published_after_their_scores_make_the_date_due(chain, engine):
    assert _due_after(
        engine,
        "UPDATE ops.staged_batches SET last_published_at = now() + interval '1 s' "
        "WHERE layer = 'features' AND snapshot_date = :d",
    ) == [SNAPSHOT]


def test_scores_that_never_got_published_make_the_date_due(chain, engine):
    assert _due_after(
        engine,
        "UPDATE ops.staged_batches SET published_at = NULL, last_published_at = NULL "
        "WHERE layer = 'scoring' AND snapshot_date = :d",
    ) == [SNAPSHOT]


def test_a_rescoring_stopped_by_its_gate_does_not_make_the_date_due_again(chain, engine):
    """Its staged batch is unpublished, but the earlier scores of the date are still published."""
    assert (
        _due_after(
            engine,
            "UPDATE ops.staged_batches SET published_at = NULL, gate_run_id = NULL "
            "WHERE layer = 'scoring' AND snapshot_date = :d",
        )
        == []
    )


def test_a_new_champion_makes_the_newest_snapshot_due(chain, engine):
    assert _due_after(
        engine,
        "CREATE TEMP TABLE next_champion ON COMMIT DROP AS SELECT * FROM ml.model_registry WHERE status = 'champion'",
        "UPDATE ml.model_registry SET status = 'retired' WHERE status = 'champion'",
        "UPDATE next_champion SET model_version = model_version || '-next', artifact_path = artifact_path || '-next', "
        "run_key = run_key || '-next'",
        "INSERT INTO ml.model_registry SELECT * FROM next_champion",
    ) == [SNAPSHOT]
