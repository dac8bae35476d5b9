"""`make run`: the whole nightly job, end to end, on this machine.

ingest (load → gate → staging → features → gate → publish) → retrain when the job's one rule
says so (ml.training.retrain_reason: no champion, or a month's first snapshot) → score
(→ settle outcomes),
each DAG run with `airflow dags test` (no scheduler needed), then a summary to act on.
Data: `DATA_DIR`, or a synthetic snapshot generated into .local/data when it is unset.
`SNAPSHOTS=N`: N nights in a row on a synthetic history a month apart (job/local/synthetic_history.py), so the
summary shows realized performance and offer effects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Iterator

from etl.warehouse import db, server, settings
from job.deployment import processes
from job.local import progress, summary, synthetic_history
from job.orchestration import pools


class AlreadyRunning(RuntimeError):
    """Another `make run` holds this checkout (its Airflow home, logs and generated data)."""


class Stopped(Exception):
    """SIGTERM or SIGINT (Ctrl-C) arrived: the Airflow processes were stopped, then the job."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}; every process it started is stopped")


def main() -> int:
    """Run the job; a failure prints one line saying what and where, the traceback goes to a log."""
    logging.basicConfig(level=logging.WARNING)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _raise_stopped)
    try:
        with _one_run_per_checkout():
            return _run()
    except Stopped as stopped:
        print(f"\nmake run {stopped}")
        return 128 + stopped.signum
    except Exception as error:  # the console gets one line; the detail is in the log file
        print(f"make run stopped: {_one_line(error)}")
        log_file = _log_path("make-run-error")
        log_file.write_text("".join(traceback.format_exception(error)))
        print(f"detail: {log_file}")
        return 2 if isinstance(error, (settings.ConfigError, AlreadyRunning)) else 1


def _raise_stopped(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def _one_line(error: BaseException) -> str:
    import sqlalchemy as sa

    from ml import registry

    if isinstance(error, sa.exc.OperationalError):
        url = settings.current().WAREHOUSE_URL or "the embedded server"
        reason = str(error.orig or error).strip().splitlines()[0]
        return f"cannot reach the warehouse ({_hide_password(url)}): {reason}"
    if isinstance(error, registry.ModelRegistryError):
        return f"{error} — roll the champion back to an intact model or retrain (etl/ops/README.md)"
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, (settings.ConfigError, AlreadyRunning)):
        return first_line
    return f"{type(error).__name__}: {first_line}"


