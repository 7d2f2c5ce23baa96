"""Public registration: the form, the API, the manage link, and bad input."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from award_service.audit.models import AuditEvent
from award_service.ceremonies.models import Ceremony, Registration
from award_service.extensions import db

from .conftest import form_errors, future, registration_data


def count_registrations() -> int:
    return db.session.scalar(select(func.count()).select_from(Registration))


def seats_taken(ceremony_id) -> int:
    db.session.expire_all()
    return db.session.get(Ceremony, ceremony_id).seats_taken


def test_register_through_the_form_and_cancel_with_the_manage_link(en_client, make_ceremony):
    client = en_client
    ceremony = make_ceremony()
    page = client.get(f"/ceremonies/{ceremony.id}")
    assert page.status_code == 200 and 'for="full_name"' in page.text and 'id="full_name"' in page.text
    response = client.post(
        f"/ceremonies/{ceremony.id}",
        data=registration_data(
            full_name="  Әсел   Қасымова ",
            phone="8 (701) 234-56-78",
            companions="2",
            needs_wheelchair="y",
            needs_note="Нужен пандус",
        ),
    )
    assert response.status_code == 302
    registration = db.session.scalars(select(Registration)).one()
    assert registration.full_name == "Әсел Қасымова"
    assert registration.phone == "+77012345678" and registration.seats == 3 and registration.needs_wheelchair
    assert len(registration.token) >= 32  # 24 random bytes: 192 bits
    assert response.headers["Location"] == f"/r/{registration.token}?new=1"
    assert seats_taken(ceremony.id) == 3

    confirmation = client.get(response.headers["Location"])
    assert "You are registered" in confirmation.text and "Әсел Қасымова" in confirmation.text
    assert f"http://award.test/r/{registration.token}" in confirmation.text

    assert client.post(f"/r/{registration.token}").status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, registration.id).status == "cancelled"
    assert seats_taken(ceremony.id) == 0
    again = client.post(f"/r/{registration.token}", follow_redirects=True)
    assert "already cancelled" in again.text
    assert seats_taken(ceremony.id) == 0
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "registration")).all()
    assert actions == ["registration.create", "registration.cancel"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"consent": ""}, "consent"),
        ({"phone": "", "email": ""}, "phone"),
        ({"phone": "", "email": ""}, "email"),
        ({"email": "not-an-email", "phone": ""}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "+1 202 555 0100"}, "phone"),
        ({"companions": "-1"}, "companions"),
        ({"companions": "two"}, "companions"),
        ({"companions": "6"}, "companions"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "   "}, "full_name"),
        ({"full_name": "x" * 201}, "full_name"),
        ({"full_name": "Name\x07Bell"}, "full_name"),
        ({"full_name": "12345"}, "full_name"),
        ({"category": ""}, "category"),
        ({"category": "general"}, "category"),
        ({"needs_note": "y" * 501}, "needs_note"),
    ],
)
def test_bad_form_input_is_shown_beside_the_field_and_nothing_is_stored(client, make_ceremony, overrides, field):
    ceremony = make_ceremony()
    response = client.post(f"/ceremonies/{ceremony.id}", data=registration_data(**overrides))
    assert response.status_code == 422
    assert field in form_errors(response.text)
    assert 'aria-invalid="true"' in response.text
    assert count_registrations() == 0 and seats_taken(ceremony.id) == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"consent": False}, "consent"),
        ({"consent": "maybe"}, "consent"),
        ({"phone": None, "email": None}, "phone"),
        ({"email": "a@", "phone": None}, "email"),
        ({"email": 12, "phone": None}, "email"),
        ({"phone": "+7 999"}, "phone"),
        ({"companions": -1}, "companions"),
        ({"companions": "lots"}, "companions"),
        ({"companions": 6}, "companions"),
        ({"companions": 1.5}, "companions"),
        ({"companions": True}, "companions"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": None}, "full_name"),
        ({"full_name": ["a"]}, "full_name"),
        ({"full_name": "Ж" * 201}, "full_name"),
        ({"full_name": "Жанболат\u0000"}, "full_name"),
        ({"category": "vip"}, "category"),
        ({"needs": ["teleport"]}, "needs"),
        ({"needs": 5}, "needs"),
    ],
)
def test_bad_api_input_gets_422_with_the_field(client, make_ceremony, overrides, field):
    ceremony = make_ceremony()
    body = {"full_name": "Жанболат Әбенов", "phone": "+77012345678", "category": "veteran", "consent": True}
    body.update(overrides)
    response = client.post(f"/api/v1/ceremonies/{ceremony.id}/registrations", json=body)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid" and field in error["fields"] and error["fields"][field]
    assert count_registrations() == 0


def test_api_registration_and_cancel(client, make_ceremony):
    ceremony = make_ceremony(capacity=5)
    response = client.post(
        f"/api/v1/ceremonies/{ceremony.id}/registrations",
        json={
            "full_name": "Ирина Петрова",
            "email": "Irina@Example.KZ",
            "companions": 2,
            "category": "family",
            "needs": {"hearing": True, "note": "слуховой аппарат"},
            "consent": True,
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"id", "status", "seats", "token", "manage_url"}
    assert body["status"] == "confirmed" and body["seats"] == 3
    assert body["manage_url"] == f"http://award.test/r/{body['token']}"
    registration = db.session.get(Registration, body["id"])
    assert registration.email == "irina@example.kz" and registration.needs_hearing
    assert registration.needs_note == "слуховой аппарат" and registration.source == "api"

    public = client.get(f"/api/v1/registrations/{body['token']}")
    assert public.status_code == 200 and public.json["status"] == "confirmed"
    assert "email" not in public.json and "phone" not in public.json

    cancelled = client.post(f"/api/v1/registrations/{body['token']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = client.post(f"/api/v1/registrations/{body['token']}/cancel")
    assert again.status_code == 409 and again.json["error"]["code"] == "already_cancelled"
    stale = client.post("/api/v1/registrations/not-a-real-token/cancel")
    assert stale.status_code == 404 and stale.json["error"]["code"] == "not_found"
    assert seats_taken(ceremony.id) == 0


def test_same_phone_or_email_is_pointed_to_the_existing_registration(en_client, make_ceremony):
    client = en_client
    ceremony = make_ceremony()
    url = f"/api/v1/ceremonies/{ceremony.id}/registrations"
    first = client.post(
        url,
        json={
            "full_name": "Болат",
            "phone": "87012345678",
            "email": "b@example.kz",
            "category": "veteran",
            "consent": True,
        },
    )
    assert first.status_code == 201
    for contact in ({"phone": "+7 701 234 56 78"}, {"email": "B@example.kz"}):
        again = client.post(url, json={"full_name": "Болат Ж.", "category": "veteran", "consent": True, **contact})
        assert again.status_code == 409
        assert again.json["error"]["code"] == "duplicate_registration"
        assert again.json["error"]["registration_id"] == first.json["id"]
    form = client.post(f"/ceremonies/{ceremony.id}", data=registration_data(phone="+77012345678"))
    assert form.status_code == 409 and "already registered" in form.text
    assert count_registrations() == 1 and seats_taken(ceremony.id) == 1
    # after cancelling, the same person may register again
    client.post(f"/api/v1/registrations/{first.json['token']}/cancel")
    assert (
        client.post(
            url, json={"full_name": "Болат", "phone": "87012345678", "category": "veteran", "consent": True}
        ).status_code
        == 201
    )


def test_full_closed_cancelled_and_unknown_ceremonies(en_client, make_ceremony, app, system):
    from award_service.ceremonies.service import transition_ceremony

    client = en_client
    body = {"full_name": "Сәуле", "category": "resident", "consent": True}
    full = make_ceremony(capacity=2)
    url = f"/api/v1/ceremonies/{full.id}/registrations"
    assert client.post(url, json={**body, "phone": "+77010000001", "companions": 1}).status_code == 201
    response = client.post(url, json={**body, "phone": "+77010000002"})
    assert response.status_code == 409 and response.json["error"]["code"] == "ceremony_full"
    page = client.get(f"/ceremonies/{full.id}")
    assert "All seats are taken" in page.text and 'name="full_name"' not in page.text

    later = make_ceremony(registration_opens_at=future(10), registration_closes_at=future(20))
    response = client.post(f"/api/v1/ceremonies/{later.id}/registrations", json={**body, "phone": "+77010000003"})
    assert response.status_code == 409 and response.json["error"]["code"] == "registration_closed"

    cancelled = make_ceremony()
    transition_ceremony(db.session, system, cancelled, "cancel")
    response = client.post(f"/api/v1/ceremonies/{cancelled.id}/registrations", json={**body, "phone": "+77010000004"})
    assert response.status_code == 409 and response.json["error"]["code"] == "registration_closed"
    assert "cancelled" in response.json["error"]["message"]
    form = client.post(f"/ceremonies/{cancelled.id}", data=registration_data(phone="+77010000004"))
    assert form.status_code == 409 and "cancelled" in form.text

    draft = make_ceremony(status="draft")
    for target in (draft.id, 999999, "abc"):
        response = client.post(f"/api/v1/ceremonies/{target}/registrations", json={**body, "phone": "+77010000005"})
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.get(f"/ceremonies/{draft.id}").status_code == 404
    assert count_registrations() == 1


def test_registration_after_the_window_closed(client, make_ceremony, app):
    ceremony = make_ceremony()
    ceremony.registration_closes_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    response = client.post(
        f"/api/v1/ceremonies/{ceremony.id}/registrations",
        json={"full_name": "Ерлан", "phone": "+77010000001", "category": "guest", "consent": True},
    )
    assert response.status_code == 409 and response.json["error"]["code"] == "registration_closed"


def test_stale_manage_links(en_client):
    assert en_client.get("/r/does-not-exist").status_code == 404
    assert en_client.get("/r/" + "x" * 500).status_code == 404
    assert en_client.get("/api/v1/registrations/nope").status_code == 404


def test_group_larger_than_seats_left_is_told_how_many_are_left(en_client, make_ceremony):
    ceremony = make_ceremony(capacity=3)
    url = f"/api/v1/ceremonies/{ceremony.id}/registrations"
    assert (
        en_client.post(
            url,
            json={"full_name": "Ақан", "phone": "+77010000001", "category": "guest", "consent": True, "companions": 1},
        ).status_code
        == 201
    )
    response = en_client.post(
        url, json={"full_name": "Бек", "phone": "+77010000002", "category": "guest", "consent": True, "companions": 2}
    )
    assert response.status_code == 409 and response.json["error"]["code"] == "ceremony_full"
    assert "Only 1 seat(s) left" in response.json["error"]["message"]
    assert response.json["error"]["seats_left"] == 1


def test_postgresql_writes_a_registration_in_one_statement(require_postgres, app, client, make_ceremony):
    """On PostgreSQL a registration's writes (seats, registration, audit event,
    confirmation) are one statement, in autocommit when the request has not
    begun a transaction; they land together, or nothing does."""
    import threading

    from sqlalchemy import event

    from award_service.mail.models import OutboxMessage

    ceremony = make_ceremony(capacity=2)
    ceremony_id, district_id = ceremony.id, ceremony.district_id
    db.session.close()  # as a request finds it: no transaction begun (the test shares its session)
    statements: list[str] = []

    autocommit: list[bool] = []

    request_thread = threading.get_ident()  # the test client runs the request in this thread

    def seen(conn, cursor, statement, parameters, context, executemany):
        # Only the request's: the mail sender's thread, started by the commit, may already be
        # claiming the confirmation while the response is being finished.
        if threading.get_ident() == request_thread:
            statements.append(statement)
            autocommit.append(cursor.connection.autocommit)

    path = f"/api/v1/ceremonies/{ceremony_id}/registrations"
    body = {"full_name": "Әсел Қасымова", "email": "asel@example.kz", "category": "guest", "consent": True}
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        made = client.post(path, json=body)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert made.status_code == 201, made.text
    assert len(statements) == 1, statements
    assert autocommit == [True]  # atomic on its own: no BEGIN, no COMMIT, one round trip
    assert " ".join(statements[0].split()).startswith("WITH seats AS (UPDATE ceremonies SET seats_taken"), statements
    registration_id = made.json["id"]
    db.session.expire_all()
    assert seats_taken(ceremony_id) == 1
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "registration", AuditEvent.object_id == str(registration_id))
    ).all()
    assert [(e.action, e.after["seats"], e.after["status"]) for e in events] == [
        ("registration.create", 1, "confirmed")
    ]
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.object_id == str(registration_id))).one()
    assert (message.kind, message.to_address, message.district_id) == (
        "registration_confirmed",
        "asel@example.kz",
        district_id,
    )

    # Two seats wanted, one left: refused, and nothing of it written.
    before = (count_registrations(), db.session.scalar(select(func.count()).select_from(AuditEvent)))
    refused = client.post(path, json={**body, "email": "other@example.kz", "companions": 1})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "ceremony_full"
    assert (count_registrations(), db.session.scalar(select(func.count()).select_from(AuditEvent))) == before
    assert seats_taken(ceremony_id) == 1
    # The same e-mail again: the unique index refuses it inside the statement.
    again = client.post(path, json=body)
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate_registration"
    assert seats_taken(ceremony_id) == 1
