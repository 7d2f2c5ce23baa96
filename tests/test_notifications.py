"""What each change tells whom: the services put the right messages in the
outbox, in the recipient's language, inside their own transaction (a refused
change tells no one).  The messages are composed here as the sender composes
them; delivery itself is tested in tests/test_mail.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from award_service.actor import Actor
from award_service.ceremonies import registrations, service
from award_service.ceremonies.models import Ceremony
from award_service.errors import DomainError
from award_service.extensions import db
from award_service.mail.models import OutboxMessage
from award_service.mail.registry import compose
from award_service.nominations import transitions

from .conftest import registration_data
from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import DECREE, actor, advance, nominate

_phones = iter(range(1000, 9999))


def outbox(kind: str | None = None) -> list[SimpleNamespace]:
    """The messages decided so far, each with what the sender composes of it."""
    db.session.expire_all()
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    found = []
    for message in db.session.scalars(stmt):
        composed = compose(db.session, message)
        found.append(
            SimpleNamespace(
                to_address=message.to_address,
                language=message.language,
                object_id=message.object_id,
                body_text=composed.text,
                attachments=composed.attachments,
            )
        )
    return found


def register(client, ceremony, email, language="kk", **extra):
    data = registration_data(email=email, phone=f"+7 701 000 {next(_phones):04d}", **extra)
    return client.post(
        f"/api/v1/ceremonies/{ceremony.id}/registrations", json=data, headers={"Accept-Language": language}
    )


def test_registration_cancellation_and_promotion(client, make_ceremony):
    ceremony = make_ceremony(capacity=1, waitlist=True)
    first = register(client, ceremony, "first@example.kz", "ru").json
    second = register(client, ceremony, "second@example.kz").json
    register(client, ceremony, None)  # phone only: nobody to write to
    assert second["status"] == "waitlisted"
    confirmed = outbox("registration_confirmed")
    assert [m.to_address for m in confirmed] == ["first@example.kz"] and confirmed[0].language == "ru"
    assert sorted(a.content_type.split(";")[0] for a in confirmed[0].attachments) == [
        "application/pdf",
        "text/calendar",
    ]
    assert [m.to_address for m in outbox("registration_waitlisted")] == ["second@example.kz"]
    client.post(f"/api/v1/registrations/{first['token']}/cancel")
    assert [m.to_address for m in outbox("registration_cancelled")] == ["first@example.kz"]
    promoted = outbox("registration_promoted")
    assert [m.to_address for m in promoted] == ["second@example.kz"] and len(promoted[0].attachments) == 2


def test_a_refused_registration_tells_no_one(client, make_ceremony):
    ceremony = make_ceremony(capacity=1)
    register(client, ceremony, "one@example.kz")
    refused = register(client, ceremony, "two@example.kz")
    assert refused.status_code == 409
    assert [m.to_address for m in outbox()] == ["one@example.kz"]


def test_ceremony_changed_and_cancelled(client, make_ceremony, app, system):
    ceremony = make_ceremony()
    register(client, ceremony, "a@example.kz", "en")
    register(client, ceremony, "b@example.kz")
    ceremony = db.session.get(Ceremony, ceremony.id)
    service.update_ceremony(
        db.session,
        system,
        ceremony,
        {**ceremony.snapshot(), "district": "zhezkazgan", "venue": "Қалалық мәдениет үйі"},
        tz=app.config["AWARD_TIMEZONE"],
    )
    changed = outbox("ceremony_changed")
    assert sorted(m.to_address for m in changed) == ["a@example.kz", "b@example.kz"]
    assert all("Қалалық мәдениет үйі" in m.body_text for m in changed)
    service.update_ceremony(
        db.session,
        system,
        ceremony,
        {**ceremony.snapshot(), "district": "zhezkazgan", "capacity": 30},
        tz=app.config["AWARD_TIMEZONE"],
    )
    assert len(outbox("ceremony_changed")) == 2  # capacity is not the attendees' concern
    service.transition_ceremony(db.session, system, ceremony, "cancel", reason="Ауа райы")
    assert sorted(m.to_address for m in outbox("ceremony_cancelled")) == ["a@example.kz", "b@example.kz"]


def test_the_nominator_hears_of_return_approval_and_rejection(cast):
    returned = advance(nominate(cast.nominator), "submitted", cast)

    transitions.transition(db.session, actor(cast.reviewer), returned, "return", comment="Нет справки")
    approved = advance(nominate(cast.nominator), "approved", cast)
    rejected = advance(nominate(cast.nominator), "submitted", cast)
    transitions.transition(db.session, actor(cast.reviewer), rejected, "reject", comment="Не участник")
    sent = outbox("nomination_status_changed")
    assert [(m.object_id, m.to_address) for m in sent] == [
        (str(returned.id), cast.nominator.email),
        (str(approved.id), cast.nominator.email),
        (str(rejected.id), cast.nominator.email),
    ]
    assert DECREE["decree_number"] in sent[1].body_text and "Нет справки" in sent[0].body_text


def test_a_decree_tells_each_nominator_once_of_all_theirs(cast):
    """Approving a list by one decree: a nominator with three nominations in it
    gets one message naming the three; one with a single nomination gets the
    ordinary message; a refused list tells no one."""

    mine = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(3)]
    theirs = advance(nominate(cast.nominator2), "recommended", cast)
    transitions.bulk_transition(
        db.session, actor(cast.commission), [n.id for n in (*mine, theirs)], "approve", **DECREE
    )
    [digest] = outbox("nominations_decided")
    assert digest.to_address == cast.nominator.email and digest.object_id == str(mine[0].id)
    for nomination in mine:
        assert f"№ {nomination.id}: {nomination.nominee.full_name}" in digest.body_text
    assert DECREE["decree_number"] in digest.body_text
    assert "?status=approved" in digest.body_text
    [single] = outbox("nomination_status_changed")
    assert single.to_address == cast.nominator2.email and single.object_id == str(theirs.id)

    returned = [advance(nominate(cast.nominator), "submitted", cast) for _ in range(2)]
    transitions.bulk_transition(
        db.session, actor(cast.reviewer), [n.id for n in returned], "return", comment="Архив анықтамасы жоқ"
    )
    digests = outbox("nominations_decided")
    assert len(digests) == 2 and "Архив анықтамасы жоқ" in digests[1].body_text
    assert "?status=returned" in digests[1].body_text


def test_a_refused_approval_tells_no_one(cast):
    from award_service.medals import service as medals

    medals.set_quotas(db.session, actor(cast.admin), medals.get_medal(db.session, "victory80"), {"zhezkazgan": 0})
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    with pytest.raises(DomainError) as refused:
        transitions.transition(db.session, actor(cast.commission), nomination, "approve", **DECREE)
    assert refused.value.code == "quota_exceeded"
    assert outbox("nomination_status_changed") == []
    others = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(2)]
    with pytest.raises(DomainError):
        transitions.bulk_transition(db.session, actor(cast.commission), [n.id for n in others], "approve", **DECREE)
    assert outbox("nominations_decided") == []


def test_system_actor_registration_by_staff_is_told_too(make_ceremony):
    ceremony = make_ceremony()
    registrations.register(
        db.session,
        Actor.system("test"),
        ceremony.id,
        registration_data(email="phoned@example.kz"),
        source="staff",
        staff_override_window=True,
    )
    assert [m.to_address for m in outbox("registration_confirmed")] == ["phoned@example.kz"]
