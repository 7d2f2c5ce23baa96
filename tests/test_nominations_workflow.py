"""The staged approval: the transition table, reasons and decrees, the audit trail,
who may take which step (every role × every action, other districts, separation of
duties), duplicates, bulk approval under one decree, supporting documents, editing."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from award_service import dates
from award_service.accounts.models import ROLES
from award_service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from award_service.extensions import db
from award_service.medals.models import MedalQuota
from award_service.nominations import service, transitions, workflow
from award_service.nominations.models import STATUSES, Nomination, NominationDocument
from award_service.timeutil import to_local

from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import (
    DECREE,
    MEDAL_CODE,
    actor,
    advance,
    audit_actions,
    make_iin,
    nominate,
    nomination_count,
    nominee_data,
    reload,
)

ACTIONS = ("submit", "recommend", "approve", "return", "reject", "withdraw")
# The table of the issue, written out here (not read from workflow.py).
EXPECTED = {
    ("draft", "submit"): "submitted",
    ("returned", "submit"): "submitted",
    ("draft", "withdraw"): "withdrawn",
    ("submitted", "withdraw"): "withdrawn",
    ("returned", "withdraw"): "withdrawn",
    ("recommended", "withdraw"): "withdrawn",
    ("submitted", "recommend"): "recommended",
    ("submitted", "return"): "returned",
    ("submitted", "reject"): "rejected",
    ("recommended", "approve"): "approved",
    ("recommended", "return"): "returned",
    ("recommended", "reject"): "rejected",
}
REASON = {"comment": "Мұрағат анықтамасы жоқ / нет архивной справки"}


def body_for(action: str) -> dict:
    return {"action": action, **REASON, **DECREE}


def act(client, headers, nomination_id: int, action: str, **extra):
    return client.post(
        f"/api/v1/nominations/{nomination_id}/transitions", json={"action": action, **extra}, headers=headers
    )


def right_user(cast, state: str, action: str):
    if action in ("submit", "withdraw"):
        return cast.nominator
    if action == "recommend":
        return cast.reviewer2
    if action == "approve":
        return cast.commission2
    return cast.commission2 if state == "recommended" else cast.reviewer2


# ----------------------------------------------------------- the table


def test_status_and_action_lists_match_the_issue():
    assert set(STATUSES) == {
        "draft",
        "submitted",
        "recommended",
        "approved",
        "awarded",
        "returned",
        "rejected",
        "withdrawn",
    }
    assert set(workflow.ACTIONS) == set(ACTIONS)


@pytest.mark.parametrize("state", STATUSES)
def test_transition_table(client, token_for, cast, state):
    """Every action from this state, by the role the action belongs to: the expected
    target, or 409 invalid_transition with the state unchanged and nothing audited."""
    for action in ACTIONS:
        nomination = advance(nominate(cast.nominator), state, cast)
        before = len(audit_actions(nomination.id))
        response = act(client, token_for(right_user(cast, state, action)), nomination.id, **body_for(action))
        target = EXPECTED.get((state, action))
        after = reload(nomination.id)
        if target:
            assert response.status_code == 200, (state, action, response.json)
            assert response.json["status"] == target and after.status == target
            events = audit_actions(nomination.id)[before:]
            assert [e.action for e in events] == [f"nomination.{action}"]
            assert events[0].before == {"status": state} and events[0].after["status"] == target
        else:
            assert response.status_code == 409, (state, action, response.json)
            assert response.json["error"]["code"] == "invalid_transition", (state, action)
            assert after.status == state
            assert len(audit_actions(nomination.id)) == before


def test_invalid_transition_message_names_the_state_and_action(en_client, token_for, cast):
    nomination = advance(nominate(cast.nominator), "rejected", cast)
    response = act(en_client, token_for(cast.nominator), nomination.id, "submit")
    assert response.status_code == 409
    assert "rejected" in response.json["error"]["message"] and "Submit" in response.json["error"]["message"]


def test_unknown_action_and_bad_version(client, token_for, cast):
    nomination = nominate(cast.nominator)
    headers = token_for(cast.nominator)
    for body, field in [
        ({"action": "delete"}, "action"),
        ({"action": 5}, "action"),
        ({}, "action"),
        ({"action": "submit", "version": "1"}, "version"),
        ({"action": "submit", "version": True}, "version"),
    ]:
        response = client.post(f"/api/v1/nominations/{nomination.id}/transitions", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in response.json["error"]["fields"]
    assert reload(nomination.id).status == "draft"


def test_stale_version_is_a_conflict(client, token_for, cast):
    nomination = nominate(cast.nominator)
    version = nomination.version
    response = act(client, token_for(cast.nominator), nomination.id, "submit", version=version + 5)
    assert response.status_code == 409 and response.json["error"]["code"] == "conflict"
    response = act(client, token_for(cast.nominator), nomination.id, "submit", version=version)
    assert response.status_code == 200 and response.json["version"] == version + 1


# ------------------------------------------------- reasons and decrees


@pytest.mark.parametrize(
    "state, action",
    [("submitted", "return"), ("submitted", "reject"), ("recommended", "return"), ("recommended", "reject")],
)
@pytest.mark.parametrize("comment", [None, "", "   \n  "])
def test_return_and_reject_need_a_reason(en_client, token_for, cast, state, action, comment):
    nomination = advance(nominate(cast.nominator), state, cast)
    events = len(audit_actions(nomination.id))
    body = {} if comment is None else {"comment": comment}
    response = act(en_client, token_for(right_user(cast, state, action)), nomination.id, action, **body)
    assert response.status_code == 422
    assert "reason" in response.json["error"]["fields"]["comment"]
    assert reload(nomination.id).status == state and len(audit_actions(nomination.id)) == events


@pytest.mark.parametrize(
    "decree, fields",
    [
        ({}, {"decree_number", "decree_date"}),
        ({"decree_date": "2025-04-28"}, {"decree_number"}),
        ({"decree_number": "45"}, {"decree_date"}),
        ({"decree_number": "  ", "decree_date": "2025-04-28"}, {"decree_number"}),
        ({"decree_number": "45", "decree_date": "2025-02-30"}, {"decree_date"}),
        ({"decree_number": "45", "decree_date": "28 April"}, {"decree_date"}),
        ({"decree_number": "45", "decree_date": 20250428}, {"decree_date"}),
        ({"decree_number": "45", "decree_date": (date.today() + timedelta(days=3)).isoformat()}, {"decree_date"}),
        ({"decree_number": "4" * 51, "decree_date": "2025-04-28"}, {"decree_number"}),
    ],
)
def test_approval_needs_a_decree_number_and_a_past_date(client, token_for, cast, decree, fields):
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    response = act(client, token_for(cast.commission), nomination.id, "approve", **decree)
    assert response.status_code == 422, response.json
    assert set(response.json["error"]["fields"]) == fields
    after = reload(nomination.id)
    assert after.status == "recommended" and after.decree_number is None
    assert db.session.get(MedalQuota, (after.medal_id, after.district_id)).used == 0


def test_future_decree_date_message(en_client, token_for, cast):
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    response = act(
        en_client,
        token_for(cast.commission),
        nomination.id,
        "approve",
        decree_number="45",
        decree_date=(date.today() + timedelta(days=3)).isoformat(),
    )
    assert "future" in response.json["error"]["fields"]["decree_date"]


def _local_today(app) -> date:
    return to_local(datetime.now(UTC), app.config["AWARD_TIMEZONE"]).date()


def test_a_decree_signed_today_in_kazakhstan_is_accepted(app, client, token_for, cast):
    """ "Today" is Kazakhstan's date (UTC+5): between 19:00 and 24:00 UTC it is already tomorrow there."""
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    response = act(
        client,
        token_for(cast.commission),
        nomination.id,
        "approve",
        decree_number="45",
        decree_date=_local_today(app).isoformat(),
    )
    assert response.status_code == 200, response.json


