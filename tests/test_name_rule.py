"""One rule for people's names, wherever they come in: a surname, a given name
and a patronymic (when given) of a nominee, and an attendee's full name, have at
least two letters.  "А" or "Б." is an initial: a certificate printed for it
reads as broken.  The rule lives in the core (award_service.text.name_error);
each entry point is driven here as its users drive it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from award_service.ceremonies.models import Registration
from award_service.extensions import db
from award_service.medals.service import create_medal
from award_service.nominations import importer
from award_service.nominations.models import Nomination
from award_service.text import MIN_NAME_LETTERS, name_error

from .conftest import form_errors, registration_data
from .test_nomination_pages import nominee_form


def nominations() -> int:
    return db.session.scalar(select(func.count()).select_from(Nomination))


def registrations() -> int:
    return db.session.scalar(select(func.count()).select_from(Registration))


@pytest.mark.parametrize(
    "value, refused",
    [
        ("А", True),
        ("Б.", True),
        ("Ә-", True),
        ("J", True),
        ("12", True),
        ("Ли", False),
        ("Ng", False),
        ("Әл", False),
        ("Сәрсенұлы", False),
        ("Жанболат Әбенов", False),
    ],
)
def test_the_rule(app, value, refused):
    assert MIN_NAME_LETTERS == 2
    with app.test_request_context(), force_locale("en"):
        problem = name_error(value)
        assert (problem is not None) is refused
        if refused and any(ch.isalpha() for ch in value):
            assert "at least 2 letters" in str(problem)


@pytest.fixture
def medal(app, system):
    return create_medal(
        db.session,
        system,
        {
            "code": "victory80",
            "name_kk": "Жеңіс 80",
            "name_ru": "Победа 80",
            "name_en": "Victory 80",
            "serial_prefix": "ULY",
            "award_year_from": 2025,
            "quotas": {"zhezkazgan": 10},
        },
    )


@pytest.mark.parametrize(
    "field, value",
    [("surname", "Ә"), ("given_name", "Қ."), ("patronymic", "С")],
)
def test_the_nomination_form_refuses_a_one_letter_name(en_client, login, make_user, medal, field, value):
    login(make_user("nominator", district="zhezkazgan"))
    response = en_client.post("/staff/nominations/new", data=nominee_form(**{field: value}, medal=medal.code))
    assert response.status_code == 422
    assert form_errors(response.text) == [field]
    assert "A name has at least 2 letters: write it in full, not as an initial." in response.text
    assert nominations() == 0
    # An empty patronymic is still fine: the person has none.
    response = en_client.post("/staff/nominations/new", data=nominee_form(patronymic="", medal=medal.code))
    assert response.status_code == 302 and nominations() == 1


def test_the_api_refuses_a_one_letter_name(en_client, make_user, token_for, medal):
    headers = token_for(make_user("nominator", district="zhezkazgan"))
    nominee = {
        "surname": "Әбенов",
        "given_name": "Қ",
        "birth_date": "1928-01-02",
        "category": "home_front_worker",
        "district": "zhezkazgan",
    }
    body = {"nominee": nominee, "medal": medal.code, "grounds": "Тыл еңбеккері"}
    response = en_client.post("/api/v1/nominations", json=body, headers=headers)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["nominee.given_name"]
    assert "at least 2 letters" in error["fields"]["nominee.given_name"]
    assert nominations() == 0
    nominee["given_name"] = "Қайрат"
    assert en_client.post("/api/v1/nominations", json=body, headers=headers).status_code == 201


def test_the_import_refuses_a_one_letter_name_and_shows_it(en_client, login, make_user, medal):
    login(make_user("nominator", district="zhezkazgan"))
    header = ",".join(importer.COLUMNS)
    line = "Ә,Қайрат,,,1928-01-02,home_front_worker,zhezkazgan,,,victory80,Тыл еңбеккері"
    data = f"{header}\n{line}\n".encode()
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), "n.csv")})
    response = en_client.post(
        "/staff/nominations/io/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 422
    assert "A name has at least 2 letters" in response.text
    assert nominations() == 0
    with force_locale("en"):
        preview = importer.parse_upload(db.session, None, "n.csv", data, today=date(2025, 4, 1))
    assert [(e.row, e.column) for e in preview.errors] == [(2, "surname")]


def test_the_registration_form_refuses_a_one_letter_name(client, make_ceremony):
    ceremony = make_ceremony()
    response = client.post(f"/ceremonies/{ceremony.id}", data=registration_data(full_name="Ж"))
    assert response.status_code == 422
    assert form_errors(response.text) == ["full_name"]
    assert registrations() == 0


def test_the_registration_api_refuses_a_one_letter_name(en_client, make_ceremony):
    ceremony = make_ceremony()
    body = {"full_name": "Ж.", "phone": "+77012345678", "category": "veteran", "consent": True}
    response = en_client.post(f"/api/v1/ceremonies/{ceremony.id}/registrations", json=body)
    assert response.status_code == 422
    assert "at least 2 letters" in response.json["error"]["fields"]["full_name"]
    assert registrations() == 0
    body["full_name"] = "Ли Ён"
    assert en_client.post(f"/api/v1/ceremonies/{ceremony.id}/registrations", json=body).status_code == 201


def test_staff_registering_by_phone_is_refused_a_one_letter_name(en_client, login, make_user, make_ceremony):
    login(make_user("organiser"))
    ceremony = make_ceremony()
    response = en_client.post(
        f"/staff/ceremonies/{ceremony.id}/registrations/new", data=registration_data(full_name="Ғ")
    )
    assert response.status_code == 422
    assert "A name has at least 2 letters" in response.text
    assert registrations() == 0
