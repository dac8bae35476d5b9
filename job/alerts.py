"""Failure alerts: every task that fails for good is reported, configured from the environment only.

`CHURN_ALERT_WEBHOOK` — a URL that receives one JSON POST per failed task: `text` (one line, the
shape Slack/Mattermost/Teams incoming webhooks display) plus the fields a receiver can route on.
Unset, alerts are off and the failure callback says so in the task log, so a silent pipeline is
a visible decision, not an accident. A webhook that cannot be reached never hides the task's own
failure: the error is logged and the callback returns.
"""
from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any, Mapping
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
WEBHOOK_VARIABLE = "CHURN_ALERT_WEBHOOK"
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
    message = failure_message(context)
    url = os.environ.get(WEBHOOK_VARIABLE)
    if not url:
        log.warning("alerts are off (%s is unset): %s", WEBHOOK_VARIABLE, message["text"])
        return
    request = urllib.request.Request(
        url, data=json.dumps(message, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            log.info("alert sent to %s (HTTP %s)", urlsplit(url).netloc, response.status)
    except Exception as error:  # a callback must not hide the task's own failure
        log.warning("could not send the alert to %s: %s", urlsplit(url).netloc, error)