def test_decree_date_is_judged_on_kazakhstan_time(app, cast, monkeypatch):
    """At 20:00 UTC on 28 April it is 01:00 on 29 April in Kazakhstan: a decree of the 29th is not in the future."""
    first = advance(nominate(cast.nominator), "recommended", cast)
    second = advance(nominate(cast.nominator), "recommended", cast)
    monkeypatch.setattr(dates, "utcnow", lambda: datetime(2025, 4, 28, 20, 0, tzinfo=UTC))
    approved = transitions.transition(
        db.session, actor(cast.commission), first, "approve", decree_number="45", decree_date="2025-04-29"
    )
    assert approved.status == "approved" and approved.decree_date == date(2025, 4, 29)
    with pytest.raises(ValidationFailed) as exc:
        transitions.transition(
            db.session, actor(cast.commission), second, "approve", decree_number="45", decree_date="2025-04-30"
        )
    assert set(exc.value.fields) == {"decree_date"}


def test_decree_is_recorded_in_both_date_formats(client, token_for, cast):
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    response = act(
        client, token_for(cast.commission), nomination.id, "approve", decree_number=" № 45 ", decree_date="28.04.2025"
    )
    assert response.status_code == 200
    after = reload(nomination.id)
    assert (after.decree_number, after.decree_date) == ("№ 45", date(2025, 4, 28))
    assert after.approved_by_id == cast.commission.id and after.approved_at is not None


# ------------------------------------------------------------- audit


