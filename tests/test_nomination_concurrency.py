"""Nominations under real concurrency, on PostgreSQL: a threaded HTTP server (each
request its own connection from the pool) or threads with their own sessions,
released together by a barrier.  The quota is never exceeded; two people acting
on one nomination leave exactly one winner; a decree's list is all or nothing;
no request ends in a 500."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import requests
from sqlalchemy import func, select

from award_service.audit.models import AuditEvent
from award_service.errors import DomainError
from award_service.extensions import db
from award_service.medals import service as medals
from award_service.medals.models import Medal, MedalQuota
from award_service.nominations import transitions
from award_service.nominations.models import Nomination

from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import DECREE, MEDAL_CODE, actor, advance, make_iin, nominate, nominee_data


@pytest.fixture
def live_server(require_postgres, live_server):
    """The shared live server (tests/conftest.py), on PostgreSQL only."""
    return live_server


def storm(calls: list) -> list:
    """Run every ``call(wait)`` in its own thread; each calls ``wait()`` just before acting."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        return call(lambda: barrier.wait(timeout=30))

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def post(base_url: str, path: str, headers: dict, body: dict):
    def call(wait):
        with requests.Session() as http:  # its own TCP connection
            wait()
            return http.post(f"{base_url}{path}", json=body, headers=headers, timeout=120)

    return call


def transition_call(base_url, headers, nomination_id, action, **extra):
    return post(base_url, f"/api/v1/nominations/{nomination_id}/transitions", headers, {"action": action, **extra})


def quota_row(medal_id, district_id) -> MedalQuota:
    db.session.expire_all()
    return db.session.get(MedalQuota, (medal_id, district_id))


def set_quota(cast, number: int) -> None:
    medals.set_quotas(db.session, actor(cast.admin), medals.get_medal(db.session, MEDAL_CODE), {"zhezkazgan": number})


# ------------------------------------------------------------------- quota


@pytest.mark.parametrize("round_", range(3))
def test_quota_of_one_hit_by_ten_simultaneous_approvals(live_server, staff_user, token_for, cast, round_):
    _, base_url = live_server
    set_quota(cast, 1)
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(10)]
    approvers = [staff_user("commission") for _ in range(10)]
    responses = storm(
        [transition_call(base_url, token_for(user), n.id, "approve", **DECREE) for user, n in zip(approvers, batch)]
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 9}, statuses
    refused = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {e["code"] for e in refused} == {"quota_exceeded"}
    assert {(e["quota"], e["used"]) for e in refused} == {(1, 1)}
    quota = quota_row(batch[0].medal_id, batch[0].district_id)
    assert (quota.quota, quota.used) == (1, 1)
    approved = db.session.scalars(select(Nomination).where(Nomination.status == "approved")).all()
    assert len(approved) == 1
    winner = next(n for n, r in zip(batch, responses) if r.status_code == 200)
    assert approved[0].id == winner.id and approved[0].decree_number == "45"
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "nomination.approve"))
        == 1
    )


def test_quota_of_five_hit_by_twenty_approvals(live_server, staff_user, token_for, cast):
    _, base_url = live_server
    set_quota(cast, 5)
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(20)]
    headers = token_for(cast.commission)
    responses = storm([transition_call(base_url, headers, n.id, "approve", **DECREE) for n in batch])
    assert Counter(r.status_code for r in responses) == {200: 5, 409: 15}
    assert quota_row(batch[0].medal_id, batch[0].district_id).used == 5
    assert db.session.scalar(select(func.count()).select_from(Nomination).where(Nomination.status == "approved")) == 5


# ------------------------------------------------------- one nomination, two people


