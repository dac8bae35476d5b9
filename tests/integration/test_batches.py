"""Write-audit-publish: publish only the gated batch, exactly once; a retry changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from etl import ingest
from etl.ops import batches
from job import pipelines
from tests.helpers import features_of, layer_checksums, rows

SNAPSHOT = dt.date(2026, 5, 31)


@pytest.fixture(scope="module")
def published(engine, real_data_dir):
    pipelines.execute(pipelines.INGEST, engine, SNAPSHOT, data_dir=real_data_dir)
    return layer_checksums(engine, SNAPSHOT)


def _gate_runs(engine, layer: str) -> int:
    return rows(
        engine,
        "SELECT count(DISTINCT run_id) AS n FROM dq.validation_runs WHERE snapshot_date = :d AND layer = :l",
        d=SNAPSHOT,
        l=layer,
    )[0]["n"]


def test_publish_again_after_success_keeps_the_published_rows(published, engine):
    assert published["features.customer_features"][0] == 1300
    counts = ingest.publish_features(engine, SNAPSHOT)  # a task retry, a UI clear, a second run
    assert counts["customers"] == 1300
    assert layer_checksums(engine, SNAPSHOT) == published


def test_validate_again_after_publish_is_a_no_op(published, engine):
    before = _gate_runs(engine, "features")
    assert ingest.validate_features(engine, SNAPSHOT) is None
    assert _gate_runs(engine, "features") == before  # no gate ran on the empty staged batch
    assert layer_checksums(engine, SNAPSHOT) == published


def test_a_staged_batch_rebuilt_after_its_gate_is_refused(published, engine):
    ingest.build_features(engine, SNAPSHOT)
    ingest.validate_features(engine, SNAPSHOT)
    ingest.build_features(engine, SNAPSHOT)  # rebuilt after the gate passed: not gated
    with pytest.raises(batches.PublishRefused, match="has not passed the gate since it was built"):
        ingest.publish_features(engine, SNAPSHOT)
    assert layer_checksums(engine, SNAPSHOT) == published
    ingest.validate_features(engine, SNAPSHOT)  # gated again: now it may go out
    ingest.publish_features(engine, SNAPSHOT)
    assert layer_checksums(engine, SNAPSHOT) == published


def test_a_staged_batch_changed_after_its_gate_is_refused(published, engine):
    ingest.build_features(engine, SNAPSHOT)
    ingest.validate_features(engine, SNAPSHOT)
    with engine.begin() as conn:  # rows removed behind the bookkeeping's back
        conn.exec_driver_sql("DELETE FROM features.customer_features_staged WHERE mod(customer_id, 2) = 0")
    with pytest.raises(batches.PublishRefused, match="staged rows, but the gated batch"):
        ingest.publish_features(engine, SNAPSHOT)
    assert layer_checksums(engine, SNAPSHOT) == published
    ingest.build_features(engine, SNAPSHOT)
    ingest.validate_features(engine, SNAPSHOT)
    ingest.publish_features(engine, SNAPSHOT)


def test_nothing_staged_is_refused_and_publishes_nothing(engine):
    never = dt.date(1999, 1, 1)
    with pytest.raises(batches.PublishRefused, match="nothing was staged"):
        ingest.publish_features(engine, never)
    with pytest.raises(batches.PublishRefused, match="nothing was staged"):
        ingest.validate_features(engine, never)
    assert features_of(engine, never) == []
