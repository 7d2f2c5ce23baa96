"""A lost manage link: typed e-mail, links sent again through the outbox; the
same answer whether or not the address registered; rate-limited; audited by
registration id, with no address in clear."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from award_service.actor import Actor
from award_service.audit.models import AuditEvent
from award_service.ceremonies import registrations
from award_service.extensions import db
from award_service.mail.models import OutboxMessage
from award_service.mail.registry import compose

from .conftest import registration_data


def link_messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "registration_links").order_by(OutboxMessage.id)
        )
    )


@pytest.fixture
def registered(make_ceremony):
    system = Actor.system("test")
    first, second = make_ceremony(title_ru="Первая церемония"), make_ceremony(title_ru="Вторая церемония")
    made = [
        registrations.register(
            db.session,
            system,
            c.id,
            registration_data(full_name="Сәрсенова Гүлнар", email="Gulnar@Example.kz", phone=""),
            language="ru",
        )
        for c in (first, second)
    ]
    cancelled = registrations.register(
        db.session, system, first.id, registration_data(full_name="Other", email="other@example.kz", phone="")
    )
    registrations.cancel_registration(db.session, system, db.session.get(type(cancelled), cancelled.id))
    return made


def test_the_links_are_sent_again_to_the_address(en_client, registered):
    page = en_client.get("/r/lost-link")
    assert page.status_code == 200 and 'type="email"' in page.text
    sent = en_client.post("/r/lost-link", data={"email": " gulnar@example.KZ "})
    assert sent.status_code == 302 and sent.location.endswith("/r/lost-link?sent=1")
    answer = en_client.get(sent.location)
    assert "we have sent their links to it" in answer.text
    [message] = link_messages()
    assert message.to_address == "gulnar@example.kz" and message.language == "en"
    text = compose(db.session, message).text
    for registration in registered:
        assert f"/r/{registration.token}" in text
    assert "Сәрсенова Гүлнар" in text
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "registration.link_resent")))
    assert sorted(e.object_id for e in events) == sorted(str(r.id) for r in registered)
    for event in events:  # no address, no name in the audit trail
        stored = f"{event.before} {event.after} {event.reason}".casefold()
        assert "gulnar" not in stored and "сәрсенова" not in stored


def test_the_answer_is_the_same_for_an_unknown_address(en_client, registered):
    known = en_client.post("/r/lost-link", data={"email": "gulnar@example.kz"})
    unknown = en_client.post("/r/lost-link", data={"email": "nobody@example.kz"})
    cancelled_only = en_client.post("/r/lost-link", data={"email": "other@example.kz"})
    assert known.status_code == unknown.status_code == cancelled_only.status_code == 302
    assert known.location == unknown.location == cancelled_only.location
    assert [m.to_address for m in link_messages()] == ["gulnar@example.kz"]


def test_one_message_a_quarter_of_an_hour(en_client, registered):
    for _ in range(3):
        assert en_client.post("/r/lost-link", data={"email": "gulnar@example.kz"}).status_code == 302
    assert len(link_messages()) == 1
    resent = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "registration.link_resent")
    )
    assert resent == len(registered)  # audited once, for the message that goes


@pytest.mark.parametrize("email", ["", "not-an-address", "a" * 300])
def test_a_bad_address_is_shown_beside_the_field(en_client, email):
    response = en_client.post("/r/lost-link", data={"email": email})
    assert response.status_code == 422 and 'id="email-error"' in response.text
    assert link_messages() == []


def test_the_page_is_rate_limited(make_app, database):
    app = make_app(AWARD_RATELIMIT_ENABLED=True, AWARD_LOST_LINK_RATE_LIMIT="2 per minute", WTF_CSRF_ENABLED=False)
    client = app.test_client()
    codes = [client.post("/r/lost-link", data={"email": "x@example.kz"}).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert client.get("/r/lost-link").status_code == 200  # reading the page is not limited


def test_the_ceremony_and_manage_pages_link_to_it(en_client, registered):
    registration = registered[0]
    assert "/r/lost-link" in en_client.get(f"/ceremonies/{registration.ceremony_id}").text
    assert "/r/lost-link" in en_client.get(f"/r/{registration.token}").text
