"""Medals and their quotas per district: the admin's API, the quota view, and
approvals refused beyond the quota with a message that states it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from award_service.audit.models import AuditEvent
from award_service.errors import Conflict, ValidationFailed
from award_service.extensions import db
from award_service.medals import service as medals
from award_service.medals.models import Medal
from award_service.nominations import transitions

from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import DECREE, MEDAL_CODE, actor, advance, audit_actions, nominate, reload

NEW_MEDAL = {
    "code": "labour-veteran",
    "name_kk": "Еңбек ардагері",
    "name_ru": "Ветеран труда",
    "name_en": "Veteran of Labour",
    "serial_prefix": "VL25",
    "award_year_from": 2025,
    "award_year_to": 2026,
    "quotas": {"zhezkazgan": 397, "satbayev": "120"},
}


def medal_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Medal))


def approve(client, headers, nomination_id):
    return client.post(
        f"/api/v1/nominations/{nomination_id}/transitions", headers=headers, json={"action": "approve", **DECREE}
    )


# -------------------------------------------------------------- medals API


def test_admin_creates_a_medal_with_quotas(client, token_for, cast):
    response = client.post("/api/v1/medals", json=NEW_MEDAL, headers=token_for(cast.admin))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["code"] == "labour-veteran" and body["serial_prefix"] == "VL25" and body["active"] is True
    assert (body["award_year_from"], body["award_year_to"]) == (2025, 2026)
    assert body["quotas"] == {
        "zhezkazgan": {"quota": 397, "used": 0, "left": 397},
        "satbayev": {"quota": 120, "used": 0, "left": 120},
    }
    listed = client.get("/api/v1/medals", headers=token_for(cast.nominator)).json["items"]
    assert {m["code"] for m in listed} == {MEDAL_CODE, "labour-veteran"}
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "medal.create", AuditEvent.after["code"].as_string() == "labour-veteran"
        )
    )
    assert event is not None and event.actor_id == cast.admin.id


@pytest.mark.parametrize(
    "change, field",
    [
        ({"code": "Victory 80"}, "code"),
        ({"code": "v"}, "code"),
        ({"code": "x" * 33}, "code"),
        ({"code": 80}, "code"),
        ({"code": MEDAL_CODE}, "code"),  # already used
        ({"name_kk": ""}, "name_kk"),
        ({"name_ru": None}, "name_ru"),
        ({"name_en": "a\x07"}, "name_en"),
        ({"name_en": "x" * 301}, "name_en"),
        ({"serial_prefix": "uly"}, "serial_prefix"),
        ({"serial_prefix": "ABCDEFGHI"}, "serial_prefix"),
        ({"serial_prefix": ""}, "serial_prefix"),
        ({"award_year_from": 1900}, "award_year_from"),
        ({"award_year_from": "soon"}, "award_year_from"),
        ({"award_year_to": 2024}, "award_year_to"),
        ({"quotas": {"almaty": 5}}, "quotas.almaty"),
        ({"quotas": {"zhezkazgan": -1}}, "quotas.zhezkazgan"),
        ({"quotas": {"zhezkazgan": "many"}}, "quotas.zhezkazgan"),
        ({"quotas": {"zhezkazgan": 1.5}}, "quotas.zhezkazgan"),
        ({"quotas": {"zhezkazgan": True}}, "quotas.zhezkazgan"),
        ({"quotas": [397]}, "quotas"),
    ],
)
def test_bad_medal_input_is_refused_on_its_field(client, token_for, cast, change, field):
    before = medal_count()
    response = client.post("/api/v1/medals", json={**NEW_MEDAL, **change}, headers=token_for(cast.admin))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert medal_count() == before


@pytest.mark.parametrize("who", ["organiser", "nominator", "reviewer", "commission", "clerk"])
def test_only_the_admin_manages_medals(client, token_for, cast, who):
    headers = token_for(getattr(cast, who))
    assert client.post("/api/v1/medals", json=NEW_MEDAL, headers=headers).status_code == 403
    assert client.put(f"/api/v1/medals/{MEDAL_CODE}/quotas", json={"zhezkazgan": 1}, headers=headers).status_code == 403
    viewing = client.get("/api/v1/medals", headers=headers).status_code
    assert viewing == (403 if who == "organiser" else 200)
    assert medal_count() == 1
    assert client.get("/api/v1/medals").status_code == 401


# ---------------------------------------------------------------- quotas


def quota_of(code: str, district: str) -> dict:
    medal = medals.get_medal(db.session, code)
    db.session.refresh(medal)
    return next(row for row in medals.quota_table(db.session, medal) if row["district"].code == district)


def test_set_quotas_through_the_api(client, token_for, cast):
    response = client.put(
        f"/api/v1/medals/{MEDAL_CODE}/quotas", json={"zhezkazgan": 400, "satbayev": 10}, headers=token_for(cast.admin)
    )
    assert response.status_code == 200, response.json
    assert response.json["quotas"]["zhezkazgan"] == {"quota": 400, "used": 0, "left": 400}
    assert response.json["quotas"]["satbayev"] == {"quota": 10, "used": 0, "left": 10}
    assert response.json["quotas"]["karazhal"]["quota"] == 50  # untouched
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "medal.quotas")).one()
    assert event.before == {"zhezkazgan": 397, "satbayev": None} and event.after == {"zhezkazgan": 400, "satbayev": 10}
    for body, field in [({}, "quotas"), ({"almaty": 3}, "quotas.almaty"), ({"zhezkazgan": -5}, "quotas.zhezkazgan")]:
        response = client.put(f"/api/v1/medals/{MEDAL_CODE}/quotas", json=body, headers=token_for(cast.admin))
        assert response.status_code == 422 and field in response.json["error"]["fields"], body
    assert (
        client.put("/api/v1/medals/nope/quotas", json={"zhezkazgan": 1}, headers=token_for(cast.admin)).status_code
        == 404
    )


def test_a_quota_cannot_go_below_what_is_used(en_client, token_for, cast):
    for _ in range(3):
        advance(nominate(cast.nominator), "approved", cast)
    response = en_client.put(
        f"/api/v1/medals/{MEDAL_CODE}/quotas", json={"zhezkazgan": 2, "karazhal": 7}, headers=token_for(cast.admin)
    )
    assert response.status_code == 422
    message = response.json["error"]["fields"]["quotas.zhezkazgan"]
    assert "3" in message and "approved" in message
    # nothing saved, not even the valid part
    assert quota_of(MEDAL_CODE, "zhezkazgan") | {"district": None} == {
        "district": None,
        "quota": 397,
        "used": 3,
        "left": 394,
    }
    assert quota_of(MEDAL_CODE, "karazhal")["quota"] == 50
    with pytest.raises(ValidationFailed):
        medals.set_quotas(db.session, actor(cast.admin), medals.get_medal(db.session, MEDAL_CODE), {"zhezkazgan": 0})
    medal = medals.set_quotas(
        db.session, actor(cast.admin), medals.get_medal(db.session, MEDAL_CODE), {"zhezkazgan": 3}
    )
    assert medal.quota_for(quota_of(MEDAL_CODE, "zhezkazgan")["district"].id).left == 0


def test_quota_view_lists_every_district_with_used_and_left(cast):
    for _ in range(2):
        advance(nominate(cast.nominator), "approved", cast)
    advance(nominate(cast.far_nominator, district="karazhal"), "approved", cast, reviewer=cast.far_reviewer)
    advance(nominate(cast.nominator), "recommended", cast)  # not approved: not used
    medal = medals.get_medal(db.session, MEDAL_CODE)
    db.session.refresh(medal)
    table = {
        row["district"].code: (row["quota"], row["used"], row["left"]) for row in medals.quota_table(db.session, medal)
    }
    assert table == {
        "zhezkazgan": (397, 2, 395),
        "karazhal": (50, 1, 49),
        "satbayev": (0, 0, 0),
        "ulytau": (0, 0, 0),
        "zhanaarka": (0, 0, 0),
    }


def test_approval_beyond_the_quota_is_refused_with_quota_and_used(en_client, token_for, cast):
    medals.set_quotas(db.session, actor(cast.admin), medals.get_medal(db.session, MEDAL_CODE), {"zhezkazgan": 2})
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(3)]
    headers = token_for(cast.commission)
    assert [approve(en_client, headers, n.id).status_code for n in batch[:2]] == [200, 200]
    response = approve(en_client, headers, batch[2].id)
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "quota_exceeded" and (error["quota"], error["used"]) == (2, 2)
    assert "quota" in error["message"] and "is 2 and 2 are used" in error["message"]
    assert "Zhezkazgan" in error["message"]  # the district, in the reader's language
    after = reload(batch[2].id)
    assert after.status == "recommended" and after.decree_number is None and after.approved_by_id is None
    assert "nomination.approve" not in [e.action for e in audit_actions(batch[2].id)]
    assert quota_of(MEDAL_CODE, "zhezkazgan")["used"] == 2
    # more room: the same nomination goes through
    medals.set_quotas(db.session, actor(cast.admin), medals.get_medal(db.session, MEDAL_CODE), {"zhezkazgan": 3})
    assert approve(en_client, headers, batch[2].id).status_code == 200
    assert quota_of(MEDAL_CODE, "zhezkazgan") | {"district": None} == {
        "district": None,
        "quota": 3,
        "used": 3,
        "left": 0,
    }


def test_quota_message_in_kazakh_and_russian(client, token_for, cast):
    medals.set_quotas(db.session, actor(cast.admin), medals.get_medal(db.session, MEDAL_CODE), {"zhezkazgan": 0})
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    headers = token_for(cast.commission)
    kk = client.post(
        f"/api/v1/nominations/{nomination.id}/transitions",
        json={"action": "approve", **DECREE},
        headers={**headers, "Accept-Language": "kk"},
    ).json["error"]["message"]
    ru = client.post(
        f"/api/v1/nominations/{nomination.id}/transitions",
        json={"action": "approve", **DECREE},
        headers={**headers, "Accept-Language": "ru"},
    ).json["error"]["message"]
    assert "Жезқазған" in kk and "Жезказган" in ru
    assert "0" in kk and "0" in ru


def test_a_district_without_a_quota_cannot_approve(en_client, token_for, cast, staff_user):
    reviewer = staff_user("reviewer", district="satbayev")
    nominator = staff_user("nominator", district="satbayev")

    nomination = nominate(nominator, district="satbayev")
    transitions.transition(db.session, actor(nominator), nomination, "submit")
    transitions.transition(db.session, actor(reviewer), nomination, "recommend")
    response = approve(en_client, token_for(cast.commission), nomination.id)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "quota_exceeded" and response.json["error"]["quota"] == 0


def test_quota_is_counted_per_medal_and_district(system, cast):
    medals.create_medal(db.session, system, {**NEW_MEDAL, "quotas": {"zhezkazgan": 1}})
    advance(nominate(cast.nominator), "approved", cast)
    other = advance(nominate(cast.nominator, medal_code="labour-veteran"), "recommended", cast)

    assert transitions.transition(db.session, actor(cast.commission), other, "approve", **DECREE).status == "approved"
    third = advance(nominate(cast.nominator, medal_code="labour-veteran"), "recommended", cast)
    with pytest.raises(Conflict) as exc:
        transitions.transition(db.session, actor(cast.commission), third, "approve", **DECREE)
    assert exc.value.code == "quota_exceeded" and exc.value.extra == {"quota": 1, "used": 1}
    assert quota_of(MEDAL_CODE, "zhezkazgan")["used"] == 1
    assert quota_of("labour-veteran", "zhezkazgan")["used"] == 1