@pytest.mark.parametrize(
    "first, second, state, pin_version",
    [
        (("reviewer", "recommend"), ("reviewer2", "reject"), "submitted", False),
        (("reviewer", "recommend"), ("reviewer2", "recommend"), "submitted", False),
        (("reviewer", "reject"), ("nominator", "withdraw"), "submitted", False),
        (("commission", "approve"), ("commission2", "reject"), "recommended", False),
        (("commission", "approve"), ("nominator", "withdraw"), "recommended", False),
        # withdrawing a returned nomination is allowed, so the two could both pass one
        # after the other; with the version both acted on, one of them is refused
        (("reviewer", "return"), ("nominator", "withdraw"), "submitted", True),
    ],
)
def test_two_people_at_once_on_one_nomination_leave_one_winner(
    live_server, token_for, cast, first, second, state, pin_version
):
    _, base_url = live_server
    extra = {"comment": "Бір уақытта / одновременно", **DECREE}
    for _ in range(8):
        nomination = advance(nominate(cast.nominator), state, cast)
        if pin_version:
            extra["version"] = nomination.version
        events_before = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.object_type == "nomination", AuditEvent.object_id == str(nomination.id))
        )
        calls = [
            transition_call(base_url, token_for(getattr(cast, who)), nomination.id, action, **extra)
            for who, action in (first, second)
        ]
        responses = storm(calls)
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [(r.status_code, r.text) for r in responses]
        loser = next(r for r in responses if r.status_code == 409).json()["error"]
        assert loser["code"] in ("conflict", "invalid_transition"), loser
        assert loser["message"]
        winner = next(r for r in responses if r.status_code == 200).json()
        db.session.expire_all()
        final = db.session.get(Nomination, nomination.id)
        assert final.status == winner["status"]
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "nomination", AuditEvent.object_id == str(nomination.id))
            .order_by(AuditEvent.id)
        ).all()
        assert len(events) == events_before + 1 and events[-1].after["status"] == final.status


def test_ten_simultaneous_nominations_of_one_person(live_server, staff_user, token_for, cast):
    """Ten nominators enter the same IIN for the same medal at once: one is saved,
    nine are told which nomination already holds the place."""
    _, base_url = live_server
    value = make_iin(date(1927, 3, 14))
    nominators = [staff_user("nominator", district="zhezkazgan") for _ in range(10)]
    body = {"nominee": nominee_data(iin=value, birth_date="1927-03-14"), "medal": MEDAL_CODE, "grounds": "x"}
    responses = storm([post(base_url, "/api/v1/nominations", token_for(u), body) for u in nominators])
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
    created = next(r for r in responses if r.status_code == 201).json()["id"]
    assert {
        (r.json()["error"]["code"], r.json()["error"]["existing_id"]) for r in responses if r.status_code == 409
    } == {("duplicate_nominee", created)}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Nomination).where(Nomination.iin == value)) == 1


# ------------------------------------------------- bulk, threads with own sessions


def in_own_session(app, work):
    """``work(session)`` in a new app context: its own session and connection."""

    def call(wait):
        with app.app_context():
            try:
                wait()
                return work(db.session)
            except DomainError as exc:
                db.session.rollback()
                return exc
            finally:
                db.session.remove()

    return call


