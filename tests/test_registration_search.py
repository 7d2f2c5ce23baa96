"""Finding people: the organisers' list, the door and the API find a phone
however it is typed and a name in any spelling (the folding of
award_service/names.py, which the nominations' duplicate detection uses), and
the desk can print a phone-only registration's ticket."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from award_service.actor import Actor
from award_service.ceremonies import registrations
from award_service.ceremonies.models import Registration
from award_service.extensions import db

from .conftest import registration_data

PEOPLE = (
    # full name, phone, e-mail
    ("Есенов Марат Серікұлы", "+7 701 010 00 11", None),
    ("Сәрсенова Гүлнар", "+7 702 555 12 34", "gulnar@example.kz"),
    ("Қайратұлы Ержан", "+7 705 123 45 67", None),
    ("Иван Петров", None, "ivan.petrov@example.kz"),
)


@pytest.fixture
def people(make_ceremony, make_user, token_for):
    ceremony = make_ceremony(capacity=50)
    system = Actor.system("test")
    made = {}
    for name, phone, email in PEOPLE:
        made[name] = registrations.register(
            db.session, system, ceremony.id, registration_data(full_name=name, phone=phone or "", email=email or "")
        ).id
    organiser = make_user("organiser")
    return {"ceremony": ceremony, "ids": made, "organiser": organiser, "headers": token_for(organiser)}


def found(ceremony, q) -> list[str]:
    stmt = registrations.registrations_for(db.session, ceremony, q=q)
    return [r.full_name for r in db.session.scalars(stmt)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # a phone, however it is typed
        ("8 701 010 00 11", "Есенов Марат Серікұлы"),
        ("87010100011", "Есенов Марат Серікұлы"),
        ("+7 701 010-00-11", "Есенов Марат Серікұлы"),
        ("+77010100011", "Есенов Марат Серікұлы"),
        ("8 (701) 010-00-11", "Есенов Марат Серікұлы"),
        ("701 010 00 11", "Есенов Марат Серікұлы"),
        ("0011", "Есенов Марат Серікұлы"),
        ("555 12 34", "Сәрсенова Гүлнар"),
        # a name in Latin or Russian-style spelling, any case
        ("Esenov", "Есенов Марат Серікұлы"),
        ("есенов", "Есенов Марат Серікұлы"),
        ("Sarsenova", "Сәрсенова Гүлнар"),
        ("Сарсенова", "Сәрсенова Гүлнар"),
        ("SÄRSENOVA", "Сәрсенова Гүлнар"),
        ("Кайратулы", "Қайратұлы Ержан"),
        ("Qairatuly Erjan", "Қайратұлы Ержан"),
        ("Ержан Қайратұлы", "Қайратұлы Ержан"),  # the words in another order
        ("Marat Serikuly", "Есенов Марат Серікұлы"),
        ("Petrov", "Иван Петров"),
        # an e-mail, or a part of it
        ("ivan.petrov@example.kz", "Иван Петров"),
        ("gulnar@", "Сәрсенова Гүлнар"),
    ],
)
def test_search_variants(people, query, expected):
    assert found(people["ceremony"], query) == [expected]


@pytest.mark.parametrize("query", ["Esenova", "0099", "8 701 010 00 12", "Марат Петров", "%", "_", "12", "  "])
def test_searches_that_find_no_one_or_everyone(people, query):
    result = found(people["ceremony"], query)
    if query.strip():
        assert result == [], query
    else:
        assert len(result) == len(PEOPLE)  # nothing typed: the whole list


def test_the_name_key_is_the_folded_latin_spelling(people):
    rows = db.session.execute(select(Registration.full_name, Registration.name_key))
    keys = {row.full_name: row.name_key for row in rows}
    assert keys["Сәрсенова Гүлнар"] == "sarsenova gulnar"
    assert keys["Есенов Марат Серікұлы"] == "esenov marat serikuli"


def test_the_api_searches_as_the_pages_do(client, people):
    ceremony, headers = people["ceremony"], people["headers"]
    for query, name in (("8 701 010 00 11", "Есенов Марат Серікұлы"), ("Sarsenova", "Сәрсенова Гүлнар")):
        body = client.get(f"/api/v1/ceremonies/{ceremony.id}/registrations", query_string={"q": query}, headers=headers)
        assert body.status_code == 200, body.json
        assert [r["full_name"] for r in body.json["items"]] == [name] and body.json["total"] == 1
    too_long = client.get(
        f"/api/v1/ceremonies/{ceremony.id}/registrations", query_string={"q": "x" * 101}, headers=headers
    )
    assert too_long.status_code == 422


def test_the_staff_list_and_the_door_find_by_phone_and_link_the_ticket(en_client, login, people):
    client = en_client
    login(people["organiser"])
    ceremony = people["ceremony"]
    esenov = people["ids"]["Есенов Марат Серікұлы"]
    listing = client.get(f"/staff/ceremonies/{ceremony.id}", query_string={"q": "87010100011"})
    assert listing.status_code == 200 and "Есенов" in listing.text and "Петров" not in listing.text
    ticket_url = f"/staff/ceremonies/{ceremony.id}/checkin/tickets/{esenov}.pdf"
    assert ticket_url in listing.text
    door = client.get(f"/staff/ceremonies/{ceremony.id}/checkin/", query_string={"q": "+7 701 010-00-11"})
    assert door.status_code == 200 and "Есенов" in door.text and "Сәрсенова" not in door.text
    assert ticket_url in door.text
    by_name = client.get(f"/staff/ceremonies/{ceremony.id}/checkin/", query_string={"q": "Sarsenova"})
    assert "Сәрсенова Гүлнар" in by_name.text and "Есенов" not in by_name.text
    pdf = client.get(ticket_url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    code = db.session.get(Registration, esenov).ticket_code
    assert "Есенов Марат Серікұлы" in text and code[:4] in text.replace("-", "").replace(" ", "")


def test_the_desk_ticket_is_for_this_ceremonys_staff_only(client, login, people, make_ceremony, make_user):
    ceremony = people["ceremony"]
    esenov = people["ids"]["Есенов Марат Серікұлы"]
    other = make_ceremony()
    assert client.get(f"/staff/ceremonies/{ceremony.id}/checkin/tickets/{esenov}.pdf").status_code == 302  # log in
    login(make_user("clerk"))
    assert client.get(f"/staff/ceremonies/{ceremony.id}/checkin/tickets/{esenov}.pdf").status_code == 200
    assert client.get(f"/staff/ceremonies/{other.id}/checkin/tickets/{esenov}.pdf").status_code == 404
    assert client.get(f"/staff/ceremonies/{ceremony.id}/checkin/tickets/999999.pdf").status_code == 404
    registrations.cancel_registration(db.session, Actor.system("test"), db.session.get(Registration, esenov))
    assert client.get(f"/staff/ceremonies/{ceremony.id}/checkin/tickets/{esenov}.pdf").status_code == 409


def test_migration_0012_folds_the_name_keys_of_existing_registrations(tmp_path):
    """Registrations made before 0012 carry the old lower-case key: the
    migration rewrites it to the folded Latin one (and back on downgrade)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from award_service import create_app

    from .conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    when = "2030-01-01 10:00:00"
    with app.app_context():
        upgrade(revision="0010")
        db.session.execute(
            text(
                "INSERT INTO ceremonies (id, title_kk, title_ru, description_kk, description_ru, starts_at, venue, "
                "address, district_id, capacity, seats_taken, waitlist, status, created_at, updated_at) "
                "SELECT 1, 'Т', 'Т', '', '', :when, 'V', '', id, 10, 1, 0, 'published', :when, :when "
                "FROM districts LIMIT 1"
            ),
            {"when": when},
        )
        db.session.execute(
            text(
                "INSERT INTO registrations (ceremony_id, token, full_name, name_key, phone, companions, seats, "
                "category, needs_wheelchair, needs_hearing, needs_near_exit, needs_note, consent_at, language, "
                "status, source, created_at, ticket_code) VALUES (1, 'tok', 'Сәрсенова Гүлнар', 'сәрсенова гүлнар', "
                "'+77025551234', 0, 1, 'guest', 0, 0, 0, '', :when, 'kk', 'confirmed', 'online', :when, 'ABCDEFGHJK')"
            ),
            {"when": when},
        )
        db.session.commit()
        upgrade()
        assert db.session.execute(text("SELECT name_key FROM registrations")).scalar_one() == "sarsenova gulnar"
        downgrade(revision="0010")
        assert db.session.execute(text("SELECT name_key FROM registrations")).scalar_one() == "сәрсенова гүлнар"
        upgrade()
        db.session.remove()
        db.engine.dispose()
