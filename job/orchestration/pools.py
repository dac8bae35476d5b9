"""Airflow pools: the warehouse pool caps how many warehouse-heavy tasks run at once, so a
backfill of many dates × shards queues in Airflow instead of piling onto Postgres.

Its size is config (CHURN_WAREHOUSE_SLOTS, default 4: two shards of two dates on a two-core
warehouse); `make run` and `make airflow` create or resize it before any DAG runs.
Retraining's family searches use the CPU of the worker, not the warehouse: default pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.warehouse import settings

if TYPE_CHECKING:
    from job.pipelines import Step

WAREHOUSE = "warehouse"


def warehouse_slots() -> int:
    return max(1, settings.current().CHURN_WAREHOUSE_SLOTS)


def for_step(step: Step) -> str:
    """The pool of a step's task."""
    return "default_pool" if step.cpu_bound else WAREHOUSE


def create_command() -> list[str]:
    """The `airflow` arguments that create (or resize) the warehouse pool."""
    return [
        "pools",
        "set",
        WAREHOUSE,
        str(warehouse_slots()),
        "warehouse-heavy tasks of the churn job (CHURN_WAREHOUSE_SLOTS)",
    ]
