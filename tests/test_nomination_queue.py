"""The "waiting for me" queue as each person uses it: the clerk's rows carry the
clerk's next step (print the certificate, mark it presented)."""

from __future__ import annotations

import pytest

from award_service.awards.models import Award
from award_service.extensions import db

from .conftest import PASSWORD
from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import advance, nominate, reload


@pytest.fixture
def english(app):
    """A logged-in English test client per person."""

    def for_user(user):
        c = app.test_client()
        with c.session_transaction() as session:
            session["lang"] = "en"
        response = c.post("/staff/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
        return c

    return for_user


def test_the_clerks_queue_links_each_row_to_the_clerks_step(english, cast):
    approved = advance(nominate(cast.nominator, surname="Оспанов", given_name="Болат"), "approved", cast)
    waiting = advance(nominate(cast.nominator, surname="Сәтбаев", given_name="Қаныш"), "recommended", cast)
    award = db.session.query(Award).filter_by(nomination_id=approved.id).one()
    clerk = english(cast.clerk)

    page = clerk.get("/staff/nominations/queue")
    assert page.status_code == 200
    assert "Оспанов" in page.text and "Сәтбаев" not in page.text  # recommended waits for the commission
    print_link = f'href="/staff/awards/{award.serial}/certificate.pdf"'
    present_link = f'href="/staff/awards/{award.serial}#presented"'
    assert print_link in page.text and "Print the certificate" in page.text
    assert present_link in page.text and "Mark presented" in page.text
    assert "mark it presented once the medal has been handed over" in page.text

    # The links lead to the step itself: the PDF prints, the anchor is the form.
    pdf = clerk.get(f"/staff/awards/{award.serial}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    show = clerk.get(f"/staff/awards/{award.serial}")
    assert 'id="presented"' in show.text
    done = clerk.post(f"/staff/awards/{award.serial}/presented", data={"date": "09.05.2025"})
    assert done.status_code == 302
    assert reload(approved.id).status == "awarded"
    page = clerk.get("/staff/nominations/queue")
    assert "Оспанов" not in page.text and "Nothing is waiting for you" in page.text
    assert reload(waiting.id).status == "recommended"


def test_other_queues_show_no_certificate_links(english, cast):
    advance(nominate(cast.nominator, surname="Оспанов", given_name="Болат"), "submitted", cast)
    page = english(cast.reviewer).get("/staff/nominations/queue")
    assert "Оспанов" in page.text
    assert "Print the certificate" not in page.text and "#presented" not in page.text
    assert 'value="recommend"' in page.text  # the reviewer's own actions, as before
