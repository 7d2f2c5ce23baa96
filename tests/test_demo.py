"""The demo data: loaded from empty through the CLI, then checked as a reviewer
of the region would check it (numbers, states, IINs, quotas, names, duplicates)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from award_service.accounts.models import User
from award_service.audit.models import AuditEvent
from award_service.districts.models import District
from award_service.extensions import db
from award_service.medals.models import Medal, MedalQuota
from award_service.nominations import duplicates, iin, workflow
from award_service.nominations.models import STATUSES, Nomination, Nominee

KAZAKH_LETTERS = "ӘҒҚҢӨҰҮҺІ"


def _rows():
    return db.session.execute(
        select(Nomination, Nominee, District.code)
        .join(Nominee, Nominee.id == Nomination.nominee_id)
        .join(District, District.id == Nomination.district_id)
    ).all()


def test_demo_loads_from_empty_once_and_holds_what_the_region_expects(app, runner):
    # Loaded through the CLI, as `make run` does; once only; no secret printed.
    first = runner.invoke(args=["demo", "load", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "560 nominations" in first.output and "3 likely duplicates" in first.output
    assert "demo-password-2025" not in first.output
    # Its people are fictitious: no e-mail is queued for them (``--mail`` would).
    from award_service.mail.models import OutboxMessage

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    second = runner.invoke(args=["demo", "load", "--if-empty"])
    assert second.exit_code == 0 and "nothing loaded" in second.output
    # Nor twice when called without --if-empty.
    from award_service.demo.nominations import load_nominations

    assert load_nominations(db.session, password="demo-password-2025") == {"medals": 0, "nominations": 0}
    assert db.session.scalar(select(func.count()).select_from(Nomination)) == 560
    assert db.session.scalar(select(func.count()).select_from(Medal)) == 1

    rows = _rows()
    medal = db.session.scalar(select(Medal).where(Medal.code == "victory80"))
    assert medal.name_kk == "1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы"
    assert medal.name_ru == "80 лет Победы в Великой Отечественной войне 1941–1945 гг."
    assert (medal.serial_prefix, medal.award_year_from) == ("ULY", 2025)

    # The region's real figure: 397 home-front workers of Zhezkazgan.
    home_front = [n for n, nominee, code in rows if code == "zhezkazgan" and nominee.category == "home_front_worker"]
    assert len(home_front) == 397
    assert {nominee.district_id for _, nominee, _ in rows} == {n.district_id for n, _, _ in rows}
    assert {code for _, _, code in rows} == {"zhezkazgan", "satbayev", "karazhal", "ulytau", "zhanaarka"}
    categories = Counter(nominee.category for _, nominee, code in rows if code != "zhezkazgan")
    assert {"front_veteran", "home_front_worker", "siege_survivor", "partisan"} <= set(categories)

    # Every state the service can reach, "awarded" included (Ulytau's medals
    # were presented on 9 May 2025).
    statuses = Counter(n.status for n, _, _ in rows)
    reachable = {t.target for t in workflow.TRANSITIONS} | {"draft"}
    assert set(statuses) == set(STATUSES) == reachable
    assert all(statuses[s] >= 5 for s in reachable)
    assert {code for n, _, code in rows if n.status == "awarded"} == {"ulytau"}

    # Approvals carry a decree; returns and rejections a reason.
    approved = [n for n, _, _ in rows if n.status in ("approved", "awarded")]
    assert {(n.decree_number, n.decree_date) for n in approved} == {("45", date(2025, 4, 28)), ("52", date(2025, 5, 5))}
    assert all(n.last_comment for n, _, _ in rows if n.status in ("returned", "rejected"))

    # Separation of duties, by the right roles in the right district.
    users = {u.id: u for u in db.session.scalars(select(User))}
    for n in approved:
        entered, recommended, approver = users[n.created_by_id], users[n.recommended_by_id], users[n.approved_by_id]
        assert len({entered.id, recommended.id, approver.id}) == 3
        assert entered.has_role("nominator") and entered.district_id == n.district_id
        assert recommended.has_role("reviewer") and recommended.district_id == n.district_id
        assert approver.has_role("commission") and approver.district_id is None
    assert {u.email for u in users.values()} >= {
        "nominator.zhezkazgan@example.com",
        "reviewer.zhezkazgan@example.com",
        "commission.chair@example.com",
    }

    # Every transition is in the audit trail.
    actions = Counter(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "nomination")))
    assert actions["nomination.create"] == len(rows)
    assert actions["nomination.approve"] == len(approved)
    assert actions["nomination.reject"] == statuses["rejected"]

    # IINs: valid, unique, and the birth date they encode is the one given.
    iins = [nominee.iin for _, nominee, _ in rows if nominee.iin]
    assert len(iins) == len(rows) - 3  # the three archive duplicates have none
    assert len(set(iins)) == len(iins)
    for _, nominee, _ in rows:
        assert date(1920, 1, 1) <= nominee.birth_date <= date(1939, 12, 31)
        if nominee.iin:
            assert iin.parse(nominee.iin) == nominee.iin
            assert iin.birth_date_of(nominee.iin) == nominee.birth_date

    # Quotas: never exceeded, and "used" is the number approved.
    approved_per_district = Counter(n.district_id for n in approved)
    quotas = db.session.scalars(select(MedalQuota).where(MedalQuota.medal_id == medal.id)).all()
    assert {q.district.code: q.quota for q in quotas}["zhezkazgan"] == 397
    for q in quotas:
        assert q.used == approved_per_district[q.district_id] <= q.quota

    # The award register: one certificate per approval, numbered without gaps;
    # the awarded ones presented, Zhezkazgan's attached to the Victory Day ceremony.
    from award_service.awards.models import Award

    register = db.session.scalars(select(Award).order_by(Award.number)).all()
    assert [a.serial for a in register] == [f"ULY-{i:05d}" for i in range(1, len(approved) + 1)]
    assert {a.nomination_id for a in register} == {n.id for n in approved}
    by_nomination = {a.nomination_id: a for a in register}
    assert all((by_nomination[n.id].presented_on is not None) == (n.status == "awarded") for n in approved)
    assert {a.ceremony.title_kk for a in register if a.district.code == "zhezkazgan"} == {"Ұлы Жеңіс — ұрпаққа мұра"}
    assert medal.signer_title_kk == "Ұлытау облысының әкімі"

    # Someone trying the demo today can approve a recommended nomination under a
    # decree dated today (the medal's years are open-ended, not 2025 only).
    from award_service.actor import Actor
    from award_service.dates import local_today
    from award_service.nominations import transitions

    chair = db.session.scalar(select(User).where(User.email == "commission.chair@example.com"))
    waiting = next(n for n, _, code in rows if code == "zhezkazgan" and n.status == "recommended")
    done = transitions.transition(
        db.session, Actor(user=chair), waiting, "approve", decree_number="101", decree_date=local_today().isoformat()
    )
    assert (done.status, done.decree_date) == ("approved", local_today())

    # Names: Kazakh letters (all nine), both patronymic styles, search keys.
    names = [" ".join((nominee.surname, nominee.given_name, nominee.patronymic)) for _, nominee, _ in rows]
    assert {ch for ch in KAZAKH_LETTERS if any(ch in name.upper() for name in names)} == set(KAZAKH_LETTERS)
    patronymics = Counter(nominee.patronymic[-4:] for _, nominee, _ in rows)
    assert patronymics["қызы"] > 20 and patronymics["ович"] > 20 and patronymics["овна"] > 20
    assert sum(p.endswith("ұлы") for p in (nominee.patronymic for _, nominee, _ in rows)) > 20
    assert all(nominee.search_key.isascii() and nominee.search_key for _, nominee, _ in rows)
    assert all(nominee.address for _, nominee, _ in rows)
    assert all(n.grounds for n, _, _ in rows)

    # The deliberate likely duplicates are flagged, and point at the original.
    flagged = {nominee.surname: n for n, nominee, _ in rows if n.possible_duplicate}
    assert set(flagged) == {"Джанбулатов", "Qūdaibergenova", "Абдрахманов"}
    by_surname = {nominee.surname: n for n, nominee, _ in rows}
    for copy, original in (
        ("Джанбулатов", "Жанболатов"),
        ("Qūdaibergenova", "Құдайбергенова"),
        ("Абдрахманов", "Әбдірахманов"),
    ):
        n = flagged[copy]
        assert duplicates.likely_duplicates(
            db.session, medal.id, n.nominee.birth_date, n.nominee.name_skeleton, exclude_id=n.id
        ) == [by_surname[original].id]
    assert flagged["Джанбулатов"].status == "draft"
    assert flagged["Qūdaibergenova"].status == "submitted" and flagged["Qūdaibergenova"].duplicate_confirmed
