"""The public waiting list as people meet it: a full ceremony that keeps a list
shows the form to join it, the confirmation page and the e-mail say the place
in line; organisers registering someone by phone are told "waiting list,
position N"; waiting people can be taken off the list (by staff, or by
themselves); the organisers' list filters to the waiting and the arrived."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from award_service.actor import Actor
from award_service.audit.models import AuditEvent
from award_service.ceremonies import checkin, registrations, waitlist
from award_service.ceremonies.models import Registration
from award_service.extensions import db
from award_service.mail.models import OutboxMessage
from award_service.mail.registry import compose

from .conftest import registration_data


@pytest.fixture
def full(make_ceremony):
    """One seat, taken; the ceremony keeps a waiting list."""
    ceremony = make_ceremony(capacity=1, waitlist=True)
    registrations.register(
        db.session, Actor.system("test"), ceremony.id, registration_data(full_name="Бірінші Адам", phone="+77010000001")
    )
    return ceremony


def actions(registration_id) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == str(registration_id)).order_by(AuditEvent.id)
        )
    )


def test_the_public_joins_the_waiting_list_of_a_full_ceremony(en_client, full):
    client = en_client
    page = client.get(f"/ceremonies/{full.id}")
    assert page.status_code == 200
    assert "Join the waiting list" in page.text and 'id="full_name"' in page.text and "All seats are taken" in page.text
    made = client.post(
        f"/ceremonies/{full.id}",
        data=registration_data(full_name="Есенов Марат", phone="+7 701 010 00 11", email="marat@example.kz"),
    )
    assert made.status_code == 302 and "new=1" in made.location
    registration = db.session.scalars(select(Registration).where(Registration.full_name == "Есенов Марат")).one()
    assert registration.status == "waitlisted"
    confirmation = client.get(made.location)
    assert "You are on the waiting list" in confirmation.text and "Your place in line: 1." in confirmation.text
    assert "You are registered" not in confirmation.text and "Your ticket" not in confirmation.text
    assert actions(registration.id) == ["registration.waitlist"]
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "registration_waitlisted")).one()
    text = compose(db.session, message).text
    assert "waiting list, in place 1" in text and registration.token in text
    # the person leaves the list from the manage page
    manage = client.get(f"/r/{registration.token}")
    assert "Leave the waiting list" in manage.text
    left = client.post(f"/r/{registration.token}", follow_redirects=True)
    assert "You have left the waiting list." in left.text
    db.session.expire_all()
    assert db.session.get(Registration, registration.id).status == "cancelled"
    assert actions(registration.id) == ["registration.waitlist", "registration.cancel"]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_waiting_list_form_is_translated(client, full, lang):
    page = client.get(f"/ceremonies/{full.id}", query_string={"lang": lang})
    assert page.status_code == 200 and 'id="full_name"' in page.text
    assert "Join the waiting list" not in page.text  # translated, not left in English


def test_a_full_ceremony_without_a_list_shows_no_form(en_client, make_ceremony):
    ceremony = make_ceremony(capacity=1)
    registrations.register(db.session, Actor.system("test"), ceremony.id, registration_data())
    page = en_client.get(f"/ceremonies/{ceremony.id}")
    assert "All seats are taken" in page.text and 'id="full_name"' not in page.text
    assert "Join the waiting list" not in page.text


def test_staff_on_behalf_of_someone_for_a_full_ceremony(en_client, login, make_user, full):
    client = en_client
    login(make_user("organiser"))
    form = client.get(f"/staff/ceremonies/{full.id}/registrations/new")
    assert "the person will be added to the waiting list" in form.text and "Add to the waiting list" in form.text
    made = client.post(
        f"/staff/ceremonies/{full.id}/registrations/new",
        data=registration_data(full_name="Сәрсенова Гүлнар", phone="8 702 555 12 34"),
        follow_redirects=True,
    )
    assert made.status_code == 200
    assert "is added to the waiting list, position 1" in made.text and "Registered:" not in made.text
    again = client.post(
        f"/staff/ceremonies/{full.id}/registrations/new",
        data=registration_data(full_name="Сәрсенова Гүлнар", phone="+7 702 555 12 34"),
    )
    assert again.status_code == 409
    assert "This person is already registered" in again.text and "You are already registered" not in again.text
    waiting = waitlist.waiting(db.session, full.id)
    assert [r.source for r in waiting] == ["staff"]
    # staff take them off the list
    listing = client.get(f"/staff/ceremonies/{full.id}", query_string={"status": "waitlisted"})
    assert "Сәрсенова Гүлнар" in listing.text and "Бірінші Адам" not in listing.text
    assert f"/registrations/{waiting[0].id}/cancel" in listing.text
    cancelled = client.post(
        f"/staff/ceremonies/{full.id}/registrations/{waiting[0].id}/cancel",
        data={"reason": "asked by phone"},
        follow_redirects=True,
    )
    assert "is taken off the waiting list" in cancelled.text
    db.session.expire_all()
    assert db.session.get(Registration, waiting[0].id).status == "cancelled"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == str(waiting[0].id), AuditEvent.action == "registration.cancel")
    ).one()
    assert event.reason == "asked by phone"


def test_the_public_duplicate_message_still_speaks_to_the_person(en_client, full):
    data = registration_data(full_name="Бірінші Адам", phone="+77010000001")
    again = en_client.post(f"/ceremonies/{full.id}", data=data)
    assert again.status_code == 409 and "You are already registered" in again.text


def test_the_list_filters_to_the_arrived(en_client, login, make_user, make_ceremony):
    ceremony = make_ceremony(capacity=5)
    system = Actor.system("test")
    came, away = (
        registrations.register(db.session, system, ceremony.id, registration_data(full_name=n, phone=p))
        for n, p in (("Келген Адам", "+77010000011"), ("Келмеген Адам", "+77010000012"))
    )
    checkin.check_in(db.session, system, db.session.get(Registration, came.id))
    login(make_user("organiser"))
    arrived = en_client.get(f"/staff/ceremonies/{ceremony.id}", query_string={"status": "arrived"})
    assert "Келген Адам" in arrived.text and "Келмеген Адам" not in arrived.text
    assert '<option selected value="arrived">' in arrived.text or 'value="arrived" selected' in arrived.text
    everyone = en_client.get(f"/staff/ceremonies/{ceremony.id}")
    assert "Келген Адам" in everyone.text and "Келмеген Адам" in everyone.text
    assert away.status == "confirmed"
