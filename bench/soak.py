"""`make soak NIGHTS=30`: nights through the real scheduler with faults, and what they cost.

The deployment of `make airflow` (CeleryExecutor, default settings, supervised as `make airflow`
does) on a warehouse of its own (LOCAL_DIR=.local/soak, wiped first) backfills NIGHTS small
synthetic nights while bad exports, killed tasks, a warehouse restart and a deployment crash are
injected; then every night is checked (scored once, rejected and alerted, rows lost, equal to a
clean rerun) and bench/results/<date>-soak.json written. What and why: bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench import run as bench_run
from etl import synth
from etl.ops import checksums, claims
from etl.warehouse import db, server, settings
from job import pipelines
from job.deployment import processes
from job.deployment.client import AirflowApi
from job.deployment.stack import Deployment, free_port
from job.deployment.supervisor import Supervisor
from job.orchestration import runtime

FIRST_NIGHT = dt.date(2026, 10, 2)  # the champion is trained on 2026-10-01: no retrain is due
CUSTOMERS = 200
SECONDS_PER_NIGHT = 150  # the soak fails when the nights take longer than this on average
LOAD_TASKS = {"load_raw", "validate_raw", "build_staging"}
BUILD_TASKS = {"build_staging", "build_features", "validate_features"}


def _replace_field(path: Path, line: int, column: int, value: str) -> None:
    lines = [row.split(",") for row in path.read_text(encoding="utf-8").splitlines()]  # market_*.csv: commas
    lines[line][column] = value
    path.write_text("".join(",".join(row) + "\n" for row in lines), encoding="utf-8")


BAD_EXPORTS = {  # what goes wrong in a night's export → how it is made from a good one
    "revenue that is not a number (loader)": lambda d: _replace_field(d / "market_money.csv", 2, 2, "12O4.5"),
    "a renamed column (loader)": lambda d: _replace_field(d / "market_time.csv", 0, 2, "минуты"),
    "negative revenue (raw gate)": lambda d: _replace_field(d / "market_money.csv", 2, 2, "-4971.6"),
}


@dataclass
class Fault:
    kind: str  # killed task | warehouse restart | deployment crash
    night: dt.date
    tasks: set[str]  # it strikes while one of these tasks of the night runs
    struck_task: str | None = None
    struck_at: float | None = None  # monotonic
    restarted_at: float | None = None  # a crash: when the deployment was healthy again
    healed_seconds: float | None = None  # from the fault (a crash: from the restart) to the hit pipeline's publish
    hit_scoring: bool = False  # it hit churn_score (healed when the night is scored), else churn_ingest


@dataclass
class Plan:
    nights: list[dt.date]
    bad: dict[dt.date, str]
    faults: list[Fault]


def plan(nights: list[dt.date]) -> Plan:
    """The faults and bad exports spread over the nights, each on a night of its own."""
    if len(nights) < 10:
        raise SystemExit("make soak needs NIGHTS >= 10 (three bad exports and five faults on nights of their own)")
    taken: list[int] = []
    for share in (0.1, 0.2, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85):
        index = int(share * (len(nights) - 1))
        taken.append(max(index, taken[-1] + 1) if taken else index)
    at = [nights[index] for index in taken]
    faults = [
        Fault("killed task", at[0], LOAD_TASKS),
        Fault("killed task", at[2], {"score_shard"}),
        Fault("warehouse restart", at[3], BUILD_TASKS),
        Fault("killed task", at[5], {"validate_features", "publish_features"}),
        Fault("deployment crash", at[6], BUILD_TASKS),
    ]
    return Plan(nights, dict(zip((at[1], at[4], at[7]), BAD_EXPORTS)), faults)


class Soak:
    """The deployment under test, supervised as `make airflow` supervises it, and its API."""

    def __init__(self, local: Path, url: str) -> None:
        self.deployment = Deployment(
            home=local / "deployment",
            executor="CeleryExecutor",
            port=free_port(),
            extra_env={"WAREHOUSE_URL": url, "DATA_DIR": str(local / "exports" / "{snapshot_date}")},
        )
        self.engine = db.get_engine(url)

    def start(self) -> None:
        self.deployment.start()
        self.watcher = Supervisor(self.deployment)
        self.api = AirflowApi(self.deployment.url, self.deployment.admin_password())

    def kill(self, *names: str) -> None:
        """SIGKILL the process groups of `names` (all components, at once, when none), then reap them."""
        pids = [pid for name, pid in self.deployment._pids().items() if not names or name in names]
        for pid in pids:
            os.killpg(pid, signal.SIGKILL)
        for pid in pids:
            processes.stop_group(pid, grace_seconds=0)  # reaped: gone, not a zombie

    def running(self, night: dt.date, tasks: set[str], running: list[dict]) -> dict | None:
        """A task of `tasks` among the `running` ones for `night`: an ingest task by its run's
        logical date; a scoring task (its run has none, and its label is rendered only when it
        ends) while the night's features are published and its scores are not."""
        for ti in running:
            if ti["task_id"] in tasks and (
                (ti.get("logical_date") or "")[:10] == night.isoformat()
                or (ti["dag_id"] == "churn_score" and self.being_scored(night))
            ):
                return ti
        return None

    def being_scored(self, night: dt.date) -> bool:
        return night in self.nights_in("features.customer_features") and night not in self.scored_nights()

    def nights_in(self, table: str, column: str = "snapshot_date") -> set[dt.date]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.text(f"SELECT DISTINCT {column} FROM {table}")).scalars())

    def strike(self, fault: Fault) -> None:
        print(f"  soak: {fault.kind} on {fault.night} while {fault.struck_task} runs", flush=True)
        fault.struck_at = time.monotonic()
        if fault.kind == "killed task":
            self.kill("celery-worker")
        elif fault.kind == "warehouse restart":
            server.restart_embedded()
        else:
            self.kill()
            self.start()  # from the same home, as a person runs `make airflow` again
            fault.restarted_at = time.monotonic()

    def scored_nights(self) -> set[dt.date]:
        return self.nights_in("scoring.churn_scores", "score_date")

    def ingest_runs(self) -> dict[str, str]:
        """Night (ISO) → state of its churn_ingest backfill run."""
        runs = self.api.runs("churn_ingest")
        return {run["logical_date"][:10]: run["state"] for run in runs if run["run_type"] == "backfill"}

    def settled(self, soak_plan: Plan) -> bool:
        states, scored = self.ingest_runs(), self.scored_nights()
        good = [night for night in soak_plan.nights if night not in soak_plan.bad]
        busy = [run for run in self.api.runs("churn_score") if run["state"] in ("queued", "running")]
        return (
            len(states) == len(soak_plan.nights)
            and all(state in ("success", "failed") for state in states.values())
            and all(night in scored for night in good)
            and not busy
        )