def test_every_transition_is_audited_with_actor_states_comment_and_decree(client, token_for, cast):
    nomination = nominate(cast.nominator)
    steps = [
        (cast.nominator, "submit", {}),
        (cast.reviewer, "return", {"comment": "Мекенжайды толықтырыңыз"}),
        (cast.nominator, "submit", {"comment": "Толықтырылды"}),
        (cast.reviewer, "recommend", {}),
        (cast.commission, "return", {"comment": "Шешім жобасы керек"}),
        (cast.nominator, "submit", {}),
        (cast.reviewer2, "recommend", {"comment": "Ұсынамын"}),
        (cast.commission, "approve", DECREE),
    ]
    for user, action, extra in steps:
        assert act(client, token_for(user), nomination.id, action, **extra).status_code == 200, action
    events = audit_actions(nomination.id)
    assert [e.action for e in events] == ["nomination.create"] + [f"nomination.{a}" for _, a, _ in steps]
    transitions = events[1:]
    path = [
        "draft",
        "submitted",
        "returned",
        "submitted",
        "recommended",
        "returned",
        "submitted",
        "recommended",
        "approved",
    ]
    for event, (user, _action, extra), source, target in zip(transitions, steps, path, path[1:]):
        assert event.actor_id == user.id and event.actor_label == user.email
        assert event.before == {"status": source}
        assert event.after["status"] == target
        assert event.reason == extra.get("comment")
    assert transitions[-1].after == {"status": "approved", "decree_number": "45", "decree_date": "2025-04-28"}

    history = client.get(f"/api/v1/nominations/{nomination.id}", headers=token_for(cast.reviewer)).json["history"]
    assert [h["action"] for h in history] == [e.action for e in events]
    assert history[2]["comment"] == "Мекенжайды толықтырыңыз" and history[2]["actor"] == cast.reviewer.email
    assert history[-1]["after"]["decree_number"] == "45"
    final = reload(nomination.id)
    assert final.recommended_by_id == cast.reviewer2.id and final.approved_by_id == cast.commission.id
    assert final.last_comment == ""


# ----------------------------------------------------- permission matrix

STEPS = [
    ("draft", "submit"),
    ("draft", "withdraw"),
    ("submitted", "recommend"),
    ("submitted", "return"),
    ("submitted", "reject"),
    ("recommended", "approve"),
    ("recommended", "return"),
    ("recommended", "reject"),
]
STEP_ROLE = {
    "submit": "nominator",
    "withdraw": "nominator",
    "recommend": "reviewer",
    "approve": "commission",
    "return": None,
    "reject": None,
}


@pytest.fixture
def staff(staff_user, medal):
    """Every role in the nomination's district, in another district, and regional."""
    return {
        (role, scope): staff_user(role, district={"local": "zhezkazgan", "far": "karazhal", "regional": None}[scope])
        for role in ROLES
        for scope in ("local", "far", "regional")
    }


@pytest.mark.parametrize("state, action", STEPS)
def test_permission_matrix(client, token_for, cast, staff, state, action):
    """Each role × scope: 403 forbidden unless it is the step's role in the district
    (or regional); then the step is taken."""
    role_needed = STEP_ROLE[action] or ("commission" if state == "recommended" else "reviewer")
    allowed = {(role_needed, "local"), (role_needed, "regional")}
    # reviewers and the commission both return and reject, from different states:
    # for the other one of them the state is in the way (409), not their rights
    state_bound = {"reviewer", "commission"} - {role_needed} if action in ("return", "reject") else set()
    nomination = advance(nominate(cast.nominator), state, cast)
    for key, user in staff.items():
        if key in allowed:
            continue
        response = act(client, token_for(user), nomination.id, **body_for(action))
        role, scope = key
        if role in state_bound and scope != "far":
            assert response.status_code == 409, (key, action, response.status_code)
            assert response.json["error"]["code"] == "invalid_transition"
        else:
            assert response.status_code == 403, (key, action, response.status_code)
            assert response.json["error"]["code"] == "forbidden"
    after = reload(nomination.id)
    assert after.status == state and after.version == nomination.version
    for key in sorted(allowed):
        fresh = advance(nominate(cast.nominator), state, cast)
        response = act(client, token_for(staff[key]), fresh.id, **body_for(action))
        assert response.status_code == 200, (key, action, response.json)
        assert response.json["status"] == EXPECTED[(state, action)]


def test_who_may_enter_nominations(client, token_for, cast, staff):
    for (role, scope), user in staff.items():
        response = client.post(
            "/api/v1/nominations",
            headers=token_for(user),
            json={"nominee": nominee_data(), "medal": MEDAL_CODE, "grounds": "Тыл еңбеккері"},
        )
        if role == "nominator" and scope in ("local", "regional"):
            assert response.status_code == 201, (role, scope, response.json)
        else:
            assert response.status_code == 403, (role, scope, response.status_code)
            if role == "nominator":
                assert "district" in response.json["error"]["fields"]
    assert nomination_count() == 2


