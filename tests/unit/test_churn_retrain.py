"""churn_retrain parses cheaply and has the agreed shape (no database, no Airflow metadata)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.helpers import ROOT, load_dag


def test_dag_shape():
    from ml.candidates import FAMILIES

    dag = load_dag("churn_retrain")
    assert dag.dag_id == "churn_retrain"
    assert dag.catchup is False
    assert set(dag.task_dict) == {
        "retrain_due",
        "train_uplift",
        "prepare_training_set",
        "train_candidate",
        "register_challenger",
        "apply_promotion_gate",
        "announce_champion",
    }
    assert dag.task_dict["train_uplift"].upstream_task_ids == {"retrain_due"}
    assert dag.task_dict["prepare_training_set"].upstream_task_ids == {"train_uplift"}
    assert dag.task_dict["train_candidate"].upstream_task_ids == {"prepare_training_set"}
    assert dag.task_dict["register_challenger"].upstream_task_ids == {"train_candidate"}
    assert dag.task_dict["apply_promotion_gate"].upstream_task_ids == {"register_challenger"}
    assert dag.task_dict["announce_champion"].upstream_task_ids == {"apply_promotion_gate"}
    mapped = dag.task_dict["train_candidate"]
    assert type(mapped).__name__.endswith("MappedOperator")  # dynamic task mapping
    assert mapped.max_active_tis_per_dagrun == 2
    assert all(task.retries >= 1 for task in dag.tasks)
    assert dag.params.get_param("families").schema["items"]["enum"] == list(FAMILIES)


HEAVY = ("sklearn", "pandas", "numpy", "scipy", "matplotlib", "joblib")


def _loaded_after(statement: str, watched: tuple[str, ...]) -> list[str]:
    """Which of `watched` (or their submodules) a fresh interpreter has imported after `statement`."""
    code = textwrap.dedent(
        f"""
        import os, sys, runpy
        os.environ["WAREHOUSE_URL"] = "postgresql://nobody@/nowhere?host=/nonexistent"
        {statement}
        watched = {watched!r}
        print(",".join(w for w in watched if any(m == w or m.startswith(w + ".") for m in sys.modules)))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1:]
    return [name for name in (last[0] if last else "").split(",") if name]


def test_parsing_imports_no_heavy_libraries_and_touches_no_database():
    """The DAG names its steps by reference (job/pipelines), so parsing imports the step modules,
    but none of them loads a heavy library or connects (the warehouse URL points nowhere)."""
    parse = f"runpy.run_path({str(ROOT / 'dags' / 'churn_retrain.py')!r})"
    assert _loaded_after(parse, HEAVY + ("great_expectations",)) == []


def test_the_training_package_imports_light():
    """The tasks import ml.training; the heavy libraries load only when a step runs."""
    assert _loaded_after("import ml.training", HEAVY + ("sqlalchemy", "etl.warehouse.db")) == []
