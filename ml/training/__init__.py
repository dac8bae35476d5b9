"""The retrain steps as plain functions; job/pipelines/retrain.py declares their order:

    items = prepare(engine, snapshot_date)                    # dataset:   snapshot, one item per family
    results = [train_family(engine, item) for item in items]  # search:    search + honest CV of one family
    registered = select_and_register(engine, results)         # selection: best family → final fit, verdict,
                                                              #            registration: artifact, card, row
    outcome = apply_gate(engine, registered)                  # promotion: promote (retire old champion) or reject

`retrain_reason` (cadence) is the one rule saying whether a snapshot retrains. Only small JSON
crosses task boundaries (XCom); per-family details are JSON files under
`<model store>/runs/<run_key>/`, and every step re-reads the training rows and checks their
sha256 against the one `prepare` recorded.

Light on import, like the rest of `ml`: sklearn, pandas and numpy load inside the functions.
"""

from ml.training.cadence import retrain_reason
from ml.training.dataset import prepare
from ml.training.promotion import apply_gate
from ml.training.search import train_family
from ml.training.selection import select_and_register

__all__ = ["apply_gate", "prepare", "retrain_reason", "select_and_register", "train_family"]