def test_a_step_taken_meanwhile_is_a_state_conflict_not_a_permission_error(en_client, token_for, cast):
    """Two reviewers open one submitted nomination; one recommends it; the other's
    "reject" is refused because of its new state (409), not as forbidden."""
    nomination = advance(nominate(cast.nominator), "submitted", cast)
    assert act(en_client, token_for(cast.reviewer), nomination.id, "recommend").status_code == 200
    response = act(en_client, token_for(cast.reviewer2), nomination.id, "reject", **REASON)
    assert response.status_code == 409 and response.json["error"]["code"] == "invalid_transition"
    assert "recommended" in response.json["error"]["message"]
    # a role that never takes the step is still forbidden
    response = act(en_client, token_for(cast.clerk), nomination.id, "reject", **REASON)
    assert response.status_code == 403
    assert reload(nomination.id).status == "recommended"


def test_other_districts_cannot_see_or_act(client, token_for, cast):
    nomination = advance(nominate(cast.nominator), "submitted", cast)
    headers = token_for(cast.far_reviewer)
    assert client.get(f"/api/v1/nominations/{nomination.id}", headers=headers).status_code == 403
    assert act(client, headers, nomination.id, "recommend").status_code == 403
    assert act(client, token_for(cast.far_nominator), nomination.id, "withdraw").status_code == 403
    assert reload(nomination.id).status == "submitted"


def test_check_transition_for_the_service_callers(cast):
    nomination = advance(nominate(cast.nominator), "submitted", cast)
    assert transitions.check_transition(cast.reviewer, nomination, "recommend").target == "recommended"
    with pytest.raises(Forbidden):
        transitions.check_transition(cast.clerk, nomination, "recommend")
    with pytest.raises(Conflict) as exc:
        transitions.check_transition(cast.reviewer, nomination, "approve")
    assert exc.value.code == "invalid_transition"
    with pytest.raises(ValidationFailed):
        transitions.check_transition(cast.reviewer, nomination, "award")


# -------------------------------------------------- separation of duties


def test_whoever_entered_cannot_recommend_or_approve(en_client, staff_user, token_for, cast):
    all_hats = staff_user("nominator", "reviewer", "commission", district="zhezkazgan")
    nomination = nominate(all_hats)
    assert act(en_client, token_for(all_hats), nomination.id, "submit").status_code == 200
    response = act(en_client, token_for(all_hats), nomination.id, "recommend")
    assert response.status_code == 403 and "entered" in response.json["error"]["message"]
    assert act(en_client, token_for(cast.reviewer), nomination.id, "recommend").status_code == 200
    response = act(en_client, token_for(all_hats), nomination.id, "approve", **DECREE)
    assert response.status_code == 403 and "entered" in response.json["error"]["message"]
    # returning or rejecting someone else's decision is not a conflict of interest, approving is
    assert reload(nomination.id).status == "recommended"
    assert act(en_client, token_for(cast.commission), nomination.id, "approve", **DECREE).status_code == 200


def test_the_recommender_cannot_approve(en_client, staff_user, token_for, cast):
    both = staff_user("reviewer", "commission", district="zhezkazgan")
    nomination = advance(nominate(cast.nominator), "submitted", cast)
    assert act(en_client, token_for(both), nomination.id, "recommend").status_code == 200
    response = act(en_client, token_for(both), nomination.id, "approve", **DECREE)
    assert response.status_code == 403 and "recommended" in response.json["error"]["message"]
    assert reload(nomination.id).status == "recommended"
    assert act(en_client, token_for(cast.commission), nomination.id, "approve", **DECREE).status_code == 200
    assert reload(nomination.id).approved_by_id == cast.commission.id


def test_separation_of_duties_in_bulk(staff_user, cast):
    both = staff_user("reviewer", "commission", district="zhezkazgan")
    others = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(3)]
    mine = advance(nominate(cast.nominator), "recommended", cast, reviewer=both)
    with pytest.raises(Forbidden):
        transitions.bulk_transition(db.session, actor(both), [n.id for n in others] + [mine.id], "approve", **DECREE)
    assert {reload(n.id).status for n in [*others, mine]} == {"recommended"}


# -------------------------------------------------------------- duplicates


def test_same_iin_and_medal_while_active_is_refused_pointing_to_the_existing(en_client, token_for, cast):
    first = nominate(cast.nominator, iin="860904350504", birth_date="1986-09-04")
    response = en_client.post(
        "/api/v1/nominations",
        headers=token_for(cast.nominator2),
        json={
            "nominee": nominee_data(iin="860904350504", birth_date="1986-09-04", surname="Басқа", given_name="Адам"),
            "medal": MEDAL_CODE,
            "grounds": "Тыл еңбеккері",
        },
    )
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "duplicate_nominee" and error["existing_id"] == first.id
    assert f"№ {first.id}" in error["message"]
    assert nomination_count() == 1
    with pytest.raises(Conflict) as exc:
        nominate(cast.nominator, iin="860904350504", birth_date="1986-09-04")
    assert exc.value.extra == {"existing_id": first.id}


