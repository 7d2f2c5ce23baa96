"""Organisers manage ceremonies: create, edit, publish, close, cancel, history, registrations."""

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select

from award_service.audit.models import AuditEvent
from award_service.ceremonies.models import Ceremony, Registration
from award_service.extensions import db

from .conftest import form_errors, future, registration_data


def ceremony_form(**overrides):
    data = {
        "title_kk": "Ұлы Жеңіс — ұрпаққа мұра",
        "title_ru": "Великая Победа — наследие поколениям",
        "description_kk": "Салтанатты жиын",
        "description_ru": "Торжественное собрание",
        "starts_at": future(40),
        "venue": "Алаш алаңы",
        "address": "Жезқазған қ.",
        "district": "zhezkazgan",
        "capacity": "400",
        "registration_opens_at": "",
        "registration_closes_at": "",
        "waitlist": "y",
    }
    data.update(overrides)
    return data


def test_organiser_creates_edits_and_publishes_a_ceremony(en_client, login, make_user):
    client = en_client
    organiser = login(make_user("organiser"))
    response = client.post("/staff/ceremonies/new", data=ceremony_form(starts_at="2030-05-09T19:00"))
    assert response.status_code == 302
    ceremony = db.session.scalars(select(Ceremony)).one()
    # entered in Kazakhstan time (UTC+5), stored in UTC
    assert ceremony.starts_at == datetime(2030, 5, 9, 14, 0, tzinfo=UTC)
    assert ceremony.status == "draft" and ceremony.created_by_id == organiser.id
    assert client.get("/api/v1/ceremonies").json["items"] == []

    edit_page = client.get(f"/staff/ceremonies/{ceremony.id}/edit")
    assert 'value="2030-05-09T19:00"' in edit_page.text
    response = client.post(
        f"/staff/ceremonies/{ceremony.id}/edit",
        data=ceremony_form(starts_at="2030-05-09T19:00", capacity="350", venue="Жастар сарайы"),
    )
    assert response.status_code == 302
    assert client.post(f"/staff/ceremonies/{ceremony.id}/publish").status_code == 302
    listed = client.get("/api/v1/ceremonies").json["items"]
    assert [c["id"] for c in listed] == [ceremony.id] and listed[0]["capacity"] == 350
    assert "Жастар сарайы" in client.get("/").text

    history = client.get(f"/staff/ceremonies/{ceremony.id}/history")
    assert history.status_code == 200
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "ceremony").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["ceremony.create", "ceremony.update", "ceremony.publish"]
    assert events[1].before == {"venue": "Алаш алаңы", "capacity": 400}
    assert events[1].after == {"venue": "Жастар сарайы", "capacity": 350}
    assert events[2].before == {"status": "draft"} and events[2].after == {"status": "published"}
    assert all(e.actor_id == organiser.id and e.client_addr for e in events)


def test_ceremony_form_errors(en_client, login, make_user):
    login(make_user("organiser"))
    response = en_client.post(
        "/staff/ceremonies/new",
        data=ceremony_form(
            title_kk="",
            starts_at="2020-01-01T10:00",
            capacity="0",
            district="mars",
            registration_closes_at="2099-01-01T10:00",
        ),
    )
    assert response.status_code == 422
    assert set(form_errors(response.text)) >= {"title_kk", "starts_at", "capacity", "district"}
    response = en_client.post("/staff/ceremonies/new", data=ceremony_form(starts_at="tomorrow"))
    assert "starts_at" in form_errors(response.text)
    response = en_client.post(
        "/staff/ceremonies/new", data=ceremony_form(registration_opens_at=future(20), registration_closes_at=future(10))
    )
    assert "registration_opens_at" in form_errors(response.text)
    assert db.session.scalar(select(Ceremony.id)) is None


def test_capacity_cannot_go_below_seats_taken(en_client, login, make_user, make_ceremony):
    login(make_user("organiser"))
    ceremony = make_ceremony(capacity=10)
    en_client.post(f"/ceremonies/{ceremony.id}", data=registration_data(companions="4"))
    response = en_client.post(f"/staff/ceremonies/{ceremony.id}/edit", data=ceremony_form(capacity="4"))
    assert response.status_code == 422 and "capacity" in form_errors(response.text)
    db.session.expire_all()
    assert db.session.get(Ceremony, ceremony.id).capacity == 10


def test_transitions_follow_the_table(en_client, login, make_user, make_ceremony):
    login(make_user("organiser"))
    ceremony = make_ceremony()
    assert en_client.post(f"/staff/ceremonies/{ceremony.id}/publish", follow_redirects=True).status_code == 200
    db.session.expire_all()
    assert db.session.get(Ceremony, ceremony.id).status == "published"  # publish from published: refused
    en_client.post(f"/staff/ceremonies/{ceremony.id}/close")
    db.session.expire_all()
    assert db.session.get(Ceremony, ceremony.id).status == "closed"
    en_client.post(f"/staff/ceremonies/{ceremony.id}/cancel", data={"reason": "Ауа райы"})
    db.session.expire_all()
    assert db.session.get(Ceremony, ceremony.id).status == "cancelled"
    page = en_client.post(f"/staff/ceremonies/{ceremony.id}/publish", follow_redirects=True)
    assert "cannot be changed this way" in page.text
    assert en_client.post(f"/staff/ceremonies/{ceremony.id}/explode").status_code == 404
    assert en_client.get(f"/staff/ceremonies/{ceremony.id}/edit").status_code == 200
    assert en_client.post(f"/staff/ceremonies/{ceremony.id}/edit", data=ceremony_form()).status_code == 409
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ceremony.cancel"))
    assert event.reason == "Ауа райы"


