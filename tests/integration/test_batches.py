"""Write-audit-publish: publish only the gated batch, exactly once; a retry changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from etl import ingest
from etl.ops import batches
from etl.ops.checksums import layer_checksums
from job import pipelines
from tests.helpers import features_of, rows

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


def test_publishes_of_several_dates_at_once_neither_deadlock_nor_wait_for_a_retry(engine, real_data_dir):
    """Each publish first counts its staged rows (a shared lock on the staged parent table), then
    detaches its date's partition (an exclusive lock on that parent). Two publishes that both
    counted before either detaches would each wait for the other: a deadlock, which Airflow
    retries 5 minutes later. The barrier holds each publish after its count until the other has
    counted too, or for 5 s when the other cannot get that far (publishes take turns)."""
    import threading

    from etl.warehouse import db

    dates = [dt.date(2026, 5, 29), dt.date(2026, 5, 30)]
    for snapshot_date in dates:  # staged and gated, not yet published
        pipelines.execute(pipelines.INGEST, engine, snapshot_date, last="validate_features", data_dir=real_data_dir)
    barrier = threading.Barrier(len(dates), timeout=5)
    outcomes: dict[dt.date, object] = {}

    def count_then_wait(snapshot_date: dt.date):
        def count_staged(conn) -> int:
            params = {"snapshot_date": snapshot_date}
            staged = db.run_sql(conn, "features", "count_staged_rows", params).mappings().one()["customers"]
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # the other publish waits for this one's turn: nothing to meet
            return staged

        return count_staged

    def publish(snapshot_date: dt.date) -> None:
        params = {"snapshot_date": snapshot_date}
        try:
            outcomes[snapshot_date] = batches.publish(
                engine, "features", snapshot_date, None, count_then_wait(snapshot_date),
                lambda conn: db.run_sql(conn, "features", "publish_customer_features", params),
                step="publish_features",
            )  # fmt: skip
        except Exception as error:  # a deadlock: DeadlockDetected, classed transient, so retried
            outcomes[snapshot_date] = error

    threads = [threading.Thread(target=publish, args=(d,)) for d in dates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == {d: True for d in dates}
    for snapshot_date in dates:
        assert len(features_of(engine, snapshot_date)) == 1300
