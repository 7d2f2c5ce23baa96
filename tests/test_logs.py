"""AWARD_LOG_FORMAT=json in one process: one JSON object a line, a line a
request with its id, route, status and time, the request id carried into the
outbox row and the sender's line about the message, and personal data kept
out.  Under gunicorn (its own lines too): tests/test_observability_gunicorn.py;
through the Celery worker: tests/test_logs_celery.py."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import select

from award_service import mail
from award_service.config import ConfigError
from award_service.extensions import db
from award_service.mail.models import OutboxMessage
from award_service.ops import logs

from .conftest import registration_data


class Captured:
    def __init__(self):
        self.stream = io.StringIO()

    def lines(self) -> list[dict]:
        text = self.stream.getvalue()
        return [json.loads(line) for line in text.splitlines()]  # every line is one JSON object

    def text(self) -> str:
        return self.stream.getvalue()

    def requests(self) -> list[dict]:
        return [line for line in self.lines() if line["logger"] == logs.REQUEST_LOGGER]


@pytest.fixture
def json_logs():
    """The root logger's handlers as they were, restored after the test; the JSON
    lines written to a buffer instead of stderr."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    captured = Captured()
    try:
        yield captured
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


@pytest.fixture
def json_app(make_app, json_logs):
    app = make_app(AWARD_LOG_FORMAT="json")
    logs.configure_json("INFO", stream=json_logs.stream)  # the app's own setup, into the buffer
    with app.app_context():
        yield app
        mail.shutdown(app)


def test_each_request_writes_one_json_line_with_its_fields(json_app, json_logs, make_ceremony, make_user, login):
    client = json_app.test_client()
    ceremony = make_ceremony()
    response = client.get(f"/ceremonies/{ceremony.id}?lang=ru", headers={"X-Request-ID": "edge-42"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "edge-42"
    [line] = [r for r in json_logs.requests() if r["request_id"] == "edge-42"]
    assert line["method"] == "GET" and line["route"] == "/ceremonies/<int:ceremony_id>" and line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00") and isinstance(line["pid"], int)
    assert "user_id" not in line  # nobody logged in
    assert str(ceremony.id) not in line["route"] and "lang" not in json.dumps(line)

    user = make_user("organiser")
    staff = json_app.test_client()
    assert (
        staff.post("/staff/login", data={"email": user.email, "password": "correct-horse-battery"}).status_code == 302
    )
    staff.get("/staff/", headers={"X-Request-ID": "staff-home"})
    [home] = [r for r in json_logs.requests() if r["request_id"] == "staff-home"]
    assert home["user_id"] == user.id and home["route"] == "/staff/" and home["status"] == 200


def test_the_default_is_plain_text(make_app, json_logs):
    make_app()  # AWARD_LOG_FORMAT unset: text
    assert not any(isinstance(h.formatter, logs.JsonLines) for h in logging.getLogger().handlers)
    with pytest.raises(ConfigError, match="AWARD_LOG_FORMAT"):
        make_app(AWARD_LOG_FORMAT="xml")
    with pytest.raises(ConfigError, match="AWARD_LOG_LEVEL"):
        make_app(AWARD_LOG_FORMAT="json", AWARD_LOG_LEVEL="LOUD")


def test_json_mode_installs_one_json_handler_on_the_root(make_app, json_logs):
    make_app(AWARD_LOG_FORMAT="json")
    make_app(AWARD_LOG_FORMAT="json")  # a second app in the same process: still one handler
    handlers = logging.getLogger().handlers
    assert len(handlers) == 1 and isinstance(handlers[0].formatter, logs.JsonLines)


def test_the_request_id_goes_with_the_mail_it_decided(json_app, json_logs, make_ceremony):
    client = json_app.test_client()
    ceremony = make_ceremony()
    response = client.post(
        f"/api/v1/ceremonies/{ceremony.id}/registrations",
        json={"full_name": "Ирина Петрова", "email": "irina@example.kz", "category": "family", "consent": True},
        headers={"X-Request-ID": "register-7"},
    )
    assert response.status_code == 201
    mail.flush(json_app)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "irina@example.kz"))
    assert message.request_id == "register-7" and message.status == "sent"
    sent = [line for line in json_logs.lines() if line.get("outbox_id") == message.id]
    assert sent and all(line["request_id"] == "register-7" for line in sent)
    assert any(line["message"] == f"outbox message {message.id} sent" for line in sent)
    assert sent[0]["logger"] == "award_service.mail.sending" and sent[0]["kind"] == "registration_confirmed"

    # Decided outside a request (the CLI, a reminder job): no request id.
    from award_service.ceremonies import messages as notify
    from award_service.ceremonies.models import Registration

    registration = db.session.scalar(select(Registration))
    message_id = notify.registration_cancelled(db.session, registration)
    db.session.commit()
    assert db.session.get(OutboxMessage, message_id).request_id is None