def drive(soak: Soak, soak_plan: Plan, deadline: float) -> None:
    """Strike each fault when its task runs (in any order: the backfill ingests nights ahead of
    scoring them), note when its night is scored, until every run settles."""
    pending = list(soak_plan.faults)
    while time.monotonic() < deadline:
        soak.watcher.check(say=lambda text, **_: print(f"  soak: {text}", flush=True))  # as make airflow
        scored, running = soak.scored_nights(), soak.api.task_instances(state="running")
        for fault in list(pending):
            if ti := soak.running(fault.night, fault.tasks, running):
                fault.struck_task, fault.hit_scoring = ti["task_id"], ti["dag_id"] == "churn_score"
                soak.strike(fault)
                pending.remove(fault)
                break
            if fault.night in scored:  # its task ran between two looks: the next night not yet scored
                later = [n for n in soak_plan.nights if n > fault.night and n not in soak_plan.bad and n not in scored]
                if not later:
                    raise RuntimeError(f"the soak missed its {fault.kind}: every night finished first")
                print(f"  soak: {fault.kind} on {fault.night} missed, moved to {later[0]}", flush=True)
                fault.night = later[0]
        for fault in soak_plan.faults:
            done = scored if fault.hit_scoring else soak.nights_in("features.customer_features")
            if fault.struck_at is not None and fault.healed_seconds is None and fault.night in done:
                fault.healed_seconds = round(time.monotonic() - (fault.restarted_at or fault.struck_at), 1)
        if not pending and soak.settled(soak_plan):
            return
        time.sleep(1)
    raise RuntimeError(f"the nights did not settle in time: {soak.ingest_runs()}")


