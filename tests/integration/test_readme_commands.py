"""The README's commands, run as a person runs them on a new checkout (checkout.py), in order
(`make bi-login`: test_bi_access.py; `CeleryExecutor make airflow`: test_deployment.py):

1. `make run` on the embedded default (a small synthetic snapshot, the reduced search) trains
   the first champion and scores; `make churn ARGS=status` and `make psql` show it.
2. `make airflow > log 2>&1 &` (LocalExecutor) prints the UI address and login, stays in the
   foreground, scores a snapshot date backfilled through its REST API, and Ctrl-C leaves nothing running.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import urllib.request

import pytest

from job.deployment.client import wait_for
from tests.helpers import rows
from tests.integration import checkout as person

pytestmark = pytest.mark.integration

RUN_DATE = dt.date(2026, 11, 1)  # make run's snapshot: the champion it trains is of the backfilled snapshot's month
BACKFILLED = dt.date(2026, 11, 20)  # the snapshot date backfilled through the REST API
CUSTOMERS = 300


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    yield from person.new_checkout(
        tmp_path_factory.mktemp("checkout"),
        SNAPSHOT_DATE=RUN_DATE.isoformat(),
        SYNTH_CUSTOMERS=str(CUSTOMERS),
        CHURN_SEARCH_BUDGET="reduced",
    )


@pytest.fixture(scope="module")
def ran(checkout):
    return person.make(checkout["env"], "run", timeout=900)


def test_make_run_trains_and_scores_the_synthetic_snapshot_on_the_embedded_warehouse(checkout, ran):
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    out = ran.stdout
    assert f"DATA_DIR unset: generating a synthetic snapshot of {CUSTOMERS} customers" in out
    assert "no champion model yet: running churn_retrain" in out
    for dag_id in ("churn_ingest", "churn_retrain", "churn_score"):
        assert f"{dag_id} ok (" in out, out
    assert f"== churn job summary for snapshot {RUN_DATE} ==" in out
    engine = checkout["engine"]
    assert 0.9 * CUSTOMERS < person.scored(engine)[RUN_DATE][0] == person.active(engine, RUN_DATE) <= CUSTOMERS
    assert (checkout["local"] / "models").is_dir() and (checkout["local"] / "reports").is_dir()  # all under LOCAL_DIR


def test_make_churn_status_and_make_psql_show_the_champion_and_the_scored_night(checkout, ran):
    [champion] = rows(checkout["engine"], "SELECT model_version FROM ml.model_registry WHERE status = 'champion'")
    status = person.make(checkout["env"], "churn", "ARGS=status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"champion: {champion['model_version']} (" in status.stdout
    scored = person.scored(checkout["engine"])[RUN_DATE][0]
    assert f"scored {RUN_DATE}: {scored} customers by {champion['model_version']}" in status.stdout
    psql = person.make(checkout["env"], "psql", "ARGS=-At -c 'SELECT count(*) FROM mart.churn_scores_latest'")
    assert psql.returncode == 0 and psql.stdout.strip().splitlines()[-1] == str(scored), psql.stdout + psql.stderr


def test_make_airflow_stays_in_the_foreground_scores_a_night_and_ctrl_c_leaves_nothing(checkout, ran, tmp_path):
    from etl import synth

    synth.generate_snapshot(checkout["exports"] / BACKFILLED.isoformat(), customers=CUSTOMERS, seed=28)
    log = tmp_path / "make-airflow.log"
    make = person.make_in_background(checkout["env"], log, "airflow")
    try:
        api = person.started(checkout, log, make)
        dags = wait_for(lambda: len(found := api.dags()) == 3 and found, 120, "the three DAGs appear in the API")
        assert all(dag["is_paused"] for dag in dags.values())  # nothing runs before a person unpauses it
        for dag_id in dags:  # each DAG shows its schedule semantics in the UI
            assert "**" in api.get(f"/api/v2/dags/{dag_id}/details")["doc_md"], dag_id
        with urllib.request.urlopen(api.url + "/", timeout=30) as ui:
            assert ui.status == 200 and b"<html" in ui.read().lower()
        for dag_id in dags:
            api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
        api.backfill("churn_ingest", f"{BACKFILLED}T00:00:00Z", f"{BACKFILLED}T23:00:00Z")
        engine = checkout["engine"]
        wait_for(
            lambda: (
                person.settled(api, "churn_ingest", [BACKFILLED], 1)
                and BACKFILLED in person.scored(engine)
                and person.settled(api, "churn_score", [BACKFILLED], 1)
            ),
            person.RUNS_SETTLE_SECONDS,
            f"{BACKFILLED} scored",
        )
        assert person.scored(engine)[BACKFILLED][0] == person.active(engine, BACKFILLED)

        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
        person.wait_until_ended(make, 120)
    finally:
        person.kill_session(make)
    text = log.read_text()
    assert "stopping Airflow …" in text and "Airflow stopped: no component is left running" in text, text
    assert person.unreachable(api.url)
