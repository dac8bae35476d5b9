"""Alerts: every task that fails for good, and every missed deadline, is reported; configured from
the environment only.

`CHURN_ALERT_WEBHOOK` — a URL that receives one JSON POST per failed task or missed deadline:
`text` (one line, the shape Slack/Mattermost/Teams incoming webhooks display) plus the fields a
receiver can route on. Deadlines are Airflow Deadline Alerts (experimental in Airflow 3.1+): the
scheduler notices the miss and the triggerer runs `deadline_missed`.
Unset, alerts are off and the failure callback says so in the task log, so a silent pipeline is
a visible decision, not an accident. A webhook that cannot be reached never hides the task's own
failure: the error is logged and the callback returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import urllib.request
from typing import Any, Mapping
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
WEBHOOK_VARIABLE = "CHURN_ALERT_WEBHOOK"
DEADLINES_VARIABLE = "CHURN_DEADLINES"
TIMEOUT_SECONDS = 10


def failure_message(context: Mapping[str, Any]) -> dict[str, Any]:
    """What a person on call needs first: which task of which run, and why (first line)."""
    ti = context["ti"]
    error = context.get("exception")
    reason = str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "no exception recorded"
    where = f"{ti.dag_id}.{ti.task_id}" + (f"[{ti.map_index}]" if getattr(ti, "map_index", -1) >= 0 else "")
    return {
        "text": f"churn job: {where} failed in run {context.get('run_id')}: {reason}",
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "reason": reason,
    }


def notify_failure(context: Mapping[str, Any]) -> None:
    """Failure callback: POST the failure to CHURN_ALERT_WEBHOOK, or log that alerts are off."""
    send(failure_message(context))


def deadline(what: str, *, after_logical_date: dt.timedelta | None = None, after_queued: dt.timedelta | None = None):
    """A DAG's Deadline Alert: `what` must be done this long after the run's logical date (a
    scheduled run) or after it was queued (an Asset-triggered run has no logical date).

    None when `CHURN_DEADLINES=off`: deadlines need a scheduler, and `airflow dags test` (3.3.2)
    fails a finished run of a DAG that has one (DagRun.update_state looks its alerts up by an id
    that dag.test never stored), so `make run` and the dag.test-based tests turn them off.
    """
    from etl.warehouse import settings

    if settings.reporting().CHURN_DEADLINES == "off":  # reporting(): a bad other setting fails a task, not the DAG
        return None
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    reference, interval = (
        (DeadlineReference.DAGRUN_LOGICAL_DATE, after_logical_date)
        if after_logical_date is not None
        else (DeadlineReference.DAGRUN_QUEUED_AT, after_queued)
    )
    return DeadlineAlert(
        reference=reference,
        interval=interval,
        callback=AsyncCallback(f"{__name__}.deadline_missed", kwargs={"what": what, "interval": str(interval)}),
    )


async def deadline_missed(what: str, interval: str, context: Mapping[str, Any] | None = None, **_: Any) -> None:
    """Deadline callback (runs in the triggerer): alert that `what` is late."""
    run = (context or {}).get("dag_run") or {}
    dag_id, run_id = run.get("dag_id", "?"), run.get("dag_run_id", "?")
    message = {
        "text": f"churn job: {what} is late: {dag_id} run {run_id} not done {interval} after its reference time",
        "dag_id": dag_id,
        "run_id": run_id,
        "reason": f"deadline missed: {what}",
    }
    await asyncio.to_thread(send, message)


def send(message: Mapping[str, Any]) -> None:
    """POST `message` to CHURN_ALERT_WEBHOOK, or log that alerts are off; never raises."""
    from etl.warehouse import settings

    try:
        url = settings.reporting().CHURN_ALERT_WEBHOOK  # readable while another setting is bad
    except settings.ConfigError as error:  # the alert settings themselves
        log.warning("alerts are off (%s): %s", error, message["text"])
        return
    if not url:
        log.warning("alerts are off (%s is unset): %s", WEBHOOK_VARIABLE, message["text"])
        return
    request = urllib.request.Request(
        url,
        data=json.dumps(message, ensure_ascii=False, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            log.info("alert sent to %s (HTTP %s)", urlsplit(url).netloc, response.status)
    except Exception as error:  # a callback must not hide the task's own failure
        log.warning("could not send the alert to %s: %s", urlsplit(url).netloc, error)
