"""The retrain job as plain functions: the churn_retrain DAG's tasks call these, so can scripts.

    jobs = prepare(engine, snapshot_date)                  # dataset:   snapshot, one job dict per family
    results = [train_family(engine, job) for job in jobs]  # search:    search + honest CV of one family
    registered = select_and_register(engine, results)      # selection: best family → final fit, verdict,
                                                           #            registration: artifact, card, row
    outcome = apply_gate(engine, registered)               # promotion: promote (retire old champion) or reject

`retrain(engine, snapshot_date)` runs the four steps in one process; `training_needed` tells
`make run` whether to, `retrain_due` the monthly DAG (whole_job). Only small JSON crosses task
boundaries (XCom); per-family details are JSON files under `<model store>/runs/<run_key>/`, and
every step re-reads the training rows and checks their sha256 against the one `prepare` recorded.

Light on import, like the rest of `ml`: sklearn, pandas and numpy load inside the functions.
"""
from ml.training.dataset import prepare
from ml.training.promotion import apply_gate
from ml.training.search import train_family
from ml.training.selection import select_and_register
from ml.training.whole_job import retrain, retrain_due, training_needed

__all__ = ["apply_gate", "prepare", "retrain", "retrain_due", "select_and_register", "train_family", "training_needed"]
