"""The one gate for text from people refuses invisible and bidirectional
characters, and says which: a name that looks right on screen could otherwise be
stored reversed (U+202E), split (U+200B) or spoofed.  Checked on the gate itself
and through the ways text comes in: the public registration (API and form), the
nomination API, the ceremony API and the import."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from award_service.ceremonies.models import Registration
from award_service.extensions import db
from award_service.nominations.models import Nomination
from award_service.text import TextError, clean_text

from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import MEDAL_CODE, nominee_data

REFUSED = [
    ("\u202a", "LEFT-TO-RIGHT EMBEDDING"),
    ("\u202b", "RIGHT-TO-LEFT EMBEDDING"),
    ("\u202c", "POP DIRECTIONAL FORMATTING"),
    ("\u202d", "LEFT-TO-RIGHT OVERRIDE"),
    ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
    ("\u2066", "LEFT-TO-RIGHT ISOLATE"),
    ("\u2067", "RIGHT-TO-LEFT ISOLATE"),
    ("\u2068", "FIRST STRONG ISOLATE"),
    ("\u2069", "POP DIRECTIONAL ISOLATE"),
    ("\u200e", "LEFT-TO-RIGHT MARK"),
    ("\u200f", "RIGHT-TO-LEFT MARK"),
    ("\u061c", "ARABIC LETTER MARK"),
    ("\u200b", "ZERO WIDTH SPACE"),
    ("\u200c", "ZERO WIDTH NON-JOINER"),
    ("\u200d", "ZERO WIDTH JOINER"),
    ("\u2060", "WORD JOINER"),
    ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"),
    ("\u00ad", "SOFT HYPHEN"),
    ("\u2028", "LINE SEPARATOR"),
    ("\u2029", "PARAGRAPH SEPARATOR"),
    ("\ue000", "U+E000"),  # private use: no name
    ("\ufffe", "U+FFFE"),  # a non-character
    ("\ud800", "U+D800"),  # a lone surrogate (JSON can carry one)
    ("\x00", "U+0000"),
    ("\x1b", "U+001B"),
]


@pytest.mark.parametrize(("char", "named"), REFUSED, ids=[f"U+{ord(c):04X}" for c, _ in REFUSED])
@pytest.mark.parametrize("multiline", [False, True])
def test_the_gate_refuses_and_names_each_invisible_or_control_character(char, named, multiline):
    with pytest.raises(TextError) as caught:
        clean_text(f"Есен{char}ов", max_length=50, multiline=multiline)
    message = str(caught.value)
    assert f"U+{ord(char):04X}" in message and named in message


def test_a_run_of_combining_marks_is_refused_but_ordinary_letters_pass():
    with pytest.raises(TextError) as caught:
        clean_text("Ас\u0301\u0302\u0303ел", max_length=50)
    assert "U+0303" in str(caught.value)
    # Every Kazakh letter, Russian ones (й, ё written decomposed compose under NFC),
    # the 2021 Latin alphabet's, a real accent, newlines and tabs in multiline text.
    for text in (
        "Әбенова Ғалия Қасымқызы ҢӨҰҮҺІ әғқңөұүһі",
        "Ии\u0306 Е\u0308лкин Сергеевич",
        "Äsel Ğabit Şynar Ūlan Ñ Ö Ü İlyas ı",
        "café",
    ):
        assert clean_text(text, max_length=100)
    assert clean_text("бір\n\tекі", max_length=50, multiline=True) == "бір\nекі"


def test_public_registration_refuses_a_reversed_name_and_writes_nothing(client, make_ceremony):
    ceremony = make_ceremony()
    body = {"full_name": "Жанболат \u202eвонебӘ", "phone": "+77012345678", "category": "veteran", "consent": True}
    response = client.post(f"/api/v1/ceremonies/{ceremony.id}/registrations", json=body)
    assert response.status_code == 422
    assert "U+202E" in response.json["error"]["fields"]["full_name"]
    page = client.post(
        f"/ceremonies/{ceremony.id}",
        data={"full_name": "Жанболат\u200bӘбенов", "phone": "+77012345678", "category": "veteran", "consent": "y"},
    )
    assert page.status_code == 422 and "U+200B" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_nomination_and_ceremony_apis_refuse_invisible_characters(client, token_for, cast, staff_user):
    before = db.session.scalar(select(func.count()).select_from(Nomination))
    response = client.post(
        "/api/v1/nominations",
        headers=token_for(cast.nominator),
        json={"nominee": nominee_data(surname="Есен\u2066ов"), "medal": MEDAL_CODE, "grounds": "Еңбек етті."},
    )
    assert response.status_code == 422
    assert "U+2066" in str(response.json["error"]["fields"])
    assert db.session.scalar(select(func.count()).select_from(Nomination)) == before

    organiser = staff_user("organiser")
    response = client.post(
        "/api/v1/ceremonies",
        headers=token_for(organiser),
        json={"title_kk": "Жеңіс\u202e күні", "starts_at": "2030-05-09T19:00", "venue": "Алаң", "capacity": 10},
    )
    assert response.status_code == 422 and "U+202E" in str(response.json["error"]["fields"])


def _import(data: bytes):
    from datetime import date

    from flask_babel import force_locale

    from award_service.nominations import importer

    with force_locale("en"):
        return importer.parse_upload(db.session, None, "n.csv", data, today=date(2025, 4, 1))


def _csv_line(row: dict) -> str:
    return ",".join(
        [
            row["surname"],
            row["given_name"],
            "",
            row["birth_date"],
            row["iin"],
            row["category"],
            row["district"],
            "Жезқазған",
            "+77012345678",
            MEDAL_CODE,
            "Еңбек етті.",
        ]
    )


HEADER = "surname,given_name,patronymic,birth_date,iin,category,district,address,phone,medal,grounds\n"


def test_the_import_names_the_row_and_the_character(app, medal):
    preview = _import((HEADER + _csv_line(nominee_data(surname="Есенов\u200f")) + "\n").encode("utf-8"))
    messages = " ".join(e.message for e in preview.errors)
    assert "U+200F" in messages and {e.row for e in preview.errors} == {2}, messages
    assert not preview.ok


def test_a_byte_order_mark_at_the_start_of_a_csv_is_not_text(app, medal):
    """A CSV saved by Excel starts with U+FEFF: that is the file's, not a cell's."""
    preview = _import(("\ufeff" + HEADER + _csv_line(nominee_data()) + "\n").encode("utf-8"))
    assert preview.errors == [] and len(preview.rows) == 1
