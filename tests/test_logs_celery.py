"""The request id through the broker: a registration's confirmation sent by a
real Celery worker (a thread of this process, on the Redis at 127.0.0.1:6379)
is logged with the id of the request that decided it, read from its outbox
row.  Skipped, saying so, when Redis cannot be reached."""

from __future__ import annotations

import time

from sqlalchemy import select

from award_service.extensions import db
from award_service.mail.models import OutboxMessage
from award_service.ops import logs

from .test_logs import json_logs  # noqa: F401  (fixture)
from .test_mail_celery import app, pytestmark, wait_for_status, worker  # noqa: F401  (fixtures, the skip mark)
from .test_mail_helpers import smtp  # noqa: F401  (fixture)


def test_the_worker_logs_the_request_id_of_the_message(app, worker, smtp, json_logs, make_ceremony):
    logs.configure_json("INFO", stream=json_logs.stream)
    ceremony = make_ceremony()
    response = app.test_client().post(
        f"/api/v1/ceremonies/{ceremony.id}/registrations",
        json={"full_name": "Ирина Петрова", "email": "celery.log@example.kz", "category": "family", "consent": True},
        headers={"X-Request-ID": "via-broker-1"},
    )
    assert response.status_code == 201
    message_id = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.to_address == "celery.log@example.kz"))
    assert wait_for_status(message_id, "sent").status == "sent"
    assert app.extensions["award_mail"]._sender is None  # the worker sent it, not a thread of the web side
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(line.get("outbox_id") == message_id for line in json_logs.lines()):
        time.sleep(0.05)
    [line] = [line for line in json_logs.lines() if line.get("outbox_id") == message_id]
    assert line["request_id"] == "via-broker-1" and line["message"] == f"outbox message {message_id} sent"
    assert "celery.log@example.kz" not in json_logs.text()
