"""Each pipeline is declared once (job/pipelines): the DAGs' tasks call the declared steps by
reference, in the declared order, and no step is named by a string. That `make run` (it runs
these DAGs), the CLI, the bench and the drills' step runner execute the same declaration is
shown by their runs (tests/integration/test_cli.py reads the steps `pipelines.execute` logs)."""

from __future__ import annotations

import re

import pytest

from job import pipelines
from tests.helpers import ROOT, load_dag

pytestmark = pytest.mark.unit

DAG_PIPELINES = {
    "churn_ingest": (pipelines.INGEST,),
    "churn_score": (pipelines.SCORE, pipelines.SETTLE),
    "churn_retrain": (pipelines.RETRAIN,),
}


def test_every_pipeline_is_built_into_exactly_one_dag():
    built = [p.name for declared in DAG_PIPELINES.values() for p in declared]
    assert sorted(built) == sorted(p.name for p in pipelines.PIPELINES)


@pytest.mark.parametrize("dag_id", list(DAG_PIPELINES))
def test_each_task_of_a_pipeline_runs_its_declared_step_in_the_declared_order(dag_id):
    dag = load_dag(dag_id)
    for pipeline in DAG_PIPELINES[dag_id]:
        tasks = [dag.task_dict[step.name] for step in pipeline]
        for step, task in zip(pipeline, tasks):
            assert task.python_callable.step is step, f"{dag_id}.{task.task_id} does not run the declared {step}"
        if pipeline.side_by_side:
            upstream = {frozenset(task.upstream_task_ids) for task in tasks}
            assert len(upstream) == 1, f"{pipeline.name}'s steps run side by side after one task"
            continue
        for before, after in zip(tasks, tasks[1:]):
            assert before.task_id in after.upstream_task_ids, f"{after.task_id} must follow {before.task_id}"


def test_a_step_is_found_by_its_function_and_a_range_by_its_names():
    ingest = pipelines.INGEST
    assert ingest.step(ingest.steps[2].function) is ingest.steps[2]
    assert [s.name for s in ingest.between("build_staging", "validate_features")] == [
        "build_staging",
        "build_features",
        "validate_features",
    ]
    with pytest.raises(KeyError, match="has no step 'score'"):
        ingest.between("score")
    with pytest.raises(ValueError, match="start the range there"):
        pipelines.SCORE.between("score_shard")  # its items come from plan_shards


def test_no_dag_and_no_glue_names_a_step_by_a_string():
    """Steps are referenced as functions: "package:function" strings or importlib lookups would
    hide them from a reader's go-to-definition and from static tools."""
    glue = [ROOT / "job" / "orchestration", ROOT / "job" / "pipelines", ROOT / "job" / "cli", ROOT / "job" / "local"]
    for path in [*(ROOT / "dags").glob("*.py"), *(p for folder in glue for p in folder.rglob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""["'][a-z_.]+:[a-z_]+["']""", text), f"{path} names a step by a string"
        assert "importlib.import_module" not in text, f"{path} looks a step up by name"


def test_each_step_takes_the_engine_the_value_and_the_run():
    import inspect

    for pipeline in pipelines.PIPELINES:
        for step in pipeline:
            parameters = list(inspect.signature(step.function).parameters)
            assert parameters[0] == "engine" and "run" in parameters[2:], f"{pipeline.name}.{step.name}: {parameters}"