NIGHT_ROWS = """
SELECT (SELECT count(*) FROM features.customer_features WHERE snapshot_date = :d) AS features,
       (SELECT count(*) FROM features.model_input WHERE snapshot_date = :d) AS active,
       (SELECT count(*) FROM scoring.churn_scores WHERE score_date = :d) AS scores,
       (SELECT count(*) FROM ops.alerts WHERE payload ? 'task_id' AND payload->>'dag_id' = 'churn_ingest'
          AND payload->>'run_id' LIKE 'backfill__' || :d || '%') AS alerts
"""


def night_rows(engine: sa.Engine, night: dt.date) -> dict[str, int]:
    """The night's rows in each layer and its ingest failure alerts."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(NIGHT_ROWS), {"d": night.isoformat()}).mappings().one())


def verify(soak: Soak, soak_plan: Plan, exports: Path) -> dict:
    """What the nights left: scored once, rows lost, equal to a clean rerun, rejected and alerted."""
    engine, scored, states = soak.engine, soak.scored_nights(), soak.ingest_runs()
    publishes: dict[str, int] = {}
    for ti in soak.api.task_instances("churn_score", task_id="publish", state="success"):
        publishes[ti["rendered_map_index"]] = publishes.get(ti["rendered_map_index"], 0) + 1
    rows_lost, differ, rejected = 0, [], {}
    for night in soak_plan.nights:
        export, found = exports / night.isoformat(), night_rows(engine, night)
        if night in soak_plan.bad:
            rejected[night.isoformat()] = {
                "why": soak_plan.bad[night], "run": states.get(night.isoformat()), "alerted": found["alerts"] > 0,
                "rows_published": found["features"] + found["scores"],  # raw keeps what the gate refused
            }  # fmt: skip
            continue
        customers = len((export / "market_file.csv").read_text(encoding="utf-8").splitlines()) - 1
        rows_lost += max(0, customers - found["features"]) + max(0, found["active"] - found["scores"])
        if night in {fault.night for fault in soak_plan.faults}:
            after_faults = checksums.layer_checksums(engine, night)
            pipelines.execute(pipelines.INGEST, engine, night, data_dir=export)
            pipelines.execute(pipelines.SCORE, engine, night)
            if checksums.layer_checksums(engine, night) != after_faults:
                differ.append(night.isoformat())
    good = [night for night in soak_plan.nights if night not in soak_plan.bad]
    return {
        "nights": len(soak_plan.nights),
        "nights_scored_once": sum(publishes.get(night.isoformat()) == 1 and night in scored for night in good),
        "nights_good": len(good),
        "nights_rejected_and_alerted": sum(
            r["run"] == "failed" and r["alerted"] and not r["rows_published"] for r in rejected.values()
        ),
        "rejected": rejected,
        "faults": [
            {
                "kind": f.kind,
                "night": f.night.isoformat(),
                "struck_task": f.struck_task,
                "healed": f.healed_seconds is not None,
                "healed_seconds": f.healed_seconds,
            }
            for f in soak_plan.faults
        ],  # fmt: skip
        "rows_lost": rows_lost,
        "differ_from_clean_rerun": differ,
        "runs_failed_other_than_rejected": sorted(
            night
            for night, state in states.items()
            if state == "failed" and dt.date.fromisoformat(night) not in soak_plan.bad
        )
        + [run["dag_run_id"] for run in soak.api.runs("churn_score") if run["state"] == "failed"],
        "claims_left": len(claims.list_claims(engine)),
    }


def print_table(result: dict) -> None:
    print(f"\nsoak: {result['nights']} nights, {result['customers']} customers, {result['executor']}, "
          f"{result['wall_seconds'] / 60:.1f} min (load average {result['load_average']})")  # fmt: skip
    print(f"  nights scored once        {result['nights_scored_once']} of {result['nights_good']}")
    print(f"  nights rejected, alerted  {result['nights_rejected_and_alerted']} of {len(result['rejected'])}")
    for fault in result["faults"]:
        healed = f"healed in {fault['healed_seconds']:.0f} s" if fault["healed"] else "NOT HEALED"
        print(f"  {fault['kind']:<18} {fault['night']}  at {fault['struck_task']:<18} {healed}")
    print(f"  rows_lost                 {result['rows_lost']}")
    print(f"  differ from a clean rerun {result['differ_from_clean_rerun'] or 'none'}")
    print(f"  failed runs, claims left  {result['runs_failed_other_than_rejected'] or 'none'}, {result['claims_left']}")


def ok(result: dict) -> bool:
    return (
        result["rows_lost"] == 0
        and result["nights_scored_once"] == result["nights_good"]
        and result["nights_rejected_and_alerted"] == len(result["rejected"])
        and all(fault["healed"] for fault in result["faults"])
        and not result["differ_from_clean_rerun"]
        and not result["runs_failed_other_than_rejected"]
        and result["claims_left"] == 0
    )


def fresh_local(local: Path) -> str:
    """The soak's own embedded warehouse, emptied: LOCAL_DIR must be a folder named `soak`."""
    if local.name != "soak":
        raise SystemExit(f"make soak wipes LOCAL_DIR and runs in .local/soak; LOCAL_DIR is {local}")
    server.stop_embedded()
    shutil.rmtree(local, ignore_errors=True)
    url = server.start_embedded()
    db.migrate(db.get_engine(url))
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    args = parser.parse_args(argv)
    started, local = time.monotonic(), settings.local_dir()
    soak_plan = plan([FIRST_NIGHT + dt.timedelta(days=i) for i in range(args.nights)])
    url = fresh_local(local)
    soak = Soak(local, url)
    bench_run.train_champion(soak.engine)
    exports = local / "exports"
    for seed, night in enumerate(soak_plan.nights):
        synth.generate_snapshot(exports / night.isoformat(), customers=args.customers, seed=seed)
        if night in soak_plan.bad:
            BAD_EXPORTS[soak_plan.bad[night]](exports / night.isoformat())
    soak.start()
    try:
        for dag_id in soak.api.dags():
            soak.api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
        first, last = soak_plan.nights[0], soak_plan.nights[-1]
        soak.api.backfill("churn_ingest", f"{first}T00:00:00Z", f"{last}T23:00:00Z", max_active_runs=3)
        drive(soak, soak_plan, time.monotonic() + SECONDS_PER_NIGHT * args.nights)
        result = verify(soak, soak_plan, exports)
    finally:
        soak.deployment.stop()
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "customers": args.customers,
        "executor": "CeleryExecutor",
        "heartbeat_timeout_seconds": int(soak.deployment.env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"]),
        "retry_delay_seconds": runtime.RETRY_DELAY.total_seconds(),
        "wall_seconds": round(time.monotonic() - started),
        **result,
    }
    print_table(result)
    bench_run.RESULTS_DIR.mkdir(exist_ok=True)
    path = bench_run.RESULTS_DIR / f"{result['date']}-soak.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written: {path}")
    return 0 if ok(result) else 1


if __name__ == "__main__":
    raise SystemExit(main())