def test_api_creates_ceremonies(client, make_user, token_for):
    headers = token_for(make_user("organiser"))
    body = {
        "title_kk": "Ұлы Жеңіс",
        "title_ru": "Великая Победа",
        "starts_at": "2030-05-09T19:00:00+05:00",
        "venue": "Алаш алаңы",
        "district": "zhezkazgan",
        "capacity": 20,
        "registration_opens_at": "2030-04-01T09:00",
        "registration_closes_at": "2030-05-08T18:00",
        "waitlist": True,
        "status": "published",
    }
    response = client.post("/api/v1/ceremonies", json=body, headers=headers)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["starts_at"] == "2030-05-09T14:00:00+00:00"
    assert created["registration_opens_at"] == "2030-04-01T04:00:00+00:00"
    assert created["seats_left"] == 20 and created["status"] == "published" and created["waitlist"] is True
    assert client.get(f"/api/v1/ceremonies/{created['id']}").json["registration"] == "not_yet"

    bad = client.post(
        "/api/v1/ceremonies",
        json={**body, "status": "cancelled", "capacity": "many", "district": "atlantis", "starts_at": "9 May"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"status", "capacity", "district", "starts_at"}


def test_district_scoped_organiser(client, make_user, token_for, make_ceremony, login):
    headers = token_for(make_user("organiser", district="satbayev"))
    body = {
        "title_kk": "А",
        "title_ru": "А",
        "starts_at": future(),
        "venue": "В",
        "district": "zhezkazgan",
        "capacity": 10,
    }
    response = client.post("/api/v1/ceremonies", json=body, headers=headers)
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert client.post("/api/v1/ceremonies", json={**body, "district": "satbayev"}, headers=headers).status_code == 201
    other = make_ceremony(district="zhezkazgan")
    response = client.get(f"/api/v1/ceremonies/{other.id}/registrations", headers=headers)
    assert response.status_code == 403
    login(make_user("organiser", district="satbayev"))
    assert client.get(f"/staff/ceremonies/{other.id}").status_code == 403
    assert client.post(f"/staff/ceremonies/{other.id}/cancel").status_code == 403
    listing = client.get("/staff/ceremonies/")
    assert f"/staff/ceremonies/{other.id}" not in listing.text


def test_organiser_registers_on_behalf_searches_cancels_and_exports(
    en_client, login, make_user, make_ceremony, token_for
):
    client = en_client
    organiser = login(make_user("organiser"))
    ceremony = make_ceremony(capacity=50)
    response = client.post(
        f"/staff/ceremonies/{ceremony.id}/registrations/new",
        data=registration_data(full_name='=HYPERLINK("http://evil")', phone="+77011112233"),
        follow_redirects=True,
    )
    assert response.status_code == 200 and "Manage link: http://award.test/r/" in response.text
    client.post(
        f"/staff/ceremonies/{ceremony.id}/registrations/new",
        follow_redirects=True,
        data=registration_data(full_name="Ғабит Мүсірепов", phone="+77014445566", companions="1"),
    )
    registrations = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    assert [r.source for r in registrations] == ["staff", "staff"]
    assert registrations[0].created_by_id == organiser.id

    page = client.get(f"/staff/ceremonies/{ceremony.id}?q=ғабит")
    assert "Ғабит Мүсірепов" in page.text and "HYPERLINK" not in page.text
    assert "Мүсірепов" in client.get(f"/staff/ceremonies/{ceremony.id}?q=4445").text

    export = client.get(f"/staff/ceremonies/{ceremony.id}/registrations.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert rows[0][1] == "Full name" and len(rows) == 3
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'  # formula neutralised
    assert rows[2][1] == "Ғабит Мүсірепов"

    api = client.get(f"/api/v1/ceremonies/{ceremony.id}/registrations?q=Ғабит", headers=token_for(organiser))
    assert api.status_code == 200 and api.json["total"] == 1 and api.json["items"][0]["seats"] == 2

    response = client.post(
        f"/staff/ceremonies/{ceremony.id}/registrations/{registrations[1].id}/cancel",
        data={"reason": "called to cancel"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, registrations[1].id).status == "cancelled"
    assert db.session.get(Ceremony, ceremony.id).seats_taken == 1
    history = client.get(f"/staff/ceremonies/{ceremony.id}/registrations/{registrations[1].id}/history")
    assert "Registration cancelled" in history.text and "called to cancel" in history.text
    assert "registration.cancel" not in history.text  # the action in words, not its code


def test_staff_may_register_outside_the_window_but_not_beyond_capacity(en_client, login, make_user, make_ceremony):
    login(make_user("organiser"))
    ceremony = make_ceremony(capacity=1, registration_opens_at=future(5), registration_closes_at=future(6))
    url = f"/staff/ceremonies/{ceremony.id}/registrations/new"
    assert en_client.post(url, data=registration_data(phone="+77010000001")).status_code == 302
    response = en_client.post(url, data=registration_data(phone="+77010000002"))
    assert response.status_code == 409 and "seats are taken" in response.text


def test_public_list_shows_only_published_upcoming(client, make_ceremony, app):
    published = make_ceremony()
    make_ceremony(status="draft")
    past = make_ceremony()
    past.starts_at = datetime(2020, 5, 9, 14, tzinfo=UTC)
    db.session.commit()
    ids = [c["id"] for c in client.get("/api/v1/ceremonies").json["items"]]
    assert ids == [published.id]
    assert client.get(f"/api/v1/ceremonies/{past.id}").json["registration"] == "past"
