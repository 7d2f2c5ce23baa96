"""Dates and words (issue 12, item 6): one date format on pages, PDFs and mail;
exports in ISO 8601 with the zone and statuses in words; the history page in
words; the decree date hint; ceremonies' English title and venues in three
languages with one fallback rule; Accept-Language on a first visit; links in
mail that carry the recipient's language."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from award_service import mail
from award_service.actor import Actor
from award_service.awards.models import Award
from award_service.ceremonies import registrations
from award_service.ceremonies import service as ceremonies
from award_service.ceremonies.models import Ceremony, Registration
from award_service.dates import local_today
from award_service.extensions import db
from award_service.i18n import fallback_order, in_language
from award_service.mail.models import OutboxMessage
from award_service.states import label as state_label

from .conftest import registration_data
from .nomination_factories import *  # noqa: F403  (fixtures: medal, cast, staff_user)
from .nomination_factories import DECREE, advance, nominate
from .test_mail_helpers import smtp, text_body  # noqa: F401  (smtp: fixture)

WHEN = "2030-05-09T19:00"  # Kazakhstan time: 14:00 UTC
SHOWN = "09.05.2030, 19:00"
DECREE_SHOWN = "28.04.2025"  # DECREE["decree_date"] is 2025-04-28
ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:00$")


@pytest.fixture
def app(make_app, smtp):
    app = make_app(
        AWARD_SMTP_HOST="127.0.0.1", AWARD_SMTP_PORT=smtp.port, AWARD_SMTP_TIMEOUT=5, AWARD_MAIL_SWEEP_SECONDS=0
    )
    with app.app_context():
        yield app
        mail.shutdown(app)


def register(ceremony, *, language: str, email: str = "aru@example.kz", **data) -> Registration:
    values = registration_data(email=email, phone="", **data)
    registration = registrations.register(db.session, Actor.system("test"), ceremony.id, values, language=language)
    mail.flush()
    return registration


def sent(smtp, kind: str, registration: Registration):
    db.session.expire_all()
    ids = db.session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.kind == kind,
            OutboxMessage.object_type == "registration",
            OutboxMessage.object_id == str(registration.id),
        )
    ).all()
    [message] = smtp.messages_for(ids)
    return message


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def translated(lang: str, msgid: str, **values) -> str:
    with force_locale(lang):
        return gettext(msgid, **values)


def label_in(lang: str, status: str) -> str:
    with force_locale(lang):
        return str(state_label("nomination", status))


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)"', html).group(1)


# ------------------------------------------------------------------ one date format


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_one_date_format_on_pages_the_ticket_and_mail(client, smtp, make_ceremony, lang):
    ceremony = make_ceremony(starts_at=WHEN, registration_closes_at="2030-05-08T18:00")
    registration = register(ceremony, language=lang)

    for path in ("/", f"/ceremonies/{ceremony.id}", f"/r/{registration.token}"):
        page = client.get(path, query_string={"lang": lang})
        assert page.status_code == 200 and html_lang(page.text) == lang
        assert SHOWN in page.text, path
    assert "08.05.2030, 18:00" in client.get(f"/ceremonies/{ceremony.id}", query_string={"lang": lang}).text

    ticket = client.get(f"/r/{registration.token}/ticket.pdf")
    assert ticket.status_code == 200 and SHOWN in pdf_text(ticket.data)

    body = text_body(sent(smtp, "registration_confirmed", registration))
    assert translated(lang, "When: %(when)s", when=SHOWN) in body
    assert "2030" not in body.replace(SHOWN, "")  # no second, longer form of the date


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_one_date_format_on_the_certificate_the_sheet_and_staff_pages(
    client, login, token_for, cast, make_ceremony, lang
):
    nomination = advance(nominate(cast.nominator), "approved", cast)
    award = db.session.scalar(select(Award).where(Award.nomination_id == nomination.id))
    ceremony = make_ceremony(starts_at=WHEN)
    headers = token_for(cast.clerk)
    client.post(f"/api/v1/ceremonies/{ceremony.id}/awards", json={"serials": [award.serial]}, headers=headers)

    certificate = client.get(f"/api/v1/awards/{award.serial}/certificate.pdf", headers=headers)
    assert DECREE_SHOWN in pdf_text(certificate.data)
    sheet = client.get(f"/api/v1/awards/presentation-sheet.pdf?ceremony={ceremony.id}", headers=headers)
    assert SHOWN in pdf_text(sheet.data)

    login(cast.clerk)
    for path in (f"/staff/nominations/{nomination.id}", f"/staff/awards/{award.serial}"):
        page = client.get(path, query_string={"lang": lang})
        assert page.status_code == 200 and DECREE_SHOWN in page.text, path
    assert SHOWN in client.get(f"/staff/ceremonies/{ceremony.id}", query_string={"lang": lang}).text
    verify = client.get(f"/v/{award.verify_code}", query_string={"lang": lang})
    assert DECREE_SHOWN in verify.text


# ------------------------------------------------------------------ exports


def test_registrations_export_iso_times_statuses_in_words_one_charset(client, login, make_user, make_ceremony):
    organiser = make_user("organiser")
    ceremony = make_ceremony(starts_at=WHEN, capacity=1, waitlist=True)
    first = register(ceremony, language="kk", full_name='=HYPERLINK("http://evil")')
    second = register(ceremony, language="kk", email="second@example.kz")
    assert second.status == "waitlisted"
    login(organiser)
    response = client.get(f"/staff/ceremonies/{ceremony.id}/registrations.csv", query_string={"lang": "ru"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header = table[0]
    rows = {r[0]: dict(zip(header, r)) for r in table[1:]}
    registered_at = translated("ru", "Registered at")
    status = translated("ru", "Status")
    code = translated("ru", "Status code")
    row = rows[str(first.id)]
    assert ISO_OFFSET.match(row[registered_at]), row[registered_at]
    assert datetime.fromisoformat(row[registered_at]) == first.created_at.replace(microsecond=0)
    assert row[status] == translated("ru", "Confirmed") and row[code] == "confirmed"
    assert rows[str(second.id)][status] == translated("ru", "On the waiting list")
    assert rows[str(second.id)][code] == "waitlisted"
    assert row[translated("ru", "Full name")] == '\'=HYPERLINK("http://evil")'  # still no formula
    assert row[translated("ru", "Checked in")] == ""


def test_nominations_export_keeps_its_machine_columns_and_adds_the_status_in_words(client, login, make_user, cast):
    advance(nominate(cast.nominator), "approved", cast)
    nominate(cast.nominator, surname="Сәрсенова")
    login(make_user("reviewer"))
    response = client.get("/staff/nominations/io/export.csv", query_string={"lang": "kk"})
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0][-4:] == ["status", "decree_number", "decree_date", "status_label"]  # the machine code stays
    records = [dict(zip(table[0], r)) for r in table[1:]]
    by_status = {r["status"]: r for r in records}
    assert by_status["approved"]["status_label"] == label_in("kk", "approved") != "approved"
    assert by_status["approved"]["decree_date"] == DECREE["decree_date"]  # ISO 8601
    assert by_status["draft"]["status_label"] == label_in("kk", "draft")

    xlsx = client.get("/staff/nominations/io/export.xlsx", query_string={"lang": "ru"})
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    labels = {r[rows[0].index("status")]: r[rows[0].index("status_label")] for r in rows[1:]}
    assert labels == {"approved": label_in("ru", "approved"), "draft": label_in("ru", "draft")}


# ------------------------------------------------------------------ history in words


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_history_page_shows_labels_words_and_local_times(app, client, login, make_user, make_ceremony, lang):
    organiser = make_user("organiser")
    ceremony = make_ceremony(starts_at=WHEN)
    ceremonies.update_ceremony(
        db.session,
        Actor(user=organiser),
        ceremony,
        {"venue": "Жастар сарайы", "waitlist": True, "registration_closes_at": "2030-05-08T18:00"},
        tz=app.config["AWARD_TIMEZONE"],
    )
    ceremonies.update_ceremony(
        db.session, Actor(user=organiser), ceremony, {"registration_closes_at": None}, tz=app.config["AWARD_TIMEZONE"]
    )
    login(organiser)
    page = client.get(f"/staff/ceremonies/{ceremony.id}/history", query_string={"lang": lang})
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text)
    text = " ".join(text.split())
    for word in (
        "None",
        "True",
        "False",
        "ceremony.update",
        "ceremony.create",
        "registration_closes_at",
        "waitlist",
        "zhezkazgan",
    ):
        assert word not in text, word
    venue = translated(lang, "Venue")
    assert f"{venue}: Алаш алаңы → Жастар сарайы" in text
    assert (
        f"{translated(lang, 'Keep a waiting list when full')}: {translated(lang, 'no')} → {translated(lang, 'yes')}"
        in text
    )
    closes = translated(lang, "Registration closes")
    assert f"{closes}: — → 08.05.2030, 18:00" in text
    assert f"{closes}: 08.05.2030, 18:00 → —" in text
    assert f"{translated(lang, 'Starts at')}: {SHOWN}" in text  # the creation, in local time
    assert translated(lang, "Changed") in text and translated(lang, "Created") in text
    assert f"{translated(lang, 'District')}: {ceremony.district.name(lang)}" in text  # the name, not the code
    assert f"{translated(lang, 'Venue (English)')}:" not in text  # left empty at creation: not listed


def test_registration_history_names_its_actions_and_sources(client, login, make_user, make_ceremony):
    organiser = make_user("organiser")
    ceremony = make_ceremony(starts_at=WHEN)
    registration = register(ceremony, language="ru")
    registration = db.session.get(Registration, registration.id)
    registrations.cancel_registration(db.session, Actor(user=organiser), registration, reason="передумал")
    login(organiser)
    page = client.get(
        f"/staff/ceremonies/{ceremony.id}/registrations/{registration.id}/history", query_string={"lang": "ru"}
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert translated("ru", "Registered") in text and translated("ru", "Registration cancelled") in text
    assert f"{translated('ru', 'Registered by')}: {translated('ru', 'the person, online')}" in text
    assert (
        f"{translated('ru', 'Status')}: {translated('ru', 'Confirmed')} → {translated('ru', 'Registration cancelled')}"
        in text
    )
    assert "передумал" in text and "registration." not in text and "online" not in text


# ------------------------------------------------------------------ decree date hint


def test_the_decree_date_hint_is_a_plausible_decree_date(client, login, cast):
    nomination = advance(nominate(cast.nominator), "recommended", cast)
    login(cast.commission)
    page = client.get(f"/staff/nominations/{nomination.id}", query_string={"lang": "ru"})
    hint = re.search(r'id="decree_date-hint">([^<]*)<', page.text).group(1)
    assert local_today().strftime("%d.%m.%Y") in hint and "1927" not in hint


# ------------------------------------------------------------------ titles and venues in three languages


@pytest.mark.parametrize(
    ("texts", "language", "shown"),
    [
        ({"kk": "Қ", "ru": "Р", "en": "E"}, "en", "E"),
        ({"kk": "Қ", "ru": "Р", "en": ""}, "en", "Р"),
        ({"kk": "Қ", "ru": "", "en": ""}, "en", "Қ"),
        ({"kk": "", "ru": "", "en": ""}, "en", "venue"),
        ({"kk": "Қ", "ru": "Р", "en": "E"}, "kk", "Қ"),
        ({"kk": "", "ru": "Р", "en": "E"}, "kk", "Р"),
        ({"kk": "", "ru": "", "en": "E"}, "kk", "venue"),
        ({"kk": "Қ", "ru": "", "en": "E"}, "ru", "Қ"),
    ],
)
def test_one_fallback_rule(texts, language, shown):
    assert in_language(texts, language, "venue") == shown
    assert fallback_order("en") == ("en", "ru", "kk") and fallback_order("ru") == ("ru", "kk")


LANGUAGE_FIELDS = {
    "title_en": "Great Victory: a legacy for generations",
    "venue_kk": "Жастар сарайы",
    "venue_ru": "Дворец молодёжи",
    "venue_en": "Youth Palace",
}


def test_api_takes_and_returns_the_language_fields(client, token_for, make_user):
    organiser = make_user("organiser")
    body = {
        "title_kk": "Ұлы Жеңіс",
        "title_ru": "Великая Победа",
        "starts_at": WHEN,
        "venue": "Алаш алаңы",
        "district": "zhezkazgan",
        "capacity": 50,
        "status": "published",
        **LANGUAGE_FIELDS,
    }
    created = client.post("/api/v1/ceremonies", json=body, headers=token_for(organiser))
    assert created.status_code == 201, created.json
    assert {k: created.json[k] for k in LANGUAGE_FIELDS} == LANGUAGE_FIELDS
    assert created.json["venue"] == "Алаш алаңы"
    public = client.get(f"/api/v1/ceremonies/{created.json['id']}").json
    assert {k: public[k] for k in LANGUAGE_FIELDS} == LANGUAGE_FIELDS

    bare = client.post(
        "/api/v1/ceremonies", json={**body, **dict.fromkeys(LANGUAGE_FIELDS)}, headers=token_for(organiser)
    )
    assert bare.status_code == 201 and all(bare.json[k] is None for k in LANGUAGE_FIELDS)
    too_long = client.post("/api/v1/ceremonies", json={**body, "venue_en": "x" * 201}, headers=token_for(organiser))
    assert too_long.status_code == 422 and "venue_en" in too_long.json["error"]["fields"]


def test_pages_mail_calendar_and_ticket_follow_the_rule(client, smtp, make_ceremony):
    ceremony = make_ceremony(starts_at=WHEN, title_en=LANGUAGE_FIELDS["title_en"], venue_en="Youth Palace")
    detail = f"/ceremonies/{ceremony.id}"
    english = client.get(detail, query_string={"lang": "en"}).text
    assert LANGUAGE_FIELDS["title_en"] in english and "Youth Palace" in english
    kazakh = client.get(detail, query_string={"lang": "kk"}).text
    assert "Ұлы Жеңіс" in kazakh and "Алаш алаңы" in kazakh and "Youth Palace" not in kazakh  # venue: the fallback

    registration = register(ceremony, language="en")
    message = sent(smtp, "registration_confirmed", registration)
    assert LANGUAGE_FIELDS["title_en"] in message["Subject"]
    assert "Where: Youth Palace, Жезқазған" in text_body(message)
    calendar = next(p for p in message.walk() if p.get_filename() == "ceremony.ics").get_payload(decode=True)
    assert "LOCATION:Youth Palace\\, Жезқазған" in calendar.decode()

    ceremonies.update_ceremony(
        db.session,
        Actor.system("test"),
        ceremony,
        {"venue_kk": "Жастар сарайы", "venue_ru": "Дворец молодёжи"},
        tz="Asia/Almaty",
    )
    mail.flush()
    changed = text_body(sent(smtp, "ceremony_changed", registration))
    assert "Where: Youth Palace, Жезқазған" in changed and "New place" not in changed  # not theirs
    ceremonies.update_ceremony(db.session, Actor.system("test"), ceremony, {"venue_en": "Grand Hall"}, tz="Asia/Almaty")
    mail.flush()
    db.session.expire_all()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.kind == "ceremony_changed", OutboxMessage.object_id == str(registration.id))
        .order_by(OutboxMessage.id)
    ).all()
    assert "New place: Grand Hall, Жезқазған" in text_body(smtp.messages_for(ids[-1:])[0])
    ticket = pdf_text(client.get(f"/r/{registration.token}/ticket.pdf").data)
    assert "Жастар сарайы / Дворец молодёжи" in ticket
    # Russian now has its own venue; English keeps its own; Kazakh has its own.
    assert "Дворец молодёжи" in client.get(detail, query_string={"lang": "ru"}).text
    assert "Жастар сарайы" in client.get(detail, query_string={"lang": "kk"}).text


def test_staff_form_saves_the_language_fields(client, login, make_user, make_ceremony):
    organiser = make_user("organiser")
    ceremony = make_ceremony(starts_at=WHEN)
    login(organiser)
    form = client.get(f"/staff/ceremonies/{ceremony.id}/edit", query_string={"lang": "ru"})
    for name in LANGUAGE_FIELDS:
        assert f'name="{name}"' in form.text
    data = {
        "title_kk": ceremony.title_kk,
        "title_ru": ceremony.title_ru,
        "starts_at": WHEN,
        "venue": ceremony.venue,
        "address": ceremony.address,
        "district": "zhezkazgan",
        "capacity": "20",
        **LANGUAGE_FIELDS,
    }
    response = client.post(f"/staff/ceremonies/{ceremony.id}/edit", data=data)
    assert response.status_code == 302, response.text
    db.session.expire_all()
    saved = db.session.get(Ceremony, ceremony.id)
    assert {k: getattr(saved, k) for k in LANGUAGE_FIELDS} == LANGUAGE_FIELDS
    history = client.get(f"/staff/ceremonies/{ceremony.id}/history", query_string={"lang": "ru"}).text
    assert f"{translated('ru', 'Venue (English)')}: — → Youth Palace" in " ".join(
        re.sub(r"<[^>]+>", " ", history).split()
    )


# ------------------------------------------------------------------ the language of a first visit


@pytest.mark.parametrize(
    ("accept", "shown"),
    [("ru-RU,ru;q=0.9,en;q=0.8", "ru"), ("en-GB,en;q=0.9", "en"), ("kk", "kk"), ("de-DE,de;q=0.9", "kk"), ("", "kk")],
)
def test_accept_language_on_a_first_visit(app, accept, shown):
    fresh = app.test_client()
    headers = {"Accept-Language": accept} if accept else {}
    page = fresh.get("/", headers=headers)
    assert html_lang(page.text) == shown
    assert "Accept-Language" in page.headers["Vary"]  # a cache keeps one copy per language


def test_a_chosen_language_wins_over_the_browser(app):
    fresh = app.test_client()
    page = fresh.get("/", headers={"Accept-Language": "ru"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    data = {"next": "/"} | ({"csrf_token": token.group(1)} if token else {})
    fresh.post("/language/kk", data=data, headers={"Accept-Language": "ru"})
    assert html_lang(fresh.get("/", headers={"Accept-Language": "ru"}).text) == "kk"


# ------------------------------------------------------------------ links in mail carry the language


def test_a_russian_mail_link_opens_in_russian(app, smtp, make_ceremony):
    ceremony = make_ceremony(starts_at=WHEN)
    registration = register(ceremony, language="ru")
    body = text_body(sent(smtp, "registration_confirmed", registration))
    links = re.findall(r"https?://\S+", body)
    manage = next(link for link in links if f"/r/{registration.token}?" in link)
    assert manage.endswith("?lang=ru")
    assert all(link.endswith("lang=ru") for link in links), links

    browser = app.test_client()  # a Kazakh browser: the link still opens in Russian
    path = manage.removeprefix(app.config["AWARD_BASE_URL"])
    page = browser.get(path, headers={"Accept-Language": "kk"})
    assert page.status_code == 200 and html_lang(page.text) == "ru"
    assert translated("ru", "Ceremony") in page.text and translated("ru", "Ceremony") != "Ceremony"
    # the next page keeps it, as the language switch would
    assert html_lang(browser.get("/", headers={"Accept-Language": "kk"}).text) == "ru"
    # and choosing another language afterwards is not undone by the link's ?lang=
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    data = {"next": path} | ({"csrf_token": token.group(1)} if token else {})
    switched = browser.post("/language/kk", data=data)
    assert switched.status_code == 302 and "lang=" not in switched.headers["Location"]
    assert html_lang(browser.get(switched.headers["Location"]).text) == "kk"


def test_nomination_mail_links_carry_the_language(app, smtp, cast):
    from award_service.accounts.models import User

    user = db.session.get(User, cast.nominator.id)
    user.language = "ru"
    db.session.commit()
    nomination = advance(nominate(cast.nominator), "approved", cast)
    mail.flush()
    db.session.expire_all()
    ids = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.object_id == str(nomination.id))).all()
    bodies = [text_body(m) for m in smtp.messages_for(ids)]
    assert bodies and all(f"/staff/nominations/{nomination.id}?lang=ru" in b for b in bodies)
    assert all(DECREE_SHOWN in b for b in bodies)


def test_when_is_the_same_moment_across_the_day_boundary(client, make_ceremony):
    """20:30 UTC is 01:30 the next day in Kazakhstan: the page says the next day."""
    starts = datetime.fromisoformat("2030-05-10T01:30")
    ceremony = make_ceremony(starts_at=starts.isoformat(timespec="minutes"))
    assert ceremony.starts_at.hour == 20 and ceremony.starts_at.day == 9
    assert "10.05.2030, 01:30" in client.get(f"/ceremonies/{ceremony.id}", query_string={"lang": "ru"}).text
    assert timedelta(hours=5) == starts - ceremony.starts_at.replace(tzinfo=None)