@pytest.mark.parametrize("ending", ["rejected", "withdrawn"])
def test_after_rejection_or_withdrawal_the_same_person_may_be_nominated_again(client, token_for, cast, ending):
    birth = date(1926, 11, 7)
    value = make_iin(birth)
    first = advance(nominate(cast.nominator, iin=value, birth_date=birth.isoformat()), ending, cast)
    response = client.post(
        "/api/v1/nominations",
        headers=token_for(cast.nominator),
        json={
            "nominee": nominee_data(iin=value, birth_date=birth.isoformat()),
            "medal": MEDAL_CODE,
            "grounds": "Қайта ұсыну",
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["id"] != first.id
    # and then the new one is the active one
    third = client.post(
        "/api/v1/nominations",
        headers=token_for(cast.nominator),
        json={"nominee": nominee_data(iin=value, birth_date=birth.isoformat()), "medal": MEDAL_CODE, "grounds": "x"},
    )
    assert third.status_code == 409 and third.json["error"]["existing_id"] == response.json["id"]


@pytest.mark.parametrize("state", ["submitted", "recommended", "approved", "awarded", "returned"])
def test_every_active_state_blocks_a_second_nomination(cast, state):
    birth = date(1929, 2, 3)
    value = make_iin(birth)
    first = advance(nominate(cast.nominator, iin=value, birth_date=birth.isoformat()), state, cast)
    with pytest.raises(Conflict) as exc:
        nominate(cast.nominator, iin=value, birth_date=birth.isoformat())
    assert exc.value.code == "duplicate_nominee" and exc.value.extra["existing_id"] == first.id


def test_same_iin_for_another_medal_is_allowed(system, cast):
    from award_service.medals.service import create_medal

    create_medal(
        db.session,
        system,
        {
            "code": "labour",
            "name_kk": "Еңбек",
            "name_ru": "Труд",
            "name_en": "Labour",
            "serial_prefix": "LAB",
            "quotas": {"zhezkazgan": 5},
        },
    )
    first = nominate(cast.nominator, iin="860904350504", birth_date="1986-09-04")
    second = nominate(cast.nominator, iin="860904350504", birth_date="1986-09-04", medal_code="labour")
    assert first.id != second.id


def test_editing_into_an_existing_iin_is_refused(cast):
    first = nominate(cast.nominator, iin="860904350504", birth_date="1986-09-04")
    second = nominate(cast.nominator)
    with pytest.raises(Conflict) as exc:
        service.update_nomination(
            db.session, actor(cast.nominator), second, {"nominee": {"iin": "860904350504", "birth_date": "1986-09-04"}}
        )
    assert exc.value.code == "duplicate_nominee" and exc.value.extra["existing_id"] == first.id
    assert reload(second.id).iin != "860904350504"


def test_likely_duplicates_are_flagged_and_must_be_confirmed(en_client, token_for, cast):
    first = nominate(cast.nominator, surname="Жанболатов", given_name="Қайрат", birth_date="1927-05-09", iin=None)
    assert not first.possible_duplicate
    headers = token_for(cast.nominator)
    created = en_client.post(
        "/api/v1/nominations",
        headers=headers,
        json={
            "nominee": nominee_data(surname="Dzhanbulatov", given_name="Kairat", birth_date="1927-05-09", iin=None),
            "medal": MEDAL_CODE,
            "grounds": "Тыл еңбеккері",
        },
    )
    assert created.status_code == 201 and created.json["possible_duplicate"] is True
    second_id = created.json["id"]
    seen = en_client.get(f"/api/v1/nominations/{second_id}", headers=token_for(cast.reviewer)).json
    assert seen["possible_duplicate"] is True and seen["duplicate_confirmed"] is False

    response = act(en_client, headers, second_id, "submit")
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "duplicate_nominee" and error["possible_duplicates"] == [first.id]
    assert str(first.id) in error["message"]
    assert reload(second_id).status == "draft"

    response = act(en_client, headers, second_id, "submit", confirm_duplicate=True)
    assert response.status_code == 200 and response.json["status"] == "submitted"
    seen = en_client.get(f"/api/v1/nominations/{second_id}", headers=token_for(cast.reviewer)).json
    assert seen["possible_duplicate"] is True and seen["duplicate_confirmed"] is True
    # confirmed once: returned and resubmitted without asking again
    assert act(en_client, token_for(cast.reviewer), second_id, "return", comment="Телефон?").status_code == 200
    assert act(en_client, headers, second_id, "submit").status_code == 200


@pytest.mark.parametrize(
    "surname, given_name, birth, flagged",
    [
        ("Janbolatov", "Qairat", "1927-05-09", True),
        ("Қайрат", "Жанболатов", "1927-05-09", True),  # swapped
        ("Жанболатов", "Қайрат", "1927-05-10", False),  # another birth date
        ("Жанболатов", "Ерлан", "1927-05-09", False),  # another given name
    ],
)
def test_likely_duplicate_rules(cast, surname, given_name, birth, flagged):
    nominate(cast.nominator, surname="Жанболатов", given_name="Қайрат", birth_date="1927-05-09", iin=None)
    second = nominate(cast.nominator, surname=surname, given_name=given_name, birth_date=birth, iin=None)
    assert second.possible_duplicate is flagged


def test_a_rejected_lookalike_is_not_a_duplicate(cast):
    first = nominate(cast.nominator, surname="Жанболатов", given_name="Қайрат", birth_date="1927-05-09", iin=None)
    advance(first, "rejected", cast)
    second = nominate(cast.nominator, surname="Janbolatov", given_name="Qairat", birth_date="1927-05-09", iin=None)
    assert not second.possible_duplicate
    assert advance(second, "submitted", cast).status == "submitted"


# ------------------------------------------------------------------- bulk


def test_bulk_approval_of_120_under_one_decree(cast):
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(120)]
    ids = [n.id for n in batch]
    done = transitions.bulk_transition(
        db.session,
        actor(cast.commission),
        ids,
        "approve",
        decree_number="45",
        decree_date="2025-04-28",
        comment="Әкім шешімі № 45",
    )
    assert [n.id for n in done] == sorted(ids)
    db.session.expire_all()
    rows = db.session.scalars(select(Nomination).where(Nomination.id.in_(ids))).all()
    assert {(n.status, n.decree_number, n.decree_date, n.approved_by_id) for n in rows} == {
        ("approved", "45", date(2025, 4, 28), cast.commission.id)
    }
    from award_service.audit.models import AuditEvent

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "nomination.approve")).all()
    assert len(events) == 120
    assert {e.object_id for e in events} == {str(i) for i in ids}
    assert all(
        e.after == {"status": "approved", "decree_number": "45", "decree_date": "2025-04-28"}
        and e.reason == "Әкім шешімі № 45"
        and e.actor_id == cast.commission.id
        for e in events
    )
    assert db.session.get(MedalQuota, (batch[0].medal_id, batch[0].district_id)).used == 120


