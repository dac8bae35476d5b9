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


class Received(list):
    """The messages the webhook took; `answers`: status codes to answer first (then 204)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[int] = []


@pytest.fixture(autouse=True)
def no_warehouse(monkeypatch):
    """Unit tests send without a durable record (tests/integration/test_cli.py covers ops.alerts)."""
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setattr(alerts, "BACKOFF_SECONDS", 0.0)


@pytest.fixture()
def webhook():
    received = Received()
    answers = received.answers

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = answers.pop(0) if answers else 204
            if status < 300:
                received.append(body)
            self.send_response(status)
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


def test_a_webhook_answering_5xx_is_tried_again_and_takes_the_alert(webhook, monkeypatch, caplog):
    url, received = webhook
    received.answers.extend([503, 502])  # restarting: two refusals, then it takes it
    monkeypatch.setenv(alerts.WEBHOOK_VARIABLE, url)
    with caplog.at_level(logging.WARNING, logger=alerts.__name__):
        alerts.notify_failure(CONTEXT)
    assert len(received) == 1 and received.answers == []
    assert "could not send" not in caplog.text


def test_a_4xx_answer_is_not_tried_again(webhook, monkeypatch, caplog):
    url, received = webhook
    received.answers.extend([404, 404])
    monkeypatch.setenv(alerts.WEBHOOK_VARIABLE, url)
    with caplog.at_level(logging.WARNING, logger=alerts.__name__):
        alerts.notify_failure(CONTEXT)
    assert received == [] and received.answers == [404]  # one attempt: the same request is refused again
    assert "(1 attempts): HTTP 404" in caplog.text
