"""job/orchestration/alerts.py: a failed task is POSTed to CHURN_ALERT_WEBHOOK (a real local HTTP server here);
unset, the callback logs that alerts are off; an unreachable webhook never raises."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from job.orchestration import alerts

CONTEXT = {
    "ti": SimpleNamespace(dag_id="churn_score", task_id="score", map_index=0, try_number=1),
    "run_id": "asset_triggered__2026-11-29",
    "exception": RuntimeError("ArtifactIntegrityError: refusing to load m1\nsecond line"),
}


@pytest.fixture()
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/secret-token", received
    server.shutdown()
    server.server_close()


def test_a_failed_task_is_posted_with_the_first_line_of_its_reason(webhook, monkeypatch, caplog):
    url, received = webhook
    monkeypatch.setenv(alerts.WEBHOOK_VARIABLE, url)
    with caplog.at_level(logging.INFO, logger=alerts.__name__):
        alerts.notify_failure(CONTEXT)
    [message] = received
    assert message["text"] == (
        "churn job: churn_score.score[0] failed in run asset_triggered__2026-11-29: "
        "ArtifactIntegrityError: refusing to load m1"
    )
    assert (message["dag_id"], message["task_id"], message["try_number"]) == ("churn_score", "score", 1)
    assert "secret-token" not in caplog.text  # the webhook's path may hold a token: only the host is logged


def test_without_a_webhook_the_log_says_alerts_are_off(monkeypatch, caplog):
    monkeypatch.delenv(alerts.WEBHOOK_VARIABLE, raising=False)
    with caplog.at_level(logging.WARNING, logger=alerts.__name__):
        alerts.notify_failure(CONTEXT)
    assert "alerts are off (CHURN_ALERT_WEBHOOK is unset)" in caplog.text and "churn_score.score[0]" in caplog.text


def test_an_unreachable_webhook_is_logged_not_raised(monkeypatch, caplog):
    monkeypatch.setenv(alerts.WEBHOOK_VARIABLE, "http://127.0.0.1:1/hook")
    with caplog.at_level(logging.WARNING, logger=alerts.__name__):
        alerts.notify_failure(CONTEXT)
    assert "could not send the alert to 127.0.0.1:1" in caplog.text


def test_a_bad_setting_elsewhere_is_still_alerted(webhook, monkeypatch):
    """The task that reads the bad value fails; its alert and the DAGs' deadlines must not fail too."""
    url, received = webhook
    monkeypatch.setenv(alerts.WEBHOOK_VARIABLE, url)
    monkeypatch.setenv("CHURN_SCORE_SHARDS", "two")
    monkeypatch.setenv(alerts.DEADLINES_VARIABLE, "off")
    alerts.notify_failure(CONTEXT)
    assert len(received) == 1
    assert alerts.deadline("scores published", after_queued=dt.timedelta(hours=1)) is None
