"""The staff pages of nominations and medals, driven as people use them:
queue, list, the nomination form, the nomination page with its decisions,
documents and history, bulk approval under one decree, medals and quotas."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from award_service.actor import Actor
from award_service.extensions import db
from award_service.medals.models import MedalQuota
from award_service.medals.service import create_medal
from award_service.nominations import iin as iin_module
from award_service.nominations import service, transitions
from award_service.nominations.models import Nomination, NominationDocument

from .conftest import PASSWORD, form_errors

DECREE = {"decree_number": "45", "decree_date": "2025-04-28"}


# ------------------------------------------------------------------ helpers


def minimal_pdf(text: str = "Archive record") -> bytes:
    """A small but complete PDF (one page, one line of text, a correct xref)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# A Windows executable's first bytes (the "MZ" DOS header), named .pdf.
FAKE_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"This program cannot be run"

_serials = iter(range(1, 100_000))


def make_iin(birth: date) -> str:
    while True:
        value = iin_module.make(birth, next(_serials))
        if value:
            return value


def nominee_form(**overrides) -> dict:
    """What a nominator types into the new-nomination page."""
    data = {
        "surname": "Әбенов",
        "given_name": "Қайрат",
        "patronymic": "Сәрсенұлы",
        "birth_date": "02.01.1928",
        "iin": "",
        "category": "home_front_worker",
        "district": "zhezkazgan",
        "address": "Жезқазған, Абай к-сі 5",
        "phone": "+7 701 234 56 78",
        "grounds": "1942–1945 жж. Жезқазған мыс комбинатында еңбек етті.",
    }
    data.update(overrides)
    return data


def nominations_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Nomination))


def reload(nomination_id: int) -> Nomination:
    db.session.expire_all()
    return db.session.get(Nomination, nomination_id)


def flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', html, re.S)]


def ticks(html: str) -> int:
    return len(re.findall(r'id="tick-\d+" checked', html))


@pytest.fixture
def medal(app, system):
    # A code of its own per test: on PostgreSQL the per-test reset keeps medals.
    return create_medal(
        db.session,
        system,
        {
            "code": f"v80-{uuid.uuid4().hex[:8]}",
            "name_kk": "Жеңістің 80 жылы",
            "name_ru": "80 лет Победы",
            "name_en": "80 Years of Victory",
            "serial_prefix": "ULY",
            "award_year_from": 2025,
            "quotas": {"zhezkazgan": 397, "karazhal": 5},
        },
    )


@pytest.fixture
def people(make_user):
    return {
        "nominator": make_user("nominator", district="zhezkazgan", name="Айгүл Нұрланқызы"),
        "reviewer": make_user("reviewer", district="zhezkazgan", name="Бауыржан Серікұлы"),
        "commission": make_user("commission", name="Гүлнар Ахметова"),
        "admin": make_user("admin", name="Admin"),
        "clerk": make_user("clerk", name="Clerk"),
        "outsider_nominator": make_user("nominator", district="karazhal", name="Қаражал nominator"),
        "outsider_reviewer": make_user("reviewer", district="karazhal", name="Қаражал reviewer"),
    }