def test_two_decrees_racing_for_the_last_places_are_each_all_or_nothing(live_server, cast):
    app, _ = live_server
    set_quota(cast, 5)
    first = [advance(nominate(cast.nominator), "recommended", cast).id for _ in range(5)]
    second = [advance(nominate(cast.nominator), "recommended", cast).id for _ in range(5)]
    commission_id, commission2_id = cast.commission.id, cast.commission2.id

    def bulk(user_id, ids, number):
        def work(session):
            from award_service.accounts.models import User

            user = session.get(User, user_id)
            done = transitions.bulk_transition(
                session, actor(user), ids, "approve", decree_number=number, decree_date="2025-04-28"
            )
            return [n.id for n in done]

        return work

    results = storm(
        [in_own_session(app, bulk(commission_id, first, "45")), in_own_session(app, bulk(commission2_id, second, "46"))]
    )
    won = [r for r in results if isinstance(r, list)]
    lost = [r for r in results if not isinstance(r, list)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code == "quota_exceeded"
    db.session.expire_all()
    approved = set(db.session.scalars(select(Nomination.id).where(Nomination.status == "approved")))
    assert approved == set(won[0])
    medal = medals.get_medal(db.session, MEDAL_CODE)
    db.session.refresh(medal)
    assert medal.quota_for(db.session.get(Nomination, first[0]).district_id).used == 5


def test_lowering_a_quota_while_approvals_run_never_leaves_used_above_it(live_server, token_for, cast):
    _app, base_url = live_server
    set_quota(cast, 10)
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(10)]
    headers = token_for(cast.commission)
    admin_headers = token_for(cast.admin)
    calls = [transition_call(base_url, headers, n.id, "approve", **DECREE) for n in batch]
    calls.append(
        lambda wait: (
            wait(),
            requests.put(
                f"{base_url}/api/v1/medals/{MEDAL_CODE}/quotas",
                json={"zhezkazgan": 4},
                headers=admin_headers,
                timeout=120,
            ),
        )[1]
    )
    responses = storm(calls)
    assert all(r.status_code in (200, 409, 422) for r in responses), Counter(r.status_code for r in responses)
    approvals = sum(1 for r in responses[:-1] if r.status_code == 200)
    quota = quota_row(batch[0].medal_id, batch[0].district_id)
    assert quota.used == approvals <= quota.quota
    if responses[-1].status_code == 200:
        assert quota.quota == 4 and approvals <= 4
    else:
        assert quota.quota == 10 and approvals > 4


@pytest.mark.parametrize("round_", range(3))
def test_a_single_approval_racing_a_decree_that_includes_it(live_server, token_for, cast, round_):
    """One commission member approves nomination X while another approves a list
    under a decree that ends with X: one of them gets X, no deadlock, no 500, and
    the decree is all or nothing."""
    app, base_url = live_server
    batch = [advance(nominate(cast.nominator), "recommended", cast).id for _ in range(30)]
    target = max(batch)
    commission_id = cast.commission2.id
    headers = token_for(cast.commission)

    def bulk(session):
        from award_service.accounts.models import User

        return [
            n.id
            for n in transitions.bulk_transition(
                session, actor(session.get(User, commission_id)), batch, "approve", **DECREE
            )
        ]

    def guarded(call):
        def run(wait):
            try:
                return call(wait)
            except Exception as exc:
                return exc

        return run

    decree, single = storm(
        [guarded(in_own_session(app, bulk)), transition_call(base_url, headers, target, "approve", **DECREE)]
    )
    assert single.status_code in (200, 409), (single.status_code, single.text)
    assert isinstance(decree, (list, DomainError)), repr(decree)
    db.session.expire_all()
    approved = set(db.session.scalars(select(Nomination.id).where(Nomination.status == "approved")))
    if single.status_code == 200:
        assert isinstance(decree, DomainError) and decree.code in ("conflict", "invalid_transition")
        assert approved == {target}
    else:
        assert single.json()["error"]["code"] in ("conflict", "invalid_transition")
        assert approved == set(batch)
    assert quota_row(
        db.session.get(Nomination, target).medal_id, db.session.get(Nomination, target).district_id
    ).used == len(approved)


# ------------------------------------------------------------------ serials


def test_fifty_simultaneous_approvals_get_fifty_consecutive_serials(live_server, staff_user, token_for, cast):
    """Each approval takes the medal's next number in its own transaction: no
    repeats, no gaps, whatever order the commits land in."""
    from award_service.awards.models import Award

    _, base_url = live_server
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(50)]
    approvers = [staff_user("commission") for _ in range(5)]
    responses = storm(
        [transition_call(base_url, token_for(approvers[i % 5]), n.id, "approve", **DECREE) for i, n in enumerate(batch)]
    )
    assert Counter(r.status_code for r in responses) == {200: 50}, [r.text for r in responses if r.status_code != 200]
    db.session.expire_all()
    serials = sorted(db.session.scalars(select(Award.serial).where(Award.nomination_id.in_([n.id for n in batch]))))
    assert serials == [f"ULY-{i:05d}" for i in range(1, 51)]
    counter = db.session.scalar(select(Medal.serial_counter).where(Medal.code == MEDAL_CODE))
    assert counter == 50
