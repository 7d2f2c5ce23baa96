"""Demo nominations for the 80th-anniversary jubilee medal in the Ulytau region.

Sized from the region's real figures: the 397 home-front workers of
Zhezkazgan (its whole quota), and front veterans, home-front workers, siege
survivors, partisans and others in Satbayev, Karazhal and the Ulytau and
Zhanaarka districts.  Every nomination goes through the real workflow, by the
service functions, as the right (distinct) staff member: a district
nominator enters and submits, the district reviewer recommends, returns or
rejects, a regional commission member approves under a decree, returns or
rejects.  Three deliberate likely duplicates (Жанболатов / Джанбулатов,
Cyrillic / Latin spelling, Әбдірахманов / Абдрахманов; same birth date) are
entered last, so the service flags them.

``awarded`` is not reached: the service has no transition into it yet (the
certificates work will add it when a medal is presented).

Deterministic (a fixed random seed); skipped when the medal already exists.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..actor import Actor
from ..awards import service as awards_service
from ..awards.models import Award
from ..ceremonies.models import Ceremony
from ..mail.outbox import SUPPRESSED
from ..medals.models import Medal
from ..medals.service import create_medal
from ..nominations import service, transitions
from .people import (
    CORRECTION_NOTE,
    OTHER_CATEGORIES,
    REJECT_REASONS_COMMISSION,
    REJECT_REASONS_REVIEWER,
    RETURN_REASONS_COMMISSION,
    RETURN_REASONS_REVIEWER,
    WITHDRAW_REASONS,
    People,
    Person,
    address_text,
    grounds_text,
)
from .staff import staff_accounts

MEDAL: dict[str, Any] = {
    "code": "victory80",
    "name_kk": "1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы",
    "name_ru": "80 лет Победы в Великой Отечественной войне 1941–1945 гг.",
    "name_en": "80 Years of Victory in the Great Patriotic War 1941–1945",
    "serial_prefix": "ULY",
    "award_year_from": 2025,
    # Open-ended: whoever tries the demo approves under a decree dated the day they
    # try it, whatever the year (a closed 2025 range refused every decree from 2026).
    "award_year_to": None,
    "signer_title_kk": "Ұлытау облысының әкімі",
    "signer_title_ru": "Аким области Ұлытау",
    "signer_name": "Б. Т. Сәрсенбаев",
}
VICTORY_CEREMONY = "Ұлы Жеңіс — ұрпаққа мұра"
PRESENTED_ON = date(2025, 5, 9)
# Zhezkazgan's is the real figure; the others are sized to the towns.  Ulytau's
# quota is used up by the demo, so its commission sees a full quota.
QUOTAS = {"zhezkazgan": 397, "satbayev": 150, "karazhal": 60, "ulytau": 12, "zhanaarka": 70}
DECREES = (("45", date(2025, 4, 28)), ("52", date(2025, 5, 5)))

# Final states per district.  "returned" and "rejected" are split between the
# reviewer (from submitted) and the commission (from recommended); a few
# nominations are returned once, corrected and resubmitted on their way.
PLAN = {
    #             approved recommended submitted returned rejected withdrawn draft
    "zhezkazgan": (300, 30, 28, 12, 9, 6, 12),
    "satbayev": (38, 8, 9, 4, 3, 3, 5),
    "karazhal": (16, 3, 4, 2, 1, 1, 3),
    "ulytau": (12, 3, 2, 1, 1, 1, 2),
    "zhanaarka": (20, 4, 5, 2, 2, 2, 3),
}
FINAL_STATES = ("approved", "recommended", "submitted", "returned", "rejected", "withdrawn", "draft")
RESUBMITTED_PER_DISTRICT = 2  # of the approved: returned once, corrected, resubmitted

# ----------------------------------------------------------------- load


def load_nominations(session, *, password: str) -> dict:
    """The medal, its staff and the nominations (nothing when the medal exists).

    Runs in a session of its own, on one connection, that keeps loaded
    objects after each commit: the services commit every step (about 800
    commits), and reloading the acting user and the medal after each one
    would cost as much again; the services refresh what they change
    themselves.  On SQLite (WAL) the commits skip the fsync while the demo
    loads (``synchronous = NORMAL``: still atomic and consistent; only the
    durability of the last commits before a power cut is given up).
    """
    with session.get_bind().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            previous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
            connection.exec_driver_sql("PRAGMA synchronous = NORMAL")
            connection.commit()  # the session must begin (and commit) its own transactions
        try:
            # Mail suppressed on the caller's session is suppressed on this one too.
            info = {SUPPRESSED: True} if session.info.get(SUPPRESSED) else {}
            with Session(connection, expire_on_commit=False, info=info) as work:
                return _load(work, password)
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql(f"PRAGMA synchronous = {int(previous)}")
                connection.commit()


def _load(session, password: str) -> dict:
    actor = Actor.system("demo")
    if session.scalar(select(Medal.id).where(Medal.code == MEDAL["code"])) is not None:
        return {"medals": 0, "nominations": 0}
    staff, created_staff = staff_accounts(session, actor, password)
    create_medal(session, actor, {**MEDAL, "quotas": dict(QUOTAS)})

    actors = {key: [Actor(user=session.get(User, i), label="demo") for i in ids] for key, ids in staff.items()}

    def user(district, role, n=0) -> Actor:
        return actors[(district, role)][n % len(actors[(district, role)])]

    people = People()
    rng = people.rng
    # Who is who: (person, final state, path detail)
    entries: list[tuple[Person, str, str]] = []
    for district, counts in PLAN.items():
        finals: list[str] = []
        for state, count in zip(FINAL_STATES, counts):
            finals.extend([state] * count)
        for i, state in enumerate(finals):
            if district == "zhezkazgan":
                category = "home_front_worker"
            else:
                category = rng.choices([c for c, _ in OTHER_CATEGORIES], [w for _, w in OTHER_CATEGORIES])[0]
            detail = ""
            if state in ("returned", "rejected"):
                detail = "reviewer" if i % 2 == 0 else "commission"
            elif state == "approved" and finals.index("approved") + RESUBMITTED_PER_DISTRICT > i:
                detail = "resubmitted"
            elif state == "withdrawn" and i == finals.index("withdrawn"):
                detail = "from_draft"
            entries.append((people.make(category, district), state, detail))

    # The originals of the deliberate likely duplicates, in known states.
    def original(district, state, **fields) -> Person:
        for person, s, detail in entries:
            if person.district == district and s == state and not detail and not person.extra:
                people.iins.discard(person.iin)
                for key, value in fields.items():
                    setattr(person, key, value)
                person.iin = people.iin_for(person.birth_date, person.female)
                person.grounds = grounds_text(rng, person.category, district, person.female, person.kk)
                person.extra["original"] = True
                people.reserve(person)
                return person
        raise LookupError(district)

    orig1 = original(
        "zhezkazgan",
        "approved",
        surname="Жанболатов",
        given_name="Серік",
        patronymic="Әбенұлы",
        female=False,
        birth_date=date(1929, 3, 14),
    )
    orig2 = original(
        "zhezkazgan",
        "submitted",
        surname="Құдайбергенова",
        given_name="Гүлсім",
        patronymic="Оспанқызы",
        female=True,
        birth_date=date(1931, 11, 2),
    )
    orig3 = original(
        "ulytau",
        "recommended",
        surname="Әбдірахманов",
        given_name="Төлеген",
        patronymic="Ысқақұлы",
        female=False,
        birth_date=date(1925, 6, 22),
        category="front_veteran",
    )
    # The likely duplicates: entered later elsewhere from archive papers, without
    # an IIN (the second in the 2021 Kazakh Latin alphabet).
    duplicates = [
        (
            Person(
                "Джанбулатов",
                "Серик",
                "Абенович",
                orig1.birth_date,
                False,
                "home_front_worker",
                "karazhal",
                False,
                None,
                address_text(rng, "karazhal", False),
                None,
                "В 1943–1945 гг. работал на Джездинском марганцевом руднике откатчиком. Сведения из архивной "
                "справки; ИИН не указан.",
            ),
            "draft",
        ),
        (
            Person(
                "Qūdaibergenova",
                "Gülsım",
                "",
                orig2.birth_date,
                True,
                "home_front_worker",
                "satbayev",
                True,
                None,
                address_text(rng, "satbayev", True),
                None,
                "1942–1945 jyldary Jezqazğan mys kenışınde eñbek etken. Mūrağat anyqtamasy boiynşa; JSN körsetılmegen.",
            ),
            "submitted",
        ),
        (
            Person(
                "Абдрахманов",
                "Тулеген",
                "Исхакович",
                orig3.birth_date,
                False,
                "front_veteran",
                "zhanaarka",
                False,
                None,
                address_text(rng, "zhanaarka", False),
                None,
                "Призван в 1943 г. Жанааркинским РВК. Воевал на 2-м Белорусском фронте. Сведения из "
                "военкомата; ИИН не указан.",
            ),
            "submitted",
        ),
    ]

    # 1. Entered by the district's nominators (Zhezkazgan has two).
    ids: dict[str, list[tuple[int, str, str, int]]] = {}  # district -> [(id, state, detail, nominator role idx)]
    counter: dict[str, int] = {}
    for person, state, detail in entries:
        n = counter[person.district] = counter.get(person.district, -1) + 1
        nominator = user(person.district, "nominator", n)
        nomination = service.create_nomination(session, nominator, person.payload(MEDAL["code"]))
        ids.setdefault(person.district, []).append((nomination.id, state, detail, n))

    def bulk(actor, chosen, action, **kwargs):
        for start in range(0, len(chosen), 1000):
            transitions.bulk_transition(session, actor, chosen[start : start + 1000], action, **kwargs)

    def one(actor, nomination_id, action, **kwargs):
        transitions.transition(session, actor, service.get_nomination(session, nomination_id), action, **kwargs)

    # 2. Submitted by the nominators; one withdrawn straight from draft.
    for district, rows in ids.items():
        bulk(user(district, "nominator"), [i for i, s, d, _ in rows if s != "draft" and d != "from_draft"], "submit")
        for i, _s, d, _ in rows:
            if d == "from_draft":
                one(user(district, "nominator"), i, "withdraw", comment=WITHDRAW_REASONS[2])

    # 3. The reviewers: return / reject with their reasons, recommend the rest.
    k = 0
    for district, rows in ids.items():
        reviewer = user(district, "reviewer")
        for i, s, d, _ in rows:
            if d == "resubmitted" or (s == "returned" and d == "reviewer"):
                one(reviewer, i, "return", comment=RETURN_REASONS_REVIEWER[k % len(RETURN_REASONS_REVIEWER)])
                k += 1
            elif s == "rejected" and d == "reviewer":
                one(reviewer, i, "reject", comment=REJECT_REASONS_REVIEWER[k % len(REJECT_REASONS_REVIEWER)])
                k += 1
        bulk(
            reviewer,
            [
                i
                for i, s, d, _ in rows
                if d != "resubmitted"
                and (s in ("approved", "recommended") or (s in ("returned", "rejected") and d == "commission"))
            ],
            "recommend",
        )

    # 4. The nominators: withdrawals, and corrections of returned ones, resubmitted.
    for district, rows in ids.items():
        nominator = user(district, "nominator")
        for i, s, d, _ in rows:
            if s == "withdrawn" and d != "from_draft":
                one(nominator, i, "withdraw", comment=WITHDRAW_REASONS[k % 2])
                k += 1
            elif d == "resubmitted":
                nomination = service.get_nomination(session, i)
                service.update_nomination(
                    session, nominator, nomination, {"grounds": nomination.grounds + "\n\n" + CORRECTION_NOTE}
                )
                one(nominator, i, "submit")
        bulk(user(district, "reviewer"), [i for i, s, d, _ in rows if d == "resubmitted"], "recommend")

    # 5. The regional commission: returns and rejections, then approval in bulk under the decrees.
    for rows in ids.values():
        for i, s, d, _ in rows:
            if s == "returned" and d == "commission":
                one(
                    user(None, "commission", 1),
                    i,
                    "return",
                    comment=RETURN_REASONS_COMMISSION[k % len(RETURN_REASONS_COMMISSION)],
                )
                k += 1
            elif s == "rejected" and d == "commission":
                one(
                    user(None, "commission", 1),
                    i,
                    "reject",
                    comment=REJECT_REASONS_COMMISSION[k % len(REJECT_REASONS_COMMISSION)],
                )
                k += 1
    to_approve = [i for rows in ids.values() for i, s, d, _ in rows if s == "approved"]
    zhez = {i for i, *_ in ids["zhezkazgan"]}
    second = [i for i in to_approve if i in zhez][-60:]  # the later Zhezkazgan list, under the second decree
    first = [i for i in to_approve if i not in set(second)]
    (number1, date1), (number2, date2) = DECREES
    bulk(
        user(None, "commission", 0),
        first,
        "approve",
        comment="Комиссия отырысының хаттамасы № 3",
        decree_number=number1,
        decree_date=date1,
    )
    bulk(
        user(None, "commission", 1),
        second,
        "approve",
        comment="Протокол заседания комиссии № 4",
        decree_number=number2,
        decree_date=date2,
    )

    # 6. The clerks: Ulytau's medals were presented on 9 May 2025 (their
    #    nominations are "awarded"); Zhezkazgan's wait for the Victory Day
    #    ceremony on Alash Square, attached to it for printing.
    district_of = {i: district for district, rows in ids.items() for i, *_ in rows}
    register = session.execute(select(Award.serial, Award.nomination_id).order_by(Award.id)).all()
    presented = [serial for serial, n in register if district_of.get(n) == "ulytau"]
    if presented:
        awards_service.mark_presented(session, actor, presented, PRESENTED_ON)
    ceremony = session.scalar(select(Ceremony).where(Ceremony.title_kk == VICTORY_CEREMONY))
    zhezkazgan = [serial for serial, n in register if district_of.get(n) == "zhezkazgan"]
    if ceremony is not None and zhezkazgan:
        awards_service.attach_to_ceremony(session, actor, ceremony, zhezkazgan)

    # 7. The likely duplicates, entered last: the service flags them.  Two are
    #    submitted after the nominator confirmed a different person was meant.
    flagged = 0
    for person, state in duplicates:
        nominator = user(person.district, "nominator")
        nomination = service.create_nomination(session, nominator, person.payload(MEDAL["code"]))
        flagged += bool(nomination.possible_duplicate)
        if state == "submitted":
            transitions.transition(
                session,
                nominator,
                nomination,
                "submit",
                confirm_duplicate=True,
                comment="Сверено с архивной справкой: по мнению выдвигающего, это другой человек.",
            )

    total = len(entries) + len(duplicates)
    return {"medals": 1, "nomination staff": created_staff, "nominations": total, "likely duplicates": flagged}
