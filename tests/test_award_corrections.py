"""Corrections (issue 12, item 3): a reissue that prints a corrected name, audited
with its reason, the old certificate revoked by it and verifying as replaced by
the new serial; the certificate and the presentation sheet read back from the
PDFs.  And the small things of item 8 around the register: the verification
page's box for the code, the warning before marking presented for a ceremony
that has not taken place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from award_service.audit.models import AuditEvent
from award_service.awards import queries
from award_service.awards.models import Award
from award_service.extensions import db
from award_service.timeutil import utcnow

from .nomination_factories import *  # noqa: F403  (fixtures)
from .test_awards import approved, award_of, pdf_text

CORRECTED = {"surname": "Әбенова", "given_name": "Гүлнар", "patronymic": "Серікқызы"}


def award_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Award))


def test_a_corrected_reissue_end_to_end(client, token_for, cast, make_ceremony):
    """The commission approved "Әбенов Қайрат"; the certificate should read
    "Әбенова Гүлнар Серікқызы".  One call: the old certificate is revoked, the
    new one prints the corrected name, the old code says which serial replaced it."""
    nomination = approved(cast, surname="Әбенов", given_name="Қайрат")
    old = award_of(nomination)
    ceremony = make_ceremony()
    admin, clerk = token_for(cast.admin), token_for(cast.clerk)
    client.post(f"/api/v1/ceremonies/{ceremony.id}/awards", json={"serials": [old.serial]}, headers=clerk)

    response = client.post(
        f"/api/v1/awards/{old.serial}/reissue",
        json={"reason": "Тегі мен аты қате жазылған", "corrections": CORRECTED},
        headers=admin,
    )
    assert response.status_code == 201, response.json
    new = response.json
    assert new["full_name"] == "Әбенова Гүлнар Серікқызы" and {k: new[k] for k in CORRECTED} == CORRECTED
    assert new["reissue_of"] == old.serial and new["serial"] != old.serial and new["status"] == "valid"
    assert new["ceremony"] == ceremony.id

    # the old one: revoked by the reissue, with the reason
    before = client.get(f"/api/v1/awards/{old.serial}", headers=admin).json
    assert before["status"] == "revoked" and before["revoke_reason"] == "Тегі мен аты қате жазылған"
    assert before["full_name"] == "Әбенов Қайрат"

    # the new certificate and the ceremony's presentation sheet print the corrected name
    certificate = client.get(f"/api/v1/awards/{new['serial']}/certificate.pdf", headers=clerk)
    assert certificate.status_code == 200
    text = pdf_text(certificate.data)
    assert "Әбенова Гүлнар Серікқызы" in text and new["serial"] in text and "Қайрат" not in text
    sheet = client.get(f"/api/v1/awards/presentation-sheet.pdf?ceremony={ceremony.id}", headers=clerk)
    assert sheet.status_code == 200
    sheet_text = pdf_text(b"".join(sheet.response))
    assert "Әбенова Гүлнар Серікқызы" in sheet_text and new["serial"] in sheet_text and old.serial not in sheet_text

    # the old code verifies as replaced, by the API and on the page
    verified = client.get(f"/api/v1/verify/{old.verify_code}")
    assert verified.status_code == 200
    assert verified.json["status"] == "revoked" and verified.json["replaced_by"] == new["serial"]
    assert client.get(new["verify_url"].rsplit("/", 2)[-1].join(("/api/v1/verify/", ""))).json["replaced_by"] is None
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get(f"/v/{old.verify_code}")
    assert page.status_code == 200
    assert f"It was replaced by certificate {new['serial']}." in page.text and "revoked" in page.text

    # the nomination keeps the name it was approved with; the award's history holds the correction
    db.session.expire_all()
    assert nomination.nominee.surname == "Әбенов" and nomination.nominee.given_name == "Қайрат"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "award.reissue", AuditEvent.object_id == new["serial"])
    )
    assert event.reason == "Тегі мен аты қате жазылған"
    assert event.before["full_name"] == "Әбенов Қайрат" and event.before["serial"] == old.serial
    assert {k: event.after[k] for k in CORRECTED} == CORRECTED
    assert event.after["full_name"] == "Әбенова Гүлнар Серікқызы"
    revoked = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "award.revoke", AuditEvent.object_id == old.serial)
    )
    assert revoked.reason == "Тегі мен аты қате жазылған"


def test_a_later_reissue_keeps_the_corrected_name(client, token_for, cast):
    old = award_of(approved(cast, surname="Әбенов"))
    admin = token_for(cast.admin)
    first = client.post(
        f"/api/v1/awards/{old.serial}/reissue",
        json={"reason": "Тегі қате", "corrections": {"surname": "Әбенова"}},
        headers=admin,
    ).json
    # damaged later: revoked, then reissued the old way, with no body at all
    client.post(f"/api/v1/awards/{first['serial']}/revoke", json={"reason": "Бүлінген"}, headers=admin)
    second = client.post(f"/api/v1/awards/{first['serial']}/reissue", headers=admin)
    assert second.status_code == 201 and second.json["full_name"] == first["full_name"]
    assert second.json["surname"] == "Әбенова"


def test_a_patronymic_can_be_removed_and_the_rest_stays(client, token_for, cast):
    old = award_of(approved(cast, surname="Оспанов", given_name="Ерлан", patronymic="Иванович"))
    response = client.post(
        f"/api/v1/awards/{old.serial}/reissue",
        json={"reason": "Әкесінің аты жоқ", "corrections": {"patronymic": ""}},
        headers=token_for(cast.admin),
    )
    assert response.status_code == 201 and response.json["full_name"] == "Оспанов Ерлан"


def test_revoke_with_reissue_takes_corrections_too(client, token_for, cast):
    old = award_of(approved(cast, surname="Сәтбаев"))
    response = client.post(
        f"/api/v1/awards/{old.serial}/revoke",
        json={"reason": "Тегі қате", "reissue": True, "corrections": {"surname": "Сатпаев"}},
        headers=token_for(cast.admin),
    )
    assert response.status_code == 200 and response.json["reissued_as"]["surname"] == "Сатпаев"
    alone = award_of(approved(cast))
    count = award_count()
    refused = client.post(
        f"/api/v1/awards/{alone.serial}/revoke",
        json={"reason": "Тегі қате", "corrections": {"surname": "Сатпаев"}},
        headers=token_for(cast.admin),
    )
    assert refused.status_code == 422 and "reissue" in refused.json["error"]["fields"]
    assert award_count() == count and queries.get_award(db.session, alone.serial).status == "valid"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),  # a valid certificate is revoked by the reissue: why?
        ({"corrections": {"surname": "Әбенова"}}, "reason"),
        ({"reason": " ", "corrections": {"surname": "Әбенова"}}, "reason"),
        ({"reason": "x", "corrections": {"surname": ""}}, "surname"),
        ({"reason": "x", "corrections": {"given_name": "  "}}, "given_name"),
        ({"reason": "x", "corrections": {"surname": "1941"}}, "surname"),
        ({"reason": "x", "corrections": {"surname": "Әбе\x07нова"}}, "surname"),  # a control character
        ({"reason": "x", "corrections": {"surname": "Ә" * 101}}, "surname"),
        ({"reason": "x", "corrections": {"surname": "李"}}, "surname"),  # the certificate fonts cannot print it
        ({"reason": "x", "corrections": {"surname": 7}}, "surname"),
        ({"reason": "x", "corrections": {"surnam": "Әбенова"}}, "corrections"),
        ({"reason": "x", "corrections": "Әбенова"}, "corrections"),
    ],
)
def test_a_wrong_correction_is_refused_and_nothing_changes(en_client, token_for, cast, body, field):
    old = award_of(approved(cast))
    count = award_count()
    response = en_client.post(f"/api/v1/awards/{old.serial}/reissue", json=body, headers=token_for(cast.admin))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert award_count() == count and queries.get_award(db.session, old.serial).status == "valid"


def test_a_revoked_certificate_with_a_correction_needs_a_reason(client, token_for, cast):
    old = award_of(approved(cast))
    admin = token_for(cast.admin)
    client.post(f"/api/v1/awards/{old.serial}/revoke", json={"reason": "Қате"}, headers=admin)
    no_reason = client.post(
        f"/api/v1/awards/{old.serial}/reissue", json={"corrections": {"surname": "Әбенова"}}, headers=admin
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["fields"]
    plain = client.post(f"/api/v1/awards/{old.serial}/reissue", json={}, headers=admin)
    assert plain.status_code == 201 and plain.json["full_name"] == old.full_name


def test_only_an_admin_corrects(client, token_for, cast):
    old = award_of(approved(cast))
    body = {"reason": "x", "corrections": {"surname": "Әбенова"}}
    for who in (cast.clerk, cast.commission, cast.nominator):
        assert client.post(f"/api/v1/awards/{old.serial}/reissue", json=body, headers=token_for(who)).status_code in (
            403,
            404,
        )
    assert queries.get_award(db.session, old.serial).status == "valid"


# ------------------------------------------------------------------ pages


def test_the_award_page_corrects_the_name(en_client, login, cast):
    client = en_client
    old = award_of(approved(cast, surname="Әбенов", given_name="Қайрат"))
    login(cast.admin)
    page = client.get(f"/staff/awards/{old.serial}")
    assert 'name="surname" type="text" value="Әбенов"' in page.text
    assert 'name="given_name" type="text" value="Қайрат"' in page.text

    # a corrected name without "issue a new certificate" is refused beside the box
    refused = client.post(
        f"/staff/awards/{old.serial}/revoke",
        data={"reason": "Wrong surname", "surname": "Әбенова", "given_name": "Қайрат"},
    )
    assert refused.status_code == 422 and "ask for the reissue too" in refused.text
    bad = client.post(
        f"/staff/awards/{old.serial}/revoke",
        data={"reason": "Wrong surname", "reissue": "y", "surname": "1", "given_name": "Қайрат"},
    )
    assert bad.status_code == 422 and "A name must contain letters." in bad.text
    assert queries.get_award(db.session, old.serial).status == "valid"

    done = client.post(
        f"/staff/awards/{old.serial}/revoke",
        data={
            "reason": "Wrong surname",
            "reissue": "y",
            "surname": "Әбенова",
            "given_name": "Қайрат",
            "patronymic": "",
        },
    )
    assert done.status_code == 302
    new_page = client.get(done.headers["Location"])
    assert new_page.status_code == 200 and "Әбенова Қайрат" in new_page.text
    assert "Name corrected:" in new_page.text and "Әбенов Қайрат → Әбенова Қайрат" in new_page.text


def test_the_reissue_form_of_a_revoked_certificate(en_client, login, token_for, cast):
    old = award_of(approved(cast, surname="Әбенов"))
    en_client.post(f"/api/v1/awards/{old.serial}/revoke", json={"reason": "Қате"}, headers=token_for(cast.admin))
    login(cast.admin)
    page = en_client.get(f"/staff/awards/{old.serial}")
    assert 'action="/staff/awards/' + old.serial + '/reissue"' in page.text and 'value="Әбенов"' in page.text
    no_reason = en_client.post(
        f"/staff/awards/{old.serial}/reissue", data={"surname": "Әбенова", "given_name": old.given_name}
    )
    assert no_reason.status_code == 422 and "Give the reason for the correction." in no_reason.text
    done = en_client.post(
        f"/staff/awards/{old.serial}/reissue",
        data={"surname": "Әбенова", "given_name": old.given_name, "reason": "Wrong surname"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert queries.replacement_of(db.session, old).surname == "Әбенова"
    # the old way, nothing but the button: the name stays
    other = award_of(approved(cast))
    en_client.post(f"/api/v1/awards/{other.serial}/revoke", json={"reason": "Қате"}, headers=token_for(cast.admin))
    plain = en_client.post(f"/staff/awards/{other.serial}/reissue", data={})
    assert plain.status_code == 302
    assert queries.replacement_of(db.session, other).full_name == other.full_name


# ------------------------------------------------------- verification box


def test_not_found_offers_a_box_for_the_code(en_client, cast):
    award = award_of(approved(cast))
    unknown = en_client.get("/v/AAAAAAAAAAAAAAAA")
    assert unknown.status_code == 404 and "Check the code" in unknown.text
    assert 'action="/verify"' in unknown.text and 'name="code"' in unknown.text and award.full_name not in unknown.text
    bare = en_client.get("/verify")
    assert bare.status_code == 200 and 'name="code"' in bare.text and "Not found" not in bare.text
    typed = "-".join(award.verify_code[i : i + 4] for i in range(0, 16, 4)).lower()
    found = en_client.get("/verify", query_string={"code": f" {typed} "})
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/v/{award.verify_code}")
    wrong = en_client.get("/verify", query_string={"code": "not a code <b>"})
    assert wrong.status_code == 404 and "Not found" in wrong.text and "&lt;b&gt;" in wrong.text


# ------------------------------------------------ presented before the day


def far_ceremony_award(cast, make_ceremony, token_for, client, **ceremony):
    award = award_of(approved(cast))
    target = make_ceremony(**ceremony)
    client.post(
        f"/api/v1/ceremonies/{target.id}/awards", json={"serials": [award.serial]}, headers=token_for(cast.clerk)
    )
    return award, target


def test_presenting_long_before_the_ceremony_asks_first(en_client, token_for, cast, make_ceremony):
    award, _ = far_ceremony_award(cast, make_ceremony, token_for, en_client)
    clerk = token_for(cast.clerk)
    url = f"/api/v1/awards/{award.serial}/presented"
    asked = en_client.post(url, json={"date": "2025-05-09"}, headers=clerk)
    assert asked.status_code == 409 and asked.json["error"]["code"] == "ceremony_in_future"
    assert award.serial in asked.json["error"]["message"]
    db.session.expire_all()
    assert queries.get_award(db.session, award.serial).presented_on is None
    done = en_client.post(url, json={"date": "2025-05-09", "confirm_early": True}, headers=clerk)
    assert done.status_code == 200 and done.json["presented_on"] == "2025-05-09"


def test_presenting_on_the_day_needs_no_confirmation(client, token_for, cast, make_ceremony):
    award, ceremony = far_ceremony_award(cast, make_ceremony, token_for, client)
    ceremony.starts_at = utcnow() + timedelta(hours=20)  # tonight's ceremony, marked this morning
    db.session.commit()
    done = client.post(
        f"/api/v1/awards/{award.serial}/presented", json={"date": "2025-05-09"}, headers=token_for(cast.clerk)
    )
    assert done.status_code == 200, done.json
    plain = award_of(approved(cast))  # no ceremony at all: as before
    assert (
        client.post(
            f"/api/v1/awards/{plain.serial}/presented", json={"date": "2025-05-09"}, headers=token_for(cast.clerk)
        ).status_code
        == 200
    )


def test_the_award_page_asks_before_presenting_early(en_client, login, token_for, cast, make_ceremony):
    award, _ = far_ceremony_award(cast, make_ceremony, token_for, en_client)
    login(cast.clerk)
    asked = en_client.post(f"/staff/awards/{award.serial}/presented", data={"date": "09.05.2025"})
    assert asked.status_code == 409
    assert "has not taken place yet" in asked.text and 'name="confirm_early"' in asked.text
    assert queries.get_award(db.session, award.serial).presented_on is None
    done = en_client.post(f"/staff/awards/{award.serial}/presented", data={"date": "09.05.2025", "confirm_early": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert queries.get_award(db.session, award.serial).presented_on is not None


def test_migration_0011_gives_existing_awards_their_nominees_name(app, cast):
    """Awards issued before 0011 print their nominee's name: going down to 0010
    and up again fills the parts from the nominees, as the upgrade does on a
    real register."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    nomination = approved(cast, surname="Жұмабаев", given_name="Мәди", patronymic="Сәкенұлы")
    serial = award_of(nomination).serial
    db.session.commit()
    db.session.remove()
    downgrade(revision="0010")
    upgrade()
    row = db.session.execute(
        text("SELECT surname, given_name, patronymic, full_name FROM awards WHERE serial = :s"), {"s": serial}
    ).one()
    assert tuple(row) == ("Жұмабаев", "Мәди", "Сәкенұлы", "Жұмабаев Мәди Сәкенұлы")