def _nothing_approved(ids, medal_id, district_id, used=0):
    db.session.expire_all()
    statuses = set(db.session.scalars(select(Nomination.status).where(Nomination.id.in_(ids))))
    assert "approved" not in statuses
    from award_service.audit.models import AuditEvent

    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "nomination.approve", AuditEvent.object_id.in_([str(i) for i in ids]))
        )
        == 0
    )
    assert db.session.get(MedalQuota, (medal_id, district_id)).used == used


@pytest.mark.parametrize("odd_state", ["submitted", "approved", "withdrawn"])
def test_bulk_is_all_or_nothing_when_one_is_in_the_wrong_state(cast, odd_state):
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(20)]
    odd = advance(nominate(cast.nominator), odd_state, cast)
    ids = [n.id for n in batch] + [odd.id]
    with pytest.raises(Conflict) as exc:
        transitions.bulk_transition(db.session, actor(cast.commission), ids, "approve", **DECREE)
    assert exc.value.code == "invalid_transition"
    _nothing_approved(
        [n.id for n in batch], batch[0].medal_id, batch[0].district_id, used=1 if odd_state == "approved" else 0
    )


def test_bulk_is_all_or_nothing_when_the_quota_runs_out(cast):
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(12)]
    quota = db.session.get(MedalQuota, (batch[0].medal_id, batch[0].district_id))
    quota.quota = 11
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        transitions.bulk_transition(db.session, actor(cast.commission), [n.id for n in batch], "approve", **DECREE)
    # the numbers as they are (nothing of this decree was kept), and how many it asked for
    assert exc.value.code == "quota_exceeded" and exc.value.extra == {"quota": 11, "used": 0, "requested": 12}
    with force_locale("en"):
        assert str(exc.value.message) == (
            "The quota of Zhezkazgan city for this medal is 11 and 0 are used: 11 left, "
            "fewer than the 12 chosen. Nothing was approved."
        )
    _nothing_approved([n.id for n in batch], batch[0].medal_id, batch[0].district_id)
    # the quota full: the plain message
    transitions.bulk_transition(db.session, actor(cast.commission), [n.id for n in batch[:11]], "approve", **DECREE)
    more = [advance(nominate(cast.nominator), "recommended", cast).id for _ in range(2)]
    with pytest.raises(Conflict) as exc:
        transitions.bulk_transition(db.session, actor(cast.commission), more, "approve", **DECREE)
    assert exc.value.extra == {"quota": 11, "used": 11}
    with force_locale("en"):
        assert "is 11 and 11 are used: no more can be approved" in str(exc.value.message)


