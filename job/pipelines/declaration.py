"""A pipeline is declared once, as its steps in order; every way of running it reads that one
declaration: the DAG factory (job/orchestration/factory.py) makes one task per step, and
`execute` below runs the same steps in this process (the CLI, the bench and the tests).

A step is a plain function of etl/ or ml/ called as `function(engine, value, run=…, **options)`:
- `takes="snapshot"`: `value` is the snapshot date (most steps);
- `takes="item"`: called once per item of the list the step before returned (the shards of a
  snapshot, the candidate families of a retrain); in Airflow one mapped task instance per item;
- `takes="previous"`: `value` is what the step before returned (for an item step, the list of
  its results).
`options` are keyword arguments a caller sets for the whole run (e.g. `data_dir`, `shards`,
`budget_name`); each step receives those its signature names, and no other.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable, Literal

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)

Takes = Literal["snapshot", "item", "previous"]


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a pipeline: the function it calls and what it is called with."""

    function: Callable[..., Any]
    takes: Takes = "snapshot"
    name: str = ""  # the Airflow task id; the function's name unless a DAG has long used another
    cpu_bound: bool = False  # works the worker's cores, not the warehouse (no warehouse pool slot)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.function.__name__)

    @property
    def doc(self) -> str:
        """The function docstring's first paragraph: the task's doc in the Airflow UI."""
        return (inspect.getdoc(self.function) or "").split("\n\n")[0]

    def options_for(self, options: dict[str, Any]) -> dict[str, Any]:
        """The run options this step's function accepts by name."""
        accepted = inspect.signature(self.function).parameters
        return {key: value for key, value in options.items() if key in accepted}

    def call(self, engine: sa.Engine, value: Any, run: str | None, options: dict[str, Any]) -> Any:
        return self.function(engine, value, run=run, **self.options_for(options))


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """The ordered steps of one pipeline; `side_by_side`: the steps do not depend on each other
    (Airflow runs them in parallel after the pipeline before; `execute` runs them in order)."""

    name: str
    steps: tuple[Step, ...]
    side_by_side: bool = False

    def __iter__(self):
        return iter(self.steps)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)

    def between(self, first: str | None = None, last: str | None = None) -> tuple[Step, ...]:
        """The steps from `first` to `last` by name, both included (a retry that resumes at the
        failed step); an item step cannot start a range, its items come from the step before."""
        names = self.names
        for name in (first, last):
            if name is not None and name not in names:
                raise KeyError(f"the {self.name} pipeline has no step {name!r}: its steps are {', '.join(names)}")
        start = names.index(first) if first else 0
        stop = names.index(last) + 1 if last else len(names)
        if self.steps[start].takes == "item":
            raise ValueError(f"{first} runs once per item of {names[start - 1]}: start the range there")
        return self.steps[start:stop]

    def step(self, function: Callable[..., Any]) -> Step:
        """The step that calls `function` (a DAG names a step by reference, never by a string)."""
        for step in self.steps:
            if step.function is function:
                return step
        raise KeyError(f"{function.__qualname__} is not a step of the {self.name} pipeline")


def execute(
    pipeline: Pipeline,
    engine: sa.Engine,
    snapshot_date: dt.date,
    *,
    run: str | None = None,
    first: str | None = None,
    last: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Run the steps of `pipeline` for `snapshot_date` in this process, in order, as `run`
    (default: a script run id): all of them, or those from `first` to `last`. Returns the
    results by step name; raises at the first step that fails, exactly where the DAG stops.
    The run's snapshot claims are given up at the end, as a DAG run's are when it fails; a
    step that follows takes them again."""
    from etl.ops import claims

    run = run or claims.script_run_id()
    try:
        with claims.whole_run():  # this process is the run: a claim left by its death is taken over
            results = _run_steps(pipeline, engine, snapshot_date, run, first, last, options)
    except BaseException:
        _release_quietly(engine, run)  # the step's own error is what the caller must see
        raise
    claims.release_run(engine, run)
    return results


def _run_steps(
    pipeline: Pipeline,
    engine: sa.Engine,
    snapshot_date: dt.date,
    run: str,
    first: str | None,
    last: str | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """The steps from `first` to `last`, each after the one before: results by step name."""
    results: dict[str, Any] = {}
    previous: Any = snapshot_date
    for step in pipeline.between(first, last):
        log.info("%s %s: %s", pipeline.name, snapshot_date, step.name)
        if step.takes == "item":
            result: Any = [step.call(engine, item, run, options) for item in previous]
        else:
            result = step.call(engine, snapshot_date if step.takes == "snapshot" else previous, run, options)
        results[step.name] = result
        if not pipeline.side_by_side:
            previous = result
    return results


def _release_quietly(engine: sa.Engine, run: str) -> None:
    """Give up the run's claims after a failed step, without hiding its error (the warehouse may
    be the thing that failed)."""
    from etl.ops import claims

    try:
        claims.release_run(engine, run)
    except Exception as error:
        log.warning("could not release the snapshot claims of %s: %s", run, error)
