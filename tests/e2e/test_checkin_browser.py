"""The door in a real browser (Chromium), in Kazakh, at phone width: a
handheld scanner types the ticket code and Enter; the page shows who it is and
Enter admits them; the same ticket scanned again is refused."""

from __future__ import annotations

import pytest
from test_registration_browser import kazakh, visible_label

from award_service.actor import Actor
from award_service.ceremonies import registrations
from award_service.ceremonies.models import Registration
from award_service.extensions import db
from tests.conftest import PASSWORD, registration_data

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

pytestmark = pytest.mark.e2e

NAME = "Қоңырбаева Үміт Ғұмарқызы"


def test_scan_admit_and_refuse_the_second_scan(live_server, new_page, make_ceremony, make_user, screenshots):
    ceremony = make_ceremony()
    registered = registrations.register(
        db.session,
        Actor.system("test"),
        ceremony.id,
        registration_data(full_name=NAME, companions="2", needs_wheelchair="y"),
    )
    clerk = make_user("clerk")
    kk = kazakh(
        live_server.app,
        "E-mail",
        "Password",
        "Log in",
        "Door check-in",
        "Ticket code",
        "Admit",
        "Companions who came",
        "Wheelchair access",
    )
    page, watch = new_page(viewport={"width": 390, "height": 844})
    page.goto("/staff/login")
    page.get_by_label(visible_label(kk["E-mail"])).fill(clerk.email)
    page.get_by_label(visible_label(kk["Password"])).fill(PASSWORD)
    page.get_by_role("button", name=kk["Log in"], exact=True).click()

    page.goto(f"/staff/ceremonies/{ceremony.id}/checkin/")
    expect(page.get_by_role("heading", level=1)).to_have_text(kk["Door check-in"])
    code_field = page.get_by_label(visible_label(kk["Ticket code"]))
    expect(code_field).to_be_focused()  # the scanner types into it without a tap
    page.keyboard.type(registered.ticket_code.lower())  # as a scanner would, then Enter
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name=NAME)).to_be_visible()
    expect(page.locator("main")).to_contain_text(kk["Wheelchair access"])
    page.get_by_label(visible_label(kk["Companions who came"])).fill("1")
    page.get_by_role("button", name=kk["Admit"], exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text(NAME)
    page.screenshot(path=str(screenshots / "award-e2e-checkin.png"), full_page=True)

    page.get_by_label(visible_label(kk["Ticket code"])).fill(registered.ticket_code)
    page.keyboard.press("Enter")
    expect(page.locator(".flash-error")).to_be_visible()
    expect(page.get_by_role("button", name=kk["Admit"], exact=True)).to_have_count(0)
    page.screenshot(path=str(screenshots / "award-e2e-checkin-again.png"), full_page=True)
    watch.check()

    db.session.rollback()
    admitted = db.session.get(Registration, registered.id)
    assert admitted.checked_in_at is not None and admitted.companions_arrived == 1
