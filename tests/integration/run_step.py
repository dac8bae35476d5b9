"""Run one pipeline step (or a whole run) in a process of its own, for drills that kill it or race
two of them: `python -m tests.integration.run_step STEP DATE [--run RUN] [--data-dir DIR]
[--start-at EPOCH]`. Prints one JSON line: {"ok": true, "result": …} or {"ok": false,
"error": type, "message": …}. The warehouse is WAREHOUSE_URL; PGAPPNAME names its sessions.
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def _steps():
    from etl import ingest
    from ml import scoring

    return {
        "load_raw": lambda e, d, a: ingest.load_raw(e, a.data_dir, d, a.run),
        "validate_raw": lambda e, d, a: ingest.validate_raw(e, d, a.run),
        "build_staging": lambda e, d, a: ingest.build_staging(e, d, a.run),
        "build_features": lambda e, d, a: ingest.build_features(e, d, a.run),
        "validate_features": lambda e, d, a: ingest.validate_features(e, d, a.run),
        "publish_features": lambda e, d, a: ingest.publish_features(e, d, a.run),
        "ingest": lambda e, d, a: ingest.run_snapshot(e, a.data_dir, d, a.run),
        "score": lambda e, d, a: scoring.score_to_staged(e, d, run=a.run),
        "validate_scores": lambda e, d, a: scoring.validate(e, d, a.run),
        "publish_scores": lambda e, d, a: scoring.publish(e, d, a.run),
        "score_run": lambda e, d, a: _score_run(e, d, a.run),
    }


def _score_run(engine, snapshot, run):
    """The churn_score chain in one process; the claim is released when a step fails."""
    from etl.ops import claims
    from ml import scoring

    run = run or claims.script_run_id()
    try:
        scoring.score_to_staged(engine, snapshot, run=run)
        scoring.validate(engine, snapshot, run)
        return scoring.publish(engine, snapshot, run)
    except BaseException:
        claims.release_run(engine, run)
        raise


def main(argv: list[str]) -> int:
    import datetime as dt

    parser = argparse.ArgumentParser()
    parser.add_argument("step")
    parser.add_argument("date", type=dt.date.fromisoformat)
    parser.add_argument("--run")
    parser.add_argument("--data-dir")
    parser.add_argument("--start-at", type=float, default=0.0)
    args = parser.parse_args(argv)
    from etl.warehouse import db

    import great_expectations  # noqa: F401  (imports and a connection before the start signal,
    import sklearn  # noqa: F401               so that racing processes really overlap)

    engine = db.get_engine()
    step = _steps()[args.step]
    with engine.connect():
        pass
    time.sleep(max(0.0, args.start_at - time.time()))
    try:
        result = step(engine, args.date, args)
    except Exception as error:
        print(json.dumps({"ok": False, "error": type(error).__name__, "message": str(error)}), flush=True)
        return 1
    print(json.dumps({"ok": True, "result": result}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