def test_a_decree_over_two_districts_takes_each_quota(cast):
    here = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(3)]
    there = [
        advance(nominate(cast.far_nominator, district="karazhal"), "recommended", cast, reviewer=cast.far_reviewer)
        for _ in range(2)
    ]
    transitions.bulk_transition(db.session, actor(cast.commission), [n.id for n in here + there], "approve", **DECREE)
    db.session.expire_all()
    assert db.session.get(MedalQuota, (here[0].medal_id, here[0].district_id)).used == 3
    assert db.session.get(MedalQuota, (there[0].medal_id, there[0].district_id)).used == 2


def test_bulk_input_errors(cast):
    batch = [advance(nominate(cast.nominator), "submitted", cast) for _ in range(3)]
    ids = [n.id for n in batch]
    with pytest.raises(ValidationFailed) as exc:
        transitions.bulk_transition(db.session, actor(cast.reviewer), ids, "return")
    assert set(exc.value.fields) == {"comment"}
    with pytest.raises(ValidationFailed):
        transitions.bulk_transition(db.session, actor(cast.reviewer), [], "recommend")
    with pytest.raises(ValidationFailed):
        transitions.bulk_transition(db.session, actor(cast.reviewer), ["x"], "recommend")
    with pytest.raises(NotFound):
        transitions.bulk_transition(db.session, actor(cast.reviewer), [*ids, 999999], "recommend")
    with pytest.raises(Forbidden):
        transitions.bulk_transition(db.session, actor(cast.far_reviewer), ids, "recommend")
    assert {reload(i).status for i in ids} == {"submitted"}
    done = transitions.bulk_transition(db.session, actor(cast.reviewer), ids + ids[:1], "return", comment="Анықтама")
    assert {n.status for n in done} == {"returned"} and len(done) == 3
    assert {n.last_comment for n in done} == {"Анықтама"}


# -------------------------------------------------------------- documents


def small_pdf() -> bytes:
    """A real one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
    ]
    stream = b"BT /F1 18 Tf 72 760 Td (Archive certificate 1943) Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def small_png() -> bytes:
    """A real 2×2 RGB PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_small_pdf_is_well_formed():
    pdf = small_pdf()
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[startxref:].startswith(b"xref")
    assert pdf.endswith(b"%%EOF\n")


def documents_of(nomination_id) -> list[NominationDocument]:
    db.session.expire_all()
    return list(db.session.scalars(select(NominationDocument).where(NominationDocument.nomination_id == nomination_id)))


@pytest.mark.parametrize(
    "filename, data, content_type",
    [
        ("анықтама.pdf", small_pdf(), "application/pdf"),
        ("photo.png", small_png(), "image/png"),
        (
            "scan.jpg",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9",
            "image/jpeg",
        ),
        ("misnamed.txt", small_pdf(), "application/pdf"),  # the content decides, not the name
    ],
)
def test_documents_accepted_by_content(cast, filename, data, content_type):
    nomination = nominate(cast.nominator)
    document = service.add_document(db.session, actor(cast.nominator), nomination, filename, data)
    [stored] = documents_of(nomination.id)
    assert (stored.filename, stored.content_type, stored.size, stored.data) == (filename, content_type, len(data), data)
    import hashlib

    assert stored.sha256 == hashlib.sha256(data).hexdigest() and document.id == stored.id
    assert audit_actions(nomination.id)[-1].action == "nomination.document_add"


