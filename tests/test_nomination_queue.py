"""The "waiting for me" queue as each person uses it: the clerk's rows carry the
clerk's next step (print the certificate, mark it presented)."""

from __future__ import annotations

import re

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


def test_approve_what_fits_takes_the_oldest_first_per_district_and_audits_each(cast):
    from award_service.errors import Conflict
    from award_service.medals.models import MedalQuota
    from award_service.nominations import transitions

    from .nomination_factories import DECREE, actor, audit_actions

    here = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(4)]
    there = [
        advance(nominate(cast.far_nominator, district="karazhal"), "recommended", cast, reviewer=cast.far_reviewer)
        for _ in range(2)
    ]
    quota = db.session.get(MedalQuota, (here[0].medal_id, here[0].district_id))
    quota.quota = 2
    db.session.commit()
    ids = [n.id for n in reversed(here + there)]  # the order ticked does not matter: numbers decide
    outcome = transitions.approve_what_fits(db.session, actor(cast.commission), ids, **DECREE)
    assert [n.id for n in outcome.approved] == sorted([here[0].id, here[1].id, there[0].id, there[1].id])
    assert [n.id for n in outcome.not_approved] == [here[2].id, here[3].id]
    assert outcome.full_quotas == {(here[0].medal_id, here[0].district_id): 2}
    for n in outcome.approved:
        assert reload(n.id).status == "approved" and reload(n.id).decree_number == "45"
        assert [e.action for e in audit_actions(n.id)][-1] == "nomination.approve"
        assert db.session.query(Award).filter_by(nomination_id=n.id).count() == 1
    for n in outcome.not_approved:
        assert reload(n.id).status == "recommended"
        assert "nomination.approve" not in [e.action for e in audit_actions(n.id)]
    db.session.expire_all()
    assert db.session.get(MedalQuota, (here[0].medal_id, here[0].district_id)).used == 2
    assert db.session.get(MedalQuota, (there[0].medal_id, there[0].district_id)).used == 2
    # Nothing fits any more: the quota's Conflict, nothing changed.
    with pytest.raises(Conflict) as exc:
        transitions.approve_what_fits(db.session, actor(cast.commission), [here[2].id], **DECREE)
    assert exc.value.code == "quota_exceeded" and reload(here[2].id).status == "recommended"
    # The all-or-nothing bulk (API, demo) is unchanged.
    with pytest.raises(Conflict):
        transitions.bulk_transition(db.session, actor(cast.commission), [here[2].id, here[3].id], "approve", **DECREE)


def test_the_commissions_queue_has_a_district_filter(english, cast):
    here = advance(nominate(cast.nominator, surname="Оспанов", given_name="Болат"), "recommended", cast)
    there = advance(
        nominate(cast.far_nominator, surname="Иванов", given_name="Иван", district="karazhal"),
        "recommended",
        cast,
        reviewer=cast.far_reviewer,
    )
    commission = english(cast.commission)
    page = commission.get("/staff/nominations/queue")
    assert 'name="district"' in page.text and "Оспанов" in page.text and "Иванов" in page.text
    page = commission.get("/staff/nominations/queue?district=karazhal")
    assert "Иванов" in page.text and "Оспанов" not in page.text
    assert '<option selected value="karazhal">' in page.text
    assert (
        "Quota of Karazhal city for 80 Years of Victory in the Great Patriotic War 1941–1945: "
        "50, of which 0 used, 50 left."
    ) in page.text
    tick_all = re.search(r'href="([^"]*select=all[^"]*)"', page.text).group(1)
    assert "district=karazhal" in tick_all
    # Acting on the filtered queue comes back to it.
    done = commission.post(
        "/staff/nominations/queue?district=karazhal",
        data={"action": "approve", "ids": [there.id], "decree_number": "45", "decree_date": "28.04.2025"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/nominations/queue?district=karazhal")
    assert reload(there.id).status == "approved" and reload(here.id).status == "recommended"
    # An unknown district shows the whole queue; a district-bound reviewer gets no filter.
    assert "Оспанов" in commission.get("/staff/nominations/queue?district=atlantis").text
    reviewer_page = english(cast.reviewer).get("/staff/nominations/queue")
    assert 'name="district"' not in reviewer_page.text