def _hide_password(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "WAREHOUSE_URL (unparsable)"


@contextlib.contextmanager
def _one_run_per_checkout() -> Iterator[None]:
    """Two `make run`s in one checkout would share Airflow's SQLite and overwrite each other's
    logs: the second one stops at once, naming the first."""
    path = settings.local_dir() / "make-run.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown pid"
            raise AlreadyRunning(
                f"another make run is running in this checkout ({holder}); wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {dt.datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        yield


def _run() -> int:
    snapshot = settings.snapshot_date_from_env()
    nights = synthetic_history.snapshots_from_env()
    if nights > 1 and settings.current().DATA_DIR:
        raise settings.ConfigError(
            "SNAPSHOTS > 1 runs on a synthetic history: unset DATA_DIR (one export is one snapshot)"
        )
    url = server.server_url()
    engine = db.get_engine(url)
    revision = db.migrate(engine)  # first: an unreachable warehouse stops the run before any work
    print(f"warehouse: {engine.url.render_as_string(hide_password=True)} (schema revision {revision})")
    airflow_env = _job_environment(url, settings.local_dir())
    if not _airflow(["db", "migrate"], airflow_env, "airflow-db-migrate"):
        return 1
    if not _airflow(pools.create_command(), airflow_env, "airflow-pools"):
        return 1
    if nights == 1:
        if not _run_night(snapshot, _job_environment(url, _data_dir()), engine):
            return 1
    else:
        customers, seed = settings.current().SYNTH_CUSTOMERS, settings.current().SYNTH_SEED
        story = synthetic_history.SyntheticHistory.from_env(nights, snapshot, customers, seed)
        print(
            f"{nights} nights on a synthetic history of {customers} customers, a month apart "
            f"({story.dates[0]} … {story.dates[-1]}); true offer effects: {story.effects}"
        )
        for index, snapshot_date in enumerate(story.dates):
            if not _run_night(snapshot_date, _job_environment(url, story.write(index)), engine):
                return 1
            print(f"offers sent to {story.record_offers(engine, index)} customers (the holdout got none)")
        snapshot = story.dates[-1]
    print()
    print(summary.render(engine, snapshot))
    return 0


def _run_night(snapshot: dt.date, env: dict[str, str], engine) -> bool:
    """One night: churn_ingest, churn_retrain when the retrain rule says so, churn_score."""
    print(f"data:      {env['DATA_DIR']}")
    print(f"snapshot:  {snapshot}")
    if not _run_dag("churn_ingest", snapshot, env, engine):
        return False
    reason = _retrain_reason(engine, snapshot)
    if reason:
        print(f"{reason}: running churn_retrain (its promotion gate decides)")
        if not _run_dag("churn_retrain", snapshot, env, engine):
            return False
    return _run_dag("churn_score", snapshot, env, engine)


def _data_dir() -> Path:
    if settings.current().DATA_DIR:
        return Path(settings.current().DATA_DIR).resolve()
    from etl import synth

    customers, seed = settings.current().SYNTH_CUSTOMERS, settings.current().SYNTH_SEED
    folder = settings.local_dir() / "data" / f"synthetic-v{synth.GENERATOR_VERSION}-{customers}-seed{seed}"
    if not (folder / "money.csv").is_file():
        print(f"DATA_DIR unset: generating a synthetic snapshot of {customers} customers")
        synth.generate_snapshot(folder, customers=customers, seed=seed)
    return folder


def _job_environment(url: str, data_dir: Path) -> dict[str, str]:
    """Environment of the Airflow processes: the warehouse URL, the data folder, a local Airflow."""
    # os.environ, not the settings: the children inherit every variable (Airflow's, PATH, …) and
    # read their own settings from it
    env = dict(os.environ)
    env["WAREHOUSE_URL"] = url
    env["DATA_DIR"] = str(data_dir)
    env.setdefault("AIRFLOW_HOME", str(settings.local_dir() / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(settings.PROJECT_ROOT / "dags"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
    # `airflow dags test` cannot run a DAG with a Deadline Alert (job/orchestration/alerts.py)
    env["CHURN_DEADLINES"] = "off"
    # `airflow dags test` runs every task of a run in its one process: a claim it left when it was
    # killed is taken over by the next run at once (etl/ops/claims.py)
    env["CHURN_CLAIM_HOLDER"] = "run"
    # `airflow dags test` runs mapped candidate families one after another: give each both cores.
    env.setdefault("CHURN_N_JOBS", "2")
    return env


def _log_path(name: str) -> Path:
    folder = settings.local_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.log"


def _airflow(args: list[str], env: dict[str, str], log_name: str) -> bool:
    """Run an Airflow command in a process group of its own (job.deployment.processes), output to a log
    file: on SIGTERM/SIGINT the whole group (the command and the training workers it spawns) is
    stopped here, never left running after `make run` ends."""
    log_file = _log_path(log_name)
    log_file.write_text("")
    process = processes.start_airflow(args, env, log_file)
    try:
        returncode = _wait_following(process, log_file)
    except BaseException:
        processes.ignore_stop_signals()
        processes.stop_group(process.pid, process=process)
        raise
    if returncode != 0:
        print(f"FAILED: airflow {' '.join(args)} (exit {returncode}); full log: {log_file}")
    return returncode == 0


def _wait_following(process: subprocess.Popen, log_file: Path) -> int:
    """Wait for `process`, printing the progress lines its log shows meanwhile (job.local.progress)."""
    follower = progress.Follower(say=lambda line: print(line, flush=True))
    with log_file.open(errors="replace") as log:
        pending = ""
        while True:
            finished = process.poll() is not None
            pending += log.read()
            *lines, pending = pending.split("\n")
            for line in lines:
                follower.feed(line)
            if finished:
                return process.returncode
            time.sleep(0.5)


def _run_dag(dag_id: str, snapshot: dt.date, env: dict[str, str], engine) -> bool:
    started, clock = dt.datetime.now(dt.timezone.utc), time.monotonic()
    print(f"running {dag_id} for {snapshot}", flush=True)
    log_name = f"{dag_id}-{snapshot}"
    if _airflow(["dags", "test", dag_id, snapshot.isoformat()], env, log_name):
        print(f"{dag_id} ok ({time.monotonic() - clock:.0f} s, log: {_log_path(log_name)})")
        return True
    print(_failure_report(engine, snapshot, started, _log_path(log_name)))
    return False


def _failure_report(engine, snapshot: dt.date, started: dt.datetime, log_file: Path, limit: int = 40) -> str:
    """What stopped the run: a gate's CRITICAL findings from dq.validation_runs when a gate did
    (never its warnings), else the error lines of the log."""
    from etl import data_docs, quality

    findings = quality.critical_failures(engine, snapshot, started)
    if findings:
        lines = [f"the {findings[0].table.split('.')[0]} gate failed: {len(findings)} critical finding(s)"]
        lines += [f"  CRITICAL {finding.describe()}" for finding in findings]
        lines.append(f"Data Docs: {data_docs.data_docs_dir() / 'index.html'}")
        return "\n".join(lines)
    text = log_file.read_text(errors="replace").splitlines()
    wanted = [line for line in text if any(k in line for k in ("ERROR", "Error", "error", "FAILED", "failed"))]
    return "\n".join((wanted or text)[-limit:])


def _retrain_reason(engine, snapshot: dt.date) -> str | None:
    from ml import training

    return training.retrain_reason(engine, snapshot)


if __name__ == "__main__":
    sys.exit(main())