@pytest.mark.parametrize(
    "filename, data, words",
    [
        ("certificate.pdf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "none of them"),
        ("certificate.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "none of them"),
        ("certificate.pdf", b"<html><body>%PDF-1.4</body></html>", "none of them"),
        ("certificate.pdf", b"", "empty"),
        ("certificate.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "10 MB"),
    ],
)
def test_documents_refused(cast, filename, data, words):
    nomination = nominate(cast.nominator)
    with pytest.raises(ValidationFailed) as exc:
        service.add_document(db.session, actor(cast.nominator), nomination, filename, data)
    with force_locale("en"):
        assert words in str(exc.value.fields["document"])
    assert documents_of(nomination.id) == []
    assert [e.action for e in audit_actions(nomination.id)] == ["nomination.create"]


def test_a_document_of_exactly_10_mb_is_accepted(cast):
    nomination = nominate(cast.nominator)
    data = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 - 9)
    service.add_document(db.session, actor(cast.nominator), nomination, "big.pdf", data)
    assert [d.size for d in documents_of(nomination.id)] == [10 * 1024 * 1024]


def test_documents_only_until_recommended(cast):
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    with pytest.raises(Conflict):
        service.add_document(db.session, actor(cast.nominator), nomination, "late.pdf", small_pdf())
    assert documents_of(nomination.id) == []


def test_documents_only_by_a_nominator_of_the_district(cast):
    nomination = nominate(cast.nominator)
    for user in (cast.far_nominator, cast.clerk, cast.organiser):
        with pytest.raises(Forbidden):
            service.add_document(db.session, actor(user), nomination, "x.pdf", small_pdf())
    assert documents_of(nomination.id) == []
    service.add_document(db.session, actor(cast.nominator2), nomination, "x.pdf", small_pdf())
    assert len(documents_of(nomination.id)) == 1


# ---------------------------------------------------------------- editing


def test_editing_a_returned_nomination_and_resubmitting(cast):
    nomination = advance(nominate(cast.nominator, given_name="Қайрат"), "returned", cast)
    version = nomination.version
    edited = service.update_nomination(
        db.session,
        actor(cast.nominator),
        nomination,
        {"nominee": {"given_name": "Қайыржан", "address": "Сәтбаев қ."}, "grounds": "Толықтырылды"},
    )
    assert edited.version == version + 1 and edited.nominee.given_name == "Қайыржан"
    event = audit_actions(nomination.id)[-1]
    assert event.action == "nomination.update"
    assert event.before["given_name"] == "Қайрат" and event.after["given_name"] == "Қайыржан"
    assert advance(reload(nomination.id), "submitted", cast).status == "submitted"


def test_editing_is_refused_outside_draft_and_returned_and_outside_the_district(cast):
    submitted = advance(nominate(cast.nominator), "submitted", cast)
    with pytest.raises(Conflict):
        service.update_nomination(db.session, actor(cast.nominator), submitted, {"grounds": "x"})
    draft = nominate(cast.nominator)
    for user in (cast.far_nominator, cast.reviewer, cast.commission):
        with pytest.raises(Forbidden):
            service.update_nomination(db.session, actor(user), draft, {"grounds": "x"})
    with pytest.raises(ValidationFailed) as exc:
        service.update_nomination(
            db.session, actor(cast.nominator), draft, {"nominee": {"iin": "123", "birth_date": "2090-01-01"}}
        )
    assert set(exc.value.fields) == {"nominee.iin", "nominee.birth_date"}


def test_an_edit_based_on_a_stale_read_does_not_overwrite_a_submission(app, cast):
    """The nominator's edit was read while the nomination was returned; it is
    submitted meanwhile (another session).  The edit must be refused, not
    silently applied to the submitted nomination."""
    nomination = advance(nominate(cast.nominator, given_name="Қайрат"), "returned", cast)
    nomination_id, version = nomination.id, nomination.version
    submitter = cast.nominator2
    db.session.refresh(nomination)
    db.session.refresh(nomination.nominee)
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()  # end the read, keep the loaded (soon stale) state
        with app.app_context():  # another session
            assert db.session() is not session
            other = db.session.get(Nomination, nomination_id)
            transitions.transition(db.session, actor(submitter), other, "submit")
        assert nomination.status == "returned"  # what the edit was based on
        with pytest.raises(Conflict) as exc:
            service.update_nomination(
                db.session, actor(cast.nominator), nomination, {"nominee": {"given_name": "Қайыржан"}}
            )
        assert exc.value.code == "conflict", exc.value.message
    finally:
        session.expire_on_commit = True
    after = reload(nomination_id)
    assert after.status == "submitted" and after.version == version + 1
    assert after.nominee.given_name == "Қайрат"


def test_a_decree_number_sent_as_a_json_number_is_taken(client, token_for, cast):
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    response = act(
        client, token_for(cast.commission), nomination.id, "approve", decree_number=45, decree_date="2025-04-28"
    )
    assert response.status_code == 200, response.json
    assert reload(nomination.id).decree_number == "45"


def test_a_decree_outside_the_medals_years_is_refused(en_client, token_for, cast):
    from award_service.medals.models import Medal

    medal = db.session.scalar(select(Medal).where(Medal.code == MEDAL_CODE))
    medal.award_year_from, medal.award_year_to = 2025, 2025
    db.session.commit()
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    response = act(
        en_client, token_for(cast.commission), nomination.id, "approve", decree_number="45", decree_date="2024-12-30"
    )
    assert response.status_code == 422
    assert "2025–2025" in response.json["error"]["fields"]["decree_date"]
    assert reload(nomination.id).status == "recommended"
    bulk = transitions.bulk_transition
    with pytest.raises(ValidationFailed):
        bulk(
            db.session, actor(cast.commission), [nomination.id], "approve", decree_number="45", decree_date="2024-12-30"
        )
