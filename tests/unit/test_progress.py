"""job/local/progress.py: one console line per task of an `airflow dags test` log, with durations and,
during retraining, the family and an estimate of what remains."""

from __future__ import annotations

from job.local.progress import Follower

LOG = """\
2026-12-01T23:21:36.031841Z [info     ] retrain 20261201-x on snapshot 2026-12-01: 1297 rows (495 «Снизилась»), budget full, families ['logreg', 'svc', 'knn'] [ml.training.dataset] loc=dataset.py:130
2026-12-01T23:21:36.500000Z [info     ] Task instance state updated    [airflow.api] loc=task_instances.py:485 new_state=success rows_affected=1 ti_id=1
2026-12-01T23:21:37.000000Z [info     ] [DAG TEST] starting task_id=train_candidate map_index=0 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-12-01T23:21:40.000000Z [info     ] great_expectations noise a person does not read
2026-12-01T23:21:57.000000Z [info     ] Task instance state updated    [airflow.api] loc=task_instances.py:485 new_state=success rows_affected=1 ti_id=2
2026-12-01T23:21:57.100000Z [info     ] [DAG TEST] starting task_id=train_candidate map_index=1 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-12-01T23:22:37.100000Z [info     ] Task instance state updated    [airflow.api] loc=task_instances.py:485 new_state=failed rows_affected=1 ti_id=3
2026-12-01T23:22:38.000000Z [info     ] [DAG TEST] starting task_id=register_challenger map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-12-01T23:22:40.000000Z [info     ] Task instance state updated    [airflow.api] loc=task_instances.py:485 new_state=success rows_affected=1 ti_id=4
"""


def test_each_task_gets_a_start_and_an_end_line_and_families_an_estimate():
    said: list[str] = []
    follower = Follower(say=said.append)
    for line in LOG.splitlines():
        follower.feed(line)
    assert said == [
        "  train_candidate[logreg] …",
        "  train_candidate[logreg] success in 20 s; 2 families to go, about 40 s",
        "  train_candidate[svc] …",
        "  train_candidate[svc] failed in 40 s; 1 family to go, about 30 s",
        "  register_challenger …",
        "  register_challenger success in 2 s",
    ]


def test_a_state_line_outside_a_task_and_noise_say_nothing():
    said: list[str] = []
    follower = Follower(say=said.append)
    follower.feed("2026-12-01T23:21:36.500000Z [info ] Task instance state updated new_state=success")
    follower.feed("no timestamp at all")
    assert said == []
