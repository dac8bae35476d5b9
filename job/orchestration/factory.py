"""The DAG factory: one Airflow task per step of a pipeline declaration (job/pipelines), the
step's function called by reference, so the DAG runs exactly the steps `execute` runs.

Inside a task: the warehouse of WAREHOUSE_URL, the run's label (`dag_id/run_id`, the holder of
snapshot claims), only transient failures left to retries (runtime.retry_only_transient), and
the mapped instance named by its snapshot, shard or family. Only small JSON crosses XCom:
snapshot steps hand on the snapshot date, item steps their item's result.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Callable, Mapping

from job.orchestration import pools, runtime

if TYPE_CHECKING:
    from airflow.sdk import Asset

    from job.pipelines import Pipeline, Step

Options = Callable[[Mapping[str, Any]], dict[str, Any]]  # the run's options from its context (params)
Outlet = tuple["Asset", Callable[[dt.date, Any], dict[str, Any]] | None]  # an Asset and its event's extra

MAP_INDEX = "{{ map_label }}"  # a mapped task instance is named by its snapshot, shard or family


def add_pipeline(
    pipeline: Pipeline,
    upstream: Any,
    *,
    per_snapshot: bool = False,
    outlets: Mapping[Callable[..., Any], Outlet] | None = None,
    options: Options | None = None,
) -> Any:
    """Add the pipeline's tasks after `upstream` (an XComArg: the snapshot date, or with
    `per_snapshot` the list of dates, each step then mapped once per date); returns the last
    task's output, or the upstream again for a `side_by_side` pipeline."""
    outlets = outlets or {}
    steps = list(pipeline.steps)
    snapshots, last, after_items = upstream, upstream, None
    for index, step in enumerate(steps):
        fans_out = index + 1 < len(steps) and steps[index + 1].takes == "item"
        made = _task(step, outlets.get(step.function), options, fans_out=fans_out, per_snapshot=per_snapshot)
        source = upstream if pipeline.side_by_side else snapshots
        if step.takes == "item":
            output = made.expand(value=last)
        elif step.takes == "previous":
            output = made(last)
        elif per_snapshot and not fans_out:
            output = made.expand(value=source)
        else:
            output = made(source)
        if after_items is not None and step.takes == "snapshot":
            after_items >> output  # item steps hand on results, not the snapshot: order only
        after_items = output if step.takes == "item" else None
        if step.takes == "snapshot" and not fans_out and not pipeline.side_by_side:
            snapshots = output
        last = output
    if pipeline.side_by_side:
        return upstream
    return snapshots if steps[-1].takes == "snapshot" else last


def _task(step: Step, outlet: Outlet | None, options: Options | None, *, fans_out: bool, per_snapshot: bool):
    """The task of one step (see add_pipeline): a snapshot step hands the snapshot on; a step
    before item steps returns the items (of every snapshot); an item or `previous` step
    returns its result."""
    from airflow.sdk import task

    asset, extra = outlet if outlet is not None else (None, None)

    def run_step(value: Any, *, outlet_events: Any = None, **context: Any) -> Any:
        from etl.ops import claims
        from etl.warehouse import db

        chosen = options(context) if options else {}
        name_instance(step, value)
        with runtime.retry_only_transient(), claims.asking_run_state(runtime.run_state(context)):
            engine, run = db.get_engine(), runtime.run_label(context)
            if fans_out:
                snapshots = value if per_snapshot else [value]
                return [item for snapshot in snapshots for item in step.call(engine, _date(snapshot), run, chosen)]
            if step.takes == "previous" and not isinstance(value, Mapping):
                value = list(value)  # the results of mapped instances, read lazily from XCom
            result = step.call(engine, _date(value) if step.takes == "snapshot" else value, run, chosen)
        if asset is not None:
            outlet_events[asset].extra = extra(value, result) if extra else {"snapshot_date": _date(value).isoformat()}
        return value if step.takes == "snapshot" else result

    run_step.__name__ = run_step.__qualname__ = step.name
    run_step.__doc__ = step.doc
    run_step.step = step  # what the task runs, by reference (tests/unit/test_pipelines.py reads it)
    mapped = step.takes == "item" or (per_snapshot and step.takes == "snapshot" and not fans_out)
    return task(
        task_id=step.name,
        multiple_outputs=False,  # results are read whole, never key by key
        outlets=[asset] if asset is not None else [],
        pool=pools.for_step(step),
        map_index_template=MAP_INDEX if mapped else None,
        # two CPU-bound instances at a time: a worker has 2 cores, each search uses one (CHURN_N_JOBS)
        max_active_tis_per_dagrun=2 if step.cpu_bound and step.takes == "item" else None,
        doc_md=step.doc,
    )(run_step)


def name_instance(step: Step, value: Any) -> None:
    """Name the (mapped) task instance in the UI and logs: its snapshot, shard or family."""
    from airflow.sdk import get_current_context

    if isinstance(value, Mapping):
        label = (
            value.get("family")
            or f"{value.get('snapshot_date')} shard {int(value.get('shard', 0)) + 1}/{value.get('shards', 1)}"
        )
    elif isinstance(value, (dt.date, str)):
        label = str(value)
    else:
        label = step.name
    get_current_context()["map_label"] = label


def _date(value: Any) -> dt.date:
    """The snapshot date an XCom hands on (a date, or its ISO string after serialization)."""
    from etl.warehouse import settings

    return value if isinstance(value, dt.date) else settings.parse_date(str(value), "the snapshot date handed on")
