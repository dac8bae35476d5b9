"""Alerts: every task that fails for good, and every missed deadline, is reported; configured from
the environment only.

`CHURN_ALERT_WEBHOOK` — a URL that receives one JSON POST per failed task or missed deadline:
`text` (one line, the shape Slack/Mattermost/Teams incoming webhooks display) plus the fields a
receiver can route on. Deadlines are Airflow Deadline Alerts (experimental in Airflow 3.1+): the
scheduler notices the miss and the triggerer runs `deadline_missed`.
Unset, alerts are off and the failure callback says so in the task log, so a silent pipeline is
a visible decision, not an accident.

Not lost: a webhook that cannot be reached or answers 5xx is tried ATTEMPTS times, BACKOFF_SECONDS
doubling in between; every alert is recorded once per key in `ops.alerts` (the warehouse of
WAREHOUSE_URL) with whether the webhook took it, and `churn status` lists those it did not. A
callback run again for the same failure finds its key recorded and sends nothing. Nothing here
ever hides the task's own failure: errors are logged and the callback returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from typing import Any, Mapping
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
WEBHOOK_VARIABLE = "CHURN_ALERT_WEBHOOK"
DEADLINES_VARIABLE = "CHURN_DEADLINES"
TIMEOUT_SECONDS = 5
ATTEMPTS = 3
BACKOFF_SECONDS = 1.0  # then 2 s: a webhook restarting for a few seconds still gets the alert


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


def failure_key(context: Mapping[str, Any]) -> str:
    """One key per final failure of a task instance: a rerun of the callback finds it recorded."""
    ti = context["ti"]
    return f"{ti.dag_id}.{ti.task_id}[{getattr(ti, 'map_index', -1)}] {context.get('run_id')} try {getattr(ti, 'try_number', None)}"


def notify_failure(context: Mapping[str, Any]) -> None:
    """Failure callback: POST the failure to CHURN_ALERT_WEBHOOK, or log that alerts are off."""
    send(failure_message(context), key=failure_key(context))


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
    await asyncio.to_thread(send, message, f"deadline {what}: {dag_id} {run_id}")


def send(message: Mapping[str, Any], key: str | None = None) -> None:
    """POST `message` to CHURN_ALERT_WEBHOOK (retried), or log that alerts are off; with a `key`,
    record it once in ops.alerts and send nothing when the key was raised already. Never raises."""
    from etl.warehouse import settings

    if key is not None and not _record(key, message):
        log.info("alert %s was raised already: not sent again", key)
        return
    try:
        url = settings.reporting().CHURN_ALERT_WEBHOOK  # readable while another setting is bad
    except settings.ConfigError as error:  # the alert settings themselves
        url, off = None, f"alerts are off ({error})"
    else:
        off = f"alerts are off ({WEBHOOK_VARIABLE} is unset)"
    if not url:
        log.warning("%s: %s", off, message["text"])
        _delivered(key, 0, False, off)
        return
    attempts, error = _post(url, message)
    _delivered(key, attempts, error is None, error)
    if error is not None:
        log.warning("could not send the alert to %s (%d attempts): %s; kept in ops.alerts: %s",
                    urlsplit(url).netloc, attempts, error, message["text"])  # fmt: skip


def _post(url: str, message: Mapping[str, Any]) -> tuple[int, str | None]:
    """POST until the webhook takes it or ATTEMPTS are used: (attempts, last error or None).
    A 4xx answer is not retried: the same request would be refused again."""
    import time

    body = json.dumps(message, ensure_ascii=False, default=str).encode("utf-8")
    error: str | None = None
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                log.info("alert sent to %s (HTTP %s)", urlsplit(url).netloc, response.status)
                return attempt, None
        except urllib.error.HTTPError as failed:
            error = f"HTTP {failed.code}"
            if failed.code < 500:
                return attempt, error
        except Exception as failed:  # unreachable, refused, timed out
            error = f"{type(failed).__name__}: {failed}"
        if attempt < ATTEMPTS:
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    return ATTEMPTS, error


def _engine():
    """The warehouse engine, or None where there is no warehouse configured (nothing recorded)."""
    from etl.warehouse import db, settings

    try:
        url = settings.current().WAREHOUSE_URL
    except settings.ConfigError:
        return None
    return db.get_engine(url) if url else None


def _record(key: str, message: Mapping[str, Any]) -> bool:
    """Record the alert under `key`; False when it was recorded already. True (send it) when the
    warehouse cannot be reached: better a second alert than none."""
    from etl.warehouse import db

    engine = _engine()
    if engine is None:
        return True
    params = {
        "alert_key": key,
        "text": message["text"],
        "payload": json.dumps(message, ensure_ascii=False, default=str),
    }
    try:
        with engine.begin() as conn:
            return db.run_sql(conn, "ops", "insert_alert", params).first() is not None
    except Exception as error:
        log.warning("could not record the alert in ops.alerts: %s", error)
        return True


def _delivered(key: str | None, attempts: int, delivered: bool, error: str | None) -> None:
    from etl.warehouse import db

    engine = _engine() if key is not None else None
    if engine is None:
        return
    params = {"alert_key": key, "attempts": attempts, "delivered": delivered, "last_error": error}
    try:
        with engine.begin() as conn:
            db.run_sql(conn, "ops", "update_alert_delivery", params)
    except Exception as recording_failed:
        log.warning("could not record the alert's delivery in ops.alerts: %s", recording_failed)