def test_personal_data_stays_out_of_the_lines(json_app, json_logs, make_ceremony):
    """A registration with a name, phone and e-mail, its private link, a search
    by name, phone and IIN, a failed login with an e-mail: the log has the
    requests' ids, routes and statuses and none of the person."""
    client = json_app.test_client()
    ceremony = make_ceremony()
    person = {"full_name": "Жанболат Әбенов", "phone": "+7 701 234 56 78", "email": "zhanbolat.abenov@example.kz"}
    response = client.post(
        f"/ceremonies/{ceremony.id}", data=registration_data(**person), headers={"X-Request-ID": "r1"}
    )
    assert response.status_code in (200, 302)
    from award_service.ceremonies.models import Registration

    token = db.session.scalar(select(Registration.token).where(Registration.email == person["email"]))
    iin = "450509300011"
    client.get(f"/r/{token}", headers={"X-Request-ID": "r2"})
    client.get(f"/r/{token}/ticket.pdf", headers={"X-Request-ID": "r3"})
    client.get(
        f"/staff/ceremonies/{ceremony.id}?q=Жанболат&phone=87012345678&iin={iin}", headers={"X-Request-ID": "r4"}
    )
    client.post(
        "/staff/login", data={"email": person["email"], "password": "x"}, headers={"X-Request-ID": "r5"}
    )  # no such user: 401
    client.get("/healthz", headers={"X-Request-ID": person["email"]})  # not a valid id: replaced
    mail.flush(json_app)

    text = json_logs.text()
    for secret in (
        "Жанболат",
        "Әбенов",
        "zhanbolat",
        "abenov",
        "701 234 56 78",
        "7012345678",
        "87012345678",
        iin,
        token,
    ):
        assert secret not in text, secret
    by_id = {line["request_id"]: line for line in json_logs.requests()}
    assert {"r1", "r2", "r3", "r4", "r5"} <= set(by_id)
    assert by_id["r2"]["route"] == "/r/<token>" and by_id["r2"]["status"] == 200
    assert by_id["r3"]["route"] == "/r/<token>/ticket.pdf"
    assert by_id["r5"]["route"] == "/staff/login" and by_id["r5"]["status"] == 401
    assert any(line["logger"] == "award_service.mail.sending" for line in json_logs.lines())  # the mail was logged


def test_scrub_catches_what_slips_into_a_message():
    line = logs.scrub(
        "550 5.1.1 <zhanbolat.abenov@example.kz>: rejected; call +7 (701) 234-56-78 or 87012345678, IIN 450509300011"
    )
    assert "zhanbolat" not in line and "234-56-78" not in line and "87012345678" not in line
    assert "450509300011" not in line
    assert line.count("<email>") == 1 and line.count("<phone>") == 2 and line.count("<iin>") == 1
    # Ids and times are left alone.
    assert logs.scrub("request 3f1f8149b08a873b982fbe133e786b11 took 12.5 ms") == (
        "request 3f1f8149b08a873b982fbe133e786b11 took 12.5 ms"
    )
