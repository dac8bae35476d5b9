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
    assert dag.timetable.expression == "0 0 1 * *"  # @monthly
    assert set(dag.task_dict) == {"prepare_training_set", "train_candidate", "register_challenger", "apply_promotion_gate"}
    assert dag.task_dict["train_candidate"].upstream_task_ids == {"prepare_training_set"}
    assert dag.task_dict["register_challenger"].upstream_task_ids == {"train_candidate"}
    assert dag.task_dict["apply_promotion_gate"].upstream_task_ids == {"register_challenger"}
    mapped = dag.task_dict["train_candidate"]
    assert type(mapped).__name__.endswith("MappedOperator")  # dynamic task mapping
    assert mapped.max_active_tis_per_dagrun == 2
    assert all(task.retries >= 1 for task in dag.tasks)
    assert dag.params.get_param("families").schema["items"]["enum"] == list(FAMILIES)


def test_parsing_imports_no_heavy_libraries_and_touches_no_database():
    code = textwrap.dedent(
        f"""
        import os, sys, runpy
        os.environ["WAREHOUSE_URL"] = "postgresql://nobody@/nowhere?host=/nonexistent"
        runpy.run_path({str(ROOT / "dags" / "churn_retrain.py")!r})
        heavy = [m for m in ("sklearn", "pandas", "numpy", "scipy", "matplotlib", "joblib", "ml.train", "etl.warehouse.db") if m in sys.modules]
        print(",".join(heavy))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1:] in ([""], []), result.stdout