@pytest.fixture
def english(app):
    """A logged-in test client with the English UI, one per person (like ``en_client``)."""
    clients = {}

    def for_user(user):
        if user.id not in clients:
            c = app.test_client()
            with c.session_transaction() as session:
                session["lang"] = "en"
            response = c.post("/staff/login", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 302
            clients[user.id] = c
        return clients[user.id]

    return for_user


@pytest.fixture
def nominate(medal, people):
    """A nomination entered through the service, moved on to ``status``."""

    def make(
        status="draft",
        *,
        by=None,
        district="zhezkazgan",
        surname="Әбенов",
        given_name="Қайрат",
        birth=date(1928, 1, 2),
        iin=True,
        category="home_front_worker",
    ):
        by = by or people["nominator"]
        n = service.create_nomination(
            db.session,
            Actor(by),
            {
                "nominee": {
                    "surname": surname,
                    "given_name": given_name,
                    "birth_date": birth.isoformat(),
                    "iin": make_iin(birth) if iin else "",
                    "category": category,
                    "district": district,
                },
                "medal": medal.code,
                "grounds": "Тыл еңбеккері",
            },
        )
        if status in ("submitted", "recommended", "approved"):
            n = transitions.transition(db.session, Actor(by), n, "submit", confirm_duplicate=True)
        if status in ("recommended", "approved"):
            n = transitions.transition(db.session, Actor(people["reviewer"]), n, "recommend")
        if status == "approved":
            n = transitions.transition(db.session, Actor(people["commission"]), n, "approve", **DECREE)
        return n

    return make


# ------------------------------------------------------- who may open what


def test_every_page_opens_for_the_right_role(english, people, nominate, medal):
    n = nominate()
    nominator = english(people["nominator"])
    for url in (
        "/staff/nominations/queue",
        "/staff/nominations/",
        "/staff/nominations/new",
        f"/staff/nominations/{n.id}",
        f"/staff/nominations/{n.id}/edit",
        "/staff/medals/",
        f"/staff/medals/{medal.code}",
        "/staff/",
    ):
        response = nominator.get(url)
        assert response.status_code == 200, (url, response.status_code)
    admin = english(people["admin"])
    for url in (
        "/staff/medals/new",
        f"/staff/medals/{medal.code}",
        f"/staff/nominations/{n.id}",
        "/staff/nominations/",
    ):
        assert admin.get(url).status_code == 200, url
    # the menu leads to them
    home = nominator.get("/staff/").text
    for link in ("/staff/nominations/queue", "/staff/nominations/new", "/staff/medals/"):
        assert link in home
    assert "/staff/nominations/new" not in english(people["reviewer"]).get("/staff/").text


def test_wrong_role_gets_403(app, english, people, nominate, medal):
    import io

    n = nominate()
    reviewer = english(people["reviewer"])
    assert reviewer.get("/staff/nominations/new").status_code == 403
    assert reviewer.get(f"/staff/nominations/{n.id}/edit").status_code == 403
    assert (
        reviewer.post(
            f"/staff/nominations/{n.id}/documents", data={"document": (io.BytesIO(minimal_pdf()), "a.pdf")}
        ).status_code
        == 403
    )
    assert reviewer.get("/staff/medals/new").status_code == 403
    assert reviewer.post(f"/staff/medals/{medal.code}/quotas", data={"quota-zhezkazgan": "1"}).status_code == 403
    assert english(people["clerk"]).get("/staff/nominations/new").status_code == 403
    assert english(people["admin"]).get("/staff/nominations/new").status_code == 403  # admins do not nominate
    anonymous = app.test_client()
    for url in ("/staff/nominations/queue", f"/staff/nominations/{n.id}", "/staff/medals/"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_other_district_gets_403(english, people, nominate):
    import io

    n = nominate("submitted")
    doc = service.add_document(db.session, Actor(people["nominator"]), n, "a.pdf", minimal_pdf())
    for who in ("outsider_nominator", "outsider_reviewer"):
        c = english(people[who])
        assert c.get(f"/staff/nominations/{n.id}").status_code == 403
        assert c.get(f"/staff/nominations/{n.id}/documents/{doc.id}").status_code == 403
        assert (
            c.post(
                f"/staff/nominations/{n.id}/transition", data={"action": "recommend", "version": n.version}
            ).status_code
            == 403
        )
        # the list and the queue do not show it
        assert f'/staff/nominations/{n.id}"' not in c.get("/staff/nominations/").text
        assert f'/staff/nominations/{n.id}"' not in c.get("/staff/nominations/queue").text
    outsider = english(people["outsider_nominator"])
    assert outsider.get(f"/staff/nominations/{n.id}/edit").status_code == 403
    assert (
        outsider.post(
            f"/staff/nominations/{n.id}/documents", data={"document": (io.BytesIO(minimal_pdf()), "b.pdf")}
        ).status_code
        == 403
    )
    assert reload(n.id).status == "submitted"
    assert len(reload(n.id).documents) == 1
    assert english(people["outsider_reviewer"]).get("/staff/nominations/999999").status_code == 404


# ---------------------------------------------------------- the entry form


def test_new_nomination_with_bad_input_shows_errors_in_place_and_stores_nothing(en_client, login, people, medal):
    login(people["nominator"])
    future = (date.today() + timedelta(days=3)).strftime("%d.%m.%Y")
    response = en_client.post(
        "/staff/nominations/new",
        data=nominee_form(
            surname="", iin="280102300001", birth_date=future, category="astronaut", medal=medal.code, phone="12"
        ),
    )
    assert response.status_code == 422
    assert set(form_errors(response.text)) >= {"surname", "birth_date", "category", "phone"}
    assert "The birth date is in the future." in response.text
    assert "Unknown category." in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Please correct the following:" in response.text
    # what was typed is kept
    assert "Жезқазған, Абай к-сі 5" in response.text
    assert nominations_count() == 0

    # a mistyped IIN (check digit), then one that contradicts the birth date
    good = make_iin(date(1928, 1, 2))
    typo = good[:11] + str((int(good[11]) + 1) % 10)
    response = en_client.post("/staff/nominations/new", data=nominee_form(iin=typo, medal=medal.code))
    assert response.status_code == 422
    assert form_errors(response.text) == ["iin"]
    assert "check digit does not match" in response.text
    other = make_iin(date(1931, 5, 6))
    response = en_client.post("/staff/nominations/new", data=nominee_form(iin=other, medal=medal.code))
    assert response.status_code == 422
    assert "06.05.1931" in response.text and form_errors(response.text) == ["iin"]
    # no medal, no grounds
    response = en_client.post("/staff/nominations/new", data=nominee_form(medal="", grounds="  "))
    assert response.status_code == 422
    assert set(form_errors(response.text)) == {"medal", "grounds"}
    assert nominations_count() == 0


def test_new_nomination_is_saved_and_a_second_with_the_same_iin_points_to_the_first(en_client, login, people, medal):
    login(people["nominator"])
    form = en_client.get("/staff/nominations/new").text
    # a nominator of one district is offered only that district
    district_select = re.search(r'<select[^>]*id="district".*?</select>', form, re.S).group(0)
    assert district_select.count("<option") == 1 and "zhezkazgan" in district_select
    iin = make_iin(date(1928, 1, 2))
    response = en_client.post("/staff/nominations/new", data=nominee_form(iin=iin, medal=medal.code))
    assert response.status_code == 302
    n = db.session.scalars(select(Nomination)).one()
    assert response.headers["Location"].endswith(f"/staff/nominations/{n.id}")
    assert n.status == "draft" and n.nominee.patronymic == "Сәрсенұлы" and n.nominee.phone == "+77012345678"
    page = en_client.get(f"/staff/nominations/{n.id}").text
    assert "Әбенов Қайрат Сәрсенұлы" in page and "02.01.1928" in page and iin in page
    assert "is saved as a draft" in page

    response = en_client.post("/staff/nominations/new", data=nominee_form(iin=iin, surname="Abenov", medal=medal.code))
    assert response.status_code == 409
    assert "already has an active nomination for this medal" in response.text
    assert f'href="/staff/nominations/{n.id}"' in response.text
    assert nominations_count() == 1


def test_a_nominator_cannot_enter_for_another_district(en_client, login, people, medal):
    login(people["nominator"])
    response = en_client.post("/staff/nominations/new", data=nominee_form(district="karazhal", medal=medal.code))
    assert response.status_code == 403
    assert form_errors(response.text) == ["district"]
    assert nominations_count() == 0


def test_editing_a_returned_nomination(english, people, nominate):
    n = nominate("submitted")
    reviewer = english(people["reviewer"])
    response = reviewer.post(
        f"/staff/nominations/{n.id}/transition",
        data={"action": "return", "version": n.version, "comment": "Архив анықтамасын қосыңыз."},
    )
    assert response.status_code == 302
    nominator = english(people["nominator"])
    page = nominator.get(f"/staff/nominations/{n.id}/edit").text
    assert "Архив анықтамасын қосыңыз." in page and 'value="02.01.1928"' in page
    version = reload(n.id).version
    response = nominator.post(
        f"/staff/nominations/{n.id}/edit", data=nominee_form(surname="Әбеновъ\x00", version=version)
    )
    assert response.status_code == 422 and form_errors(response.text) == ["surname"]
    response = nominator.post(
        f"/staff/nominations/{n.id}/edit",
        data=nominee_form(address="Сәтбаев к-сі 12", version=version, iin=reload(n.id).iin),
    )
    assert response.status_code == 302
    assert reload(n.id).nominee.address == "Сәтбаев к-сі 12"
    # an edit form opened before that save is stale now
    response = nominator.post(
        f"/staff/nominations/{n.id}/edit", data=nominee_form(version=version), follow_redirects=True
    )
    assert "Someone else changed nomination" in response.text
    assert reload(n.id).nominee.address == "Сәтбаев к-сі 12"
    history = nominator.get(f"/staff/nominations/{n.id}").text
    assert "Edited" in history and "Сәтбаев к-сі 12" in history
    # a reviewer cannot edit, nor can anyone once it is submitted again
    assert english(people["reviewer"]).get(f"/staff/nominations/{n.id}/edit").status_code == 403
    nominator.post(f"/staff/nominations/{n.id}/transition", data={"action": "submit", "version": reload(n.id).version})
    assert reload(n.id).status == "submitted"
    response = nominator.get(f"/staff/nominations/{n.id}/edit", follow_redirects=True)
    assert "can be edited" in response.text


# --------------------------------------------------------------- workflow


def test_full_workflow_through_the_pages_by_three_people(english, people, medal):
    nominator, reviewer, commission = (english(people[k]) for k in ("nominator", "reviewer", "commission"))
    response = nominator.post(
        "/staff/nominations/new", data=nominee_form(iin=make_iin(date(1928, 1, 2)), medal=medal.code)
    )
    n_id = int(response.headers["Location"].rsplit("/", 1)[1])

    # the nominator submits it from its page
    page = nominator.get(f"/staff/nominations/{n_id}").text
    assert 'value="submit"' in page and 'value="recommend"' not in page
    version = reload(n_id).version
    assert f'name="version" type="hidden" value="{version}"' in page
    response = nominator.post(
        f"/staff/nominations/{n_id}/transition", data={"action": "submit", "version": version}, follow_redirects=True
    )
    assert "is now submitted" in response.text
    assert reload(n_id).status == "submitted"

    # the reviewer finds it in the queue, tries to return it without a reason, then recommends
    queue = reviewer.get("/staff/nominations/queue").text
    assert f"/staff/nominations/{n_id}" in queue and "Әбенов Қайрат" in queue and "02.01.1928" in queue
    page = reviewer.get(f"/staff/nominations/{n_id}").text
    for action in ("recommend", "return", "reject"):
        assert f'value="{action}"' in page
    assert 'value="approve"' not in page
    response = reviewer.post(
        f"/staff/nominations/{n_id}/transition",
        data={"action": "return", "version": reload(n_id).version, "comment": ""},
    )
    assert response.status_code == 422
    assert form_errors(response.text) == ["comment"] and "Say why" in response.text
    assert reload(n_id).status == "submitted"
    response = reviewer.post(
        f"/staff/nominations/{n_id}/transition",
        data={"action": "recommend", "version": reload(n_id).version, "comment": "Құжаттар толық."},
        follow_redirects=True,
    )
    assert "is now recommended" in response.text

    # the commission approves under the decree; a decree date in the future is refused first
    page = commission.get(f"/staff/nominations/{n_id}").text
    assert 'id="decree_number"' in page and 'value="approve"' in page
    later = (date.today() + timedelta(days=3)).isoformat()
    response = commission.post(
        f"/staff/nominations/{n_id}/transition",
        data={"action": "approve", "version": reload(n_id).version, "decree_number": "45", "decree_date": later},
    )
    assert response.status_code == 422 and form_errors(response.text) == ["decree_date"]
    response = commission.post(
        f"/staff/nominations/{n_id}/transition",
        data={"action": "approve", "version": reload(n_id).version, "decree_number": "45", "decree_date": "28.04.2025"},
        follow_redirects=True,
    )
    assert "is now approved" in response.text
    n = reload(n_id)
    assert (n.status, n.decree_number, n.decree_date) == ("approved", "45", date(2025, 4, 28))
    assert n.created_by_id == people["nominator"].id and n.recommended_by_id == people["reviewer"].id
    assert n.approved_by_id == people["commission"].id

    # everyone sees the whole history: who, from -> to, comment, decree
    page = nominator.get(f"/staff/nominations/{n_id}").text
    history = page[page.index('id="history"') :]
    for text in (
        "Айгүл Нұрланқызы",
        "Бауыржан Серікұлы",
        "Гүлнар Ахметова",
        "draft → submitted",
        "submitted → recommended",
        "recommended → approved",
        "Құжаттар толық.",
        "decree № 45 of 28.04.2025",
    ):
        assert text in history, text
    assert 'value="approve"' not in commission.get(f"/staff/nominations/{n_id}").text


def test_separation_of_duties_is_explained_on_the_page(english, make_user, people, nominate):
    both = make_user("nominator", "reviewer", district="zhezkazgan")
    n = nominate("submitted", by=both)
    page = english(both).get(f"/staff/nominations/{n.id}").text
    assert 'value="recommend"' not in page
    assert "someone else must recommend or approve it" in page
    response = english(both).post(
        f"/staff/nominations/{n.id}/transition",
        data={"action": "recommend", "version": n.version},
        follow_redirects=True,
    )
    assert "someone else must recommend or approve it" in response.text
    assert reload(n.id).status == "submitted"


def test_a_stale_page_gets_the_conflict_message(english, make_user, people, nominate):
    n = nominate("submitted")
    first, second = english(people["reviewer"]), english(make_user("reviewer", district="zhezkazgan"))
    page = first.get(f"/staff/nominations/{n.id}").text
    seen_version = int(re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1))
    # the other reviewer decides first
    assert (
        second.post(
            f"/staff/nominations/{n.id}/transition", data={"action": "recommend", "version": seen_version}
        ).status_code
        == 302
    )
    response = first.post(
        f"/staff/nominations/{n.id}/transition",
        data={"action": "reject", "version": seen_version, "comment": "Not eligible"},
        follow_redirects=True,
    )
    assert f"Someone else changed nomination № {n.id} while you had it open" in response.text
    assert reload(n.id).status == "recommended"
    # the same for a step that is still possible: an edit raised the version
    m = nominate("draft", surname="Сәтбаев", birth=date(1930, 3, 3))
    nominator = english(people["nominator"])
    old = m.version
    service.update_nomination(db.session, Actor(people["nominator"]), m, {"grounds": "Жаңа негіздеме"})
    response = nominator.post(
        f"/staff/nominations/{m.id}/transition", data={"action": "submit", "version": old}, follow_redirects=True
    )
    assert "Someone else changed nomination" in response.text
    assert reload(m.id).status == "draft"


def test_possible_duplicate_is_flagged_and_needs_a_confirmation(english, people, nominate):
    first = nominate("submitted", surname="Жанболатов", given_name="Ерлан", birth=date(1927, 3, 14), iin=False)
    second = nominate("draft", surname="Джанбулатов", given_name="Ерлан", birth=date(1927, 3, 14), iin=False)
    assert second.possible_duplicate
    nominator = english(people["nominator"])
    page = nominator.get(f"/staff/nominations/{second.id}").text
    assert "Possible duplicate." in page and f'href="/staff/nominations/{first.id}"' in page
    assert 'id="confirm_duplicate"' in page
    # submitting it with others from the queue: refused, and the row is named
    plain = nominate("draft", surname="Бектұров", birth=date(1931, 7, 7))
    response = nominator.post("/staff/nominations/queue", data={"action": "submit", "ids": [second.id, plain.id]})
    assert response.status_code == 409
    assert f"№ {second.id}, Джанбулатов Ерлан: possible duplicate" in response.text
    assert reload(plain.id).status == "draft"
    response = nominator.post(
        f"/staff/nominations/{second.id}/transition", data={"action": "submit", "version": second.version}
    )
    assert response.status_code == 409
    assert form_errors(response.text) == ["confirm_duplicate"]
    assert reload(second.id).status == "draft"
    response = nominator.post(
        f"/staff/nominations/{second.id}/transition",
        data={"action": "submit", "version": second.version, "confirm_duplicate": "y"},
    )
    assert response.status_code == 302 and reload(second.id).status == "submitted"
    queue = english(people["reviewer"]).get("/staff/nominations/queue").text
    assert queue.count("Possible duplicate") >= 1
    assert "the nominator confirmed a different person" in queue


# -------------------------------------------------------------------- bulk


def test_bulk_approve_of_many_from_the_queue_under_one_decree(english, people, nominate, medal):
    ids = [
        nominate("recommended", surname=f"Тыл{i:02d}ов", birth=date(1925, 1, 1) + timedelta(days=40 * i)).id
        for i in range(60)
    ]
    commission = english(people["commission"])
    page = commission.get("/staff/nominations/queue").text
    assert "60 nominations wait for your decision." in page
    assert page.count('name="ids"') == 50  # 50 a page
    assert "Page 1 of 2" in page
    assert 'value="approve"' in page and 'id="decree_number"' in page
    assert 'value="recommend"' not in page and 'value="withdraw"' not in page
    # the oldest first, each row with its facts and a link to its page
    assert page.index(f'/staff/nominations/{ids[0]}"') < page.index(f'/staff/nominations/{ids[1]}"')
    assert "Тыл00ов" in page and "01.01.1925" in page and "Home-front worker" in page and "no documents" in page
    # "tick all on this page"
    ticked = commission.get("/staff/nominations/queue?select=all").text
    assert ticks(ticked) == 50

    # without the decree: errors in place, nothing changed, the ticks kept
    response = commission.post("/staff/nominations/queue", data={"action": "approve", "ids": ids[:50]})
    assert response.status_code == 422
    assert set(form_errors(response.text)) == {"decree_number", "decree_date"}
    assert ticks(response.text) == 50
    assert db.session.scalar(select(func.count()).where(Nomination.status == "approved")) == 0

    # ticks from both pages, one decree
    response = commission.post(
        "/staff/nominations/queue?page=2&select=all",
        data={
            "action": "approve",
            "ids": ids,
            "decree_number": "45",
            "decree_date": "28.04.2025",
            "comment": "Комиссия шешімі",
        },
    )
    assert response.status_code == 302
    assert "select" not in response.headers["Location"]  # the next showing is not pre-ticked
    page = commission.get(response.headers["Location"], follow_redirects=True).text
    assert "Approved 60 nominations under decree № 45 of 28.04.2025." in page
    assert "Nothing is waiting for you." in page
    db.session.expire_all()
    approved = db.session.scalars(select(Nomination).where(Nomination.id.in_(ids))).all()
    assert {(n.status, n.decree_number, n.decree_date, n.last_comment) for n in approved} == {
        ("approved", "45", date(2025, 4, 28), "Комиссия шешімі")
    }
    quota = db.session.get(MedalQuota, (medal.id, approved[0].district_id))
    assert quota.used == 60


def test_a_refused_bulk_action_names_the_rows_and_changes_nothing(english, make_user, people, nominate):
    both = make_user("reviewer", "commission", district="zhezkazgan", name="Reviewer-and-commission")
    mine = nominate("submitted", surname="Оспанов")
    transitions.transition(db.session, Actor(both), mine, "recommend")
    other = nominate("recommended", surname="Төлегенов", birth=date(1929, 9, 9))
    c = english(both)
    page = c.get("/staff/nominations/queue").text
    assert 'value="recommend"' in page and 'value="approve"' in page  # both roles' actions
    response = c.post("/staff/nominations/queue", data={"action": "approve", "ids": [mine.id, other.id], **DECREE})
    assert response.status_code == 403
    assert "Nothing was changed." in response.text
    assert f"№ {mine.id}, Оспанов Қайрат: You recommended this nomination" in response.text
    assert reload(other.id).status == "recommended" and reload(mine.id).status == "recommended"
    # nothing ticked
    response = c.post("/staff/nominations/queue", data={"action": "approve", **DECREE})
    assert response.status_code == 422 and "Choose at least one nomination." in response.text
    # a reason is needed to return many
    response = c.post("/staff/nominations/queue", data={"action": "return", "ids": [other.id]})
    assert response.status_code == 422 and form_errors(response.text) == ["comment"]
    # an action this page does not offer
    assert c.post("/staff/nominations/queue", data={"action": "withdraw", "ids": [other.id]}).status_code == 400


def test_a_bulk_approval_over_the_quota_approves_what_fits_and_names_the_rest(english, people, nominate, medal, system):
    from award_service.medals.service import set_quotas

    set_quotas(db.session, system, medal, {"zhezkazgan": 2})
    ids = [nominate("recommended", surname=f"Квота{i}", birth=date(1926, 2, 1 + i)).id for i in range(3)]
    commission = english(people["commission"])
    response = commission.post(
        "/staff/nominations/queue", data={"action": "approve", "ids": ids, **DECREE}, follow_redirects=True
    )
    assert response.status_code == 200
    # The oldest two (the queue's order) take the two places; the third is named and stays.
    assert {reload(i).status for i in ids[:2]} == {"approved"} and reload(ids[2]).status == "recommended"
    said = flashes(response.text)
    assert said[0] == "Approved 2 nominations under decree № 45 of 28.04.2025."
    assert said[1].startswith("1 nomination was not approved: the quota of Zhezkazgan city for 80 Years of Victory (2)")
    assert f"№ {ids[2]} Квота2" in said[1] and "stays in the queue" in said[1]
    assert db.session.get(MedalQuota, (medal.id, reload(ids[0]).district_id)).used == 2
    # The quota full, nothing fits: nothing is changed, and the page says why.
    response = commission.post("/staff/nominations/queue", data={"action": "approve", "ids": [ids[2]], **DECREE})
    assert response.status_code == 409
    assert "is 2 and 2 are used: no more can be approved" in response.text
    assert reload(ids[2]).status == "recommended"


# ------------------------------------------------------------ list, search


def test_list_filters_search_and_pagination(english, people, nominate, medal):
    a = nominate("submitted", surname="Әбенов", given_name="Қайрат", category="front_veteran")
    b = nominate("draft", surname="Иванов", given_name="Иван", birth=date(1926, 6, 6))
    c = nominate(
        "draft",
        surname="Сәтбаев",
        given_name="Мәди",
        district="karazhal",
        birth=date(1929, 1, 1),
        by=people["outsider_nominator"],
    )
    admin = english(people["admin"])

    def shown(url):
        page = admin.get(url)
        assert page.status_code == 200, url
        return {int(i) for i in re.findall(r'name="ids" value="(\d+)"', page.text)} or {
            int(i) for i in re.findall(r'href="/staff/nominations/(\d+)"', page.text)
        }

    assert shown("/staff/nominations/") == {a.id, b.id, c.id}
    assert shown("/staff/nominations/?status=draft") == {b.id, c.id}
    assert shown("/staff/nominations/?district=karazhal") == {c.id}
    assert shown("/staff/nominations/?category=front_veteran") == {a.id}
    assert shown(f"/staff/nominations/?medal={medal.code}") == {a.id, b.id, c.id}
    assert shown("/staff/nominations/?q=Abenov") == {a.id}  # Latin finds Cyrillic
    assert shown("/staff/nominations/?q=сәтбаев мәди") == {c.id}
    assert shown(f"/staff/nominations/?q={a.iin[:6]}") == {a.id}  # IIN start
    page = admin.get("/staff/nominations/?status=draft").text
    assert '<option selected value="draft">' in page or 'value="draft" selected' in page
    assert "Clear the filters" in page
    response = admin.get("/staff/nominations/?status=nonsense&category=x")
    assert response.status_code == 422
    assert set(form_errors(response.text)) == {"status", "category"}
    assert english(people["admin"]).get("/staff/nominations/?page=abc").status_code == 200
    # a nominator of Zhezkazgan sees Zhezkazgan only, and only that district in the filter
    page = english(people["nominator"]).get("/staff/nominations/").text
    assert f'href="/staff/nominations/{c.id}"' not in page and f'href="/staff/nominations/{a.id}"' in page
    select_box = re.search(r'<select[^>]*id="district".*?</select>', page, re.S).group(0)
    assert "karazhal" not in select_box


def test_list_pages_by_50_and_bulk_submit_by_the_nominator(english, people, nominate):
    ids = [
        nominate("draft", surname=f"Жоба{i:02d}ов", birth=date(1925, 3, 1) + timedelta(days=37 * i)).id
        for i in range(55)
    ]
    nominator = english(people["nominator"])
    first = nominator.get("/staff/nominations/").text
    assert first.count('name="ids"') == 50 and "55 nominations found." in first and "Page 1 of 2" in first
    second = nominator.get("/staff/nominations/?page=2").text
    assert second.count('name="ids"') == 5
    # a page past the end goes to the last one
    assert nominator.get("/staff/nominations/?page=9").status_code == 302
    assert 'value="submit"' in first and 'value="approve"' not in first
    response = nominator.post(
        "/staff/nominations/?status=draft", data={"action": "submit", "ids": ids[:3]}, follow_redirects=True
    )
    assert "Submitted 3 nominations for review." in response.text
    assert {reload(i).status for i in ids[:3]} == {"submitted"}
    assert reload(ids[3]).status == "draft"


# --------------------------------------------------------------- documents


def test_upload_a_pdf_refuse_a_disguised_executable_and_download(english, people, nominate):
    import io

    n = nominate("draft")
    nominator = english(people["nominator"])
    pdf = minimal_pdf()
    response = nominator.post(
        f"/staff/nominations/{n.id}/documents",
        data={"document": (io.BytesIO(pdf), "Архив анықтамасы.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    doc = db.session.scalars(select(NominationDocument)).one()
    assert (doc.content_type, doc.size, doc.filename) == ("application/pdf", len(pdf), "Архив анықтамасы.pdf")

    response = nominator.post(
        f"/staff/nominations/{n.id}/documents",
        data={"document": (io.BytesIO(FAKE_EXE), "scan.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert form_errors(response.text) == ["document"]
    assert "Only PDF, JPEG and PNG files are accepted" in response.text
    response = nominator.post(f"/staff/nominations/{n.id}/documents", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file to upload." in response.text
    assert db.session.scalar(select(func.count()).select_from(NominationDocument)) == 1

    page = nominator.get(f"/staff/nominations/{n.id}").text
    link = f"/staff/nominations/{n.id}/documents/{doc.id}"
    assert link in page and "Архив анықтамасы.pdf" in page and "Document added" in page
    for who in ("nominator", "reviewer", "commission"):
        response = english(people[who]).get(link)
        assert response.status_code == 200, who
        assert response.data == pdf
        assert response.headers["Content-Type"] == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    assert english(people["outsider_reviewer"]).get(link).status_code == 403
    assert nominator.get(f"/staff/nominations/{n.id}/documents/{doc.id + 1}").status_code == 404
    other = nominate("draft", surname="Басқа", birth=date(1930, 1, 1))
    assert nominator.get(f"/staff/nominations/{other.id}/documents/{doc.id}").status_code == 404

    # once recommended, no more uploads: no form, and a clear message
    transitions.transition(db.session, Actor(people["nominator"]), n, "submit")
    transitions.transition(db.session, Actor(people["reviewer"]), reload(n.id), "recommend")
    assert 'enctype="multipart/form-data"' not in nominator.get(f"/staff/nominations/{n.id}").text
    response = nominator.post(
        f"/staff/nominations/{n.id}/documents", data={"document": (io.BytesIO(pdf), "late.pdf")}, follow_redirects=True
    )
    assert "Documents can be added until the nomination is recommended." in response.text


# ------------------------------------------------------------------ medals


def test_quota_page_and_editing(english, people, nominate, medal):
    nominate("approved")
    nominate("approved", surname="Сәтбаев", birth=date(1929, 4, 4))
    admin = english(people["admin"])
    page = admin.get(f"/staff/medals/{medal.code}").text
    for district in ("Zhezkazgan", "Satbayev", "Karazhal", "Ulytau", "Zhanaarka"):
        assert district in page
    row = re.search(r"Zhezkazgan city</th>(.*?)</tr>", page, re.S).group(1)
    assert 'value="397"' in row and "<td>2</td>" in row and "<td>395</td>" in row

    response = admin.post(
        f"/staff/medals/{medal.code}/quotas",
        data={"quota-zhezkazgan": "1", "quota-karazhal": "5", "quota-ulytau": "12"},
    )
    assert response.status_code == 422
    assert "2 are already approved; the quota cannot be lower." in response.text
    assert 'id="quota-zhezkazgan-error"' in response.text and 'id="quota-ulytau-error"' not in response.text
    assert 'value="12"' in response.text  # what was typed is kept
    db.session.expire_all()
    assert {q.district.code: q.quota for q in medal.quotas} == {"zhezkazgan": 397, "karazhal": 5}

    response = admin.post(
        f"/staff/medals/{medal.code}/quotas",
        data={"quota-zhezkazgan": "400", "quota-karazhal": "5", "quota-ulytau": "12"},
        follow_redirects=True,
    )
    assert "Quotas saved: " in response.text and "Zhezkazgan city — 400" in response.text
    db.session.expire_all()
    assert {q.district.code: q.quota for q in medal.quotas} == {"zhezkazgan": 400, "karazhal": 5, "ulytau": 12}
    response = admin.post(f"/staff/medals/{medal.code}/quotas", data={"quota-zhezkazgan": "-3"})
    assert response.status_code == 422 and 'id="quota-zhezkazgan-error"' in response.text
    response = admin.post(f"/staff/medals/{medal.code}/quotas", data={"quota-zhezkazgan": "400"}, follow_redirects=True)
    assert "No quota was changed." in response.text

    # others see the table, not the form
    page = english(people["commission"]).get(f"/staff/medals/{medal.code}").text
    assert "<td>400</td>" in page and 'name="quota-zhezkazgan"' not in page
    assert (
        english(people["commission"])
        .post(f"/staff/medals/{medal.code}/quotas", data={"quota-zhezkazgan": "1"})
        .status_code
        == 403
    )
    assert admin.get("/staff/medals/no-such-medal").status_code == 404
    medals = english(people["nominator"]).get("/staff/medals/").text
    assert "80 Years of Victory" in medals and f"/staff/medals/{medal.code}" in medals


def test_create_a_medal(english, people):
    admin = english(people["admin"])
    data = {
        "code": "Bad Code",
        "name_kk": "",
        "name_ru": "Медаль",
        "name_en": "Medal",
        "serial_prefix": "uly",
        "award_year_from": "2025",
        "award_year_to": "2020",
        "quota-zhezkazgan": "many",
    }
    response = admin.post("/staff/medals/new", data=data)
    assert response.status_code == 422
    assert set(form_errors(response.text)) >= {"code", "name_kk", "serial_prefix", "award_year_to"}
    assert 'id="quota-zhezkazgan-error"' in response.text
    data.update(
        code="labour80",
        name_kk="Еңбек ардагері",
        serial_prefix="LAB",
        award_year_to="",
        **{"quota-zhezkazgan": "397", "quota-satbayev": "120"},
    )
    response = admin.post("/staff/medals/new", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/medals/labour80")
    page = admin.get("/staff/medals/labour80").text
    assert "Еңбек ардагері" in page and 'value="397"' in page and 'value="120"' in page
    assert admin.post("/staff/medals/new", data=data).status_code == 422  # the code is taken


def test_pages_render_in_kazakh_by_default(client, login, people, nominate, medal):
    n = nominate("submitted")
    login(people["reviewer"])
    for url in (
        "/staff/nominations/queue",
        "/staff/nominations/",
        f"/staff/nominations/{n.id}",
        f"/staff/medals/{medal.code}",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert '<html lang="kk">' in response.text
