"""Issue 12, items 2 and 4 in a real browser (Chromium), in Kazakh, at 360 px
(a small phone) and 1280 px (a desk): the public joins the waiting list of a
full ceremony; an organiser registers someone by phone for it; the door finds
a phone-only registration by the phone typed any way and gives its ticket;
a person who lost the link has it sent again.  Every page visited is checked
for sideways scrolling, and the other two languages at 360 px too."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select
from test_registration_browser import kazakh, visible_label

from award_service.actor import Actor
from award_service.ceremonies import registrations
from award_service.ceremonies.models import Registration
from award_service.extensions import db
from award_service.mail.models import OutboxMessage
from tests.conftest import PASSWORD, registration_data

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

pytestmark = pytest.mark.e2e

WIDTHS = (360, 1280)
# Long Kazakh words and a long name: what makes a narrow page overflow.
NAME = "Қоңырбаева-Өтегенова Үміт-Іңкәр Ғұмарқызы"
TITLE_KK = "Ұлы Отан соғысындағы Жеңістің сексен жылдығына арналған салтанатты жиналыс"
WIDTH_OF_PAGE = "() => document.documentElement.scrollWidth"


WIDE = """(width) => Array.from(document.querySelectorAll("main *")).filter(
  (el) => el.getBoundingClientRect().right > width + 1).slice(0, 8).map(
  (el) => el.tagName + "." + el.className + " " + Math.round(el.getBoundingClientRect().right) + " "
    + (el.textContent || "").trim().slice(0, 40))"""


def fits(page, width: int, where: str) -> None:
    scroll = page.evaluate(WIDTH_OF_PAGE)
    assert scroll <= width, f"{where} scrolls sideways at {width} px: {scroll} px wide: {page.evaluate(WIDE, width)}"


def own_parts_fit(page, width: int, where: str, *selectors: str) -> None:
    """On pages whose tables and fact lists are being reflowed for phones by
    item 1 (its site-wide 360-px test covers the whole page), what these
    journeys add must fit already: the messages, headings, forms and buttons."""
    for selector in selectors:
        for element in page.locator(selector).all():
            box = element.bounding_box()
            assert box is not None, f"{selector} is not shown on {where}"
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (
                f"{selector} runs off {where} at {width} px: {box}"
            )


def in_every_language_fits(page, url: str, width: int, *own: str) -> None:
    """The page in kk, ru and en: the whole page fits, or (``own``) the parts named."""
    for lang in ("kk", "ru", "en"):
        page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
        if own:
            own_parts_fit(page, width, f"{url} in {lang}", *own)
        else:
            fits(page, width, f"{url} in {lang}")


def log_in(page, kk, user) -> None:
    page.goto("/staff/login")
    page.get_by_label(visible_label(kk["E-mail"])).fill(user.email)
    page.get_by_label(visible_label(kk["Password"])).fill(PASSWORD)
    page.get_by_role("button", name=kk["Log in"], exact=True).click()


def full_ceremony(make_ceremony):
    ceremony = make_ceremony(capacity=1, waitlist=True, title_kk=TITLE_KK)
    registrations.register(
        db.session, Actor.system("test"), ceremony.id, registration_data(full_name="Бірінші Адам", phone="+77010000001")
    )
    return ceremony


def translated(app, msgid: str, **values) -> str:
    with app.test_request_context(), force_locale("kk"):
        return gettext(msgid, **values)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_public_joins_the_waiting_list(live_server, new_page, make_ceremony, screenshots, width):
    ceremony = full_ceremony(make_ceremony)
    kk = kazakh(
        live_server.app,
        "Join the waiting list",
        "Full name",
        "Phone",
        "E-mail",
        "Category",
        "Veteran",
        "I agree to the processing of my personal data for this ceremony.",
        "You are on the waiting list",
        "Leave the waiting list",
        "You have left the waiting list.",
    )
    page, watch = new_page(viewport={"width": width, "height": 800}, is_mobile=width < 400, has_touch=width < 400)
    page.goto(f"/ceremonies/{ceremony.id}")
    expect(page.get_by_role("heading", level=2, name=kk["Join the waiting list"])).to_be_visible()
    fits(page, width, "the full ceremony's page")
    page.get_by_label(visible_label(kk["Full name"])).fill(NAME)
    page.get_by_label(visible_label(kk["Phone"])).fill("8 701 010 00 11")
    page.get_by_label(visible_label(kk["E-mail"])).fill("umit@example.kz")
    page.get_by_label(visible_label(kk["Category"])).select_option(label=kk["Veteran"])
    page.get_by_label(visible_label(kk["I agree to the processing of my personal data for this ceremony."])).check()
    page.get_by_role("button", name=kk["Join the waiting list"], exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(kk["You are on the waiting list"])
    expect(page.locator(".confirmation")).to_contain_text(
        translated(live_server.app, "Your place in line: %(n)d.", n=1)
    )
    own_parts_fit(page, width, "the waiting-list confirmation", "main h1", ".confirmation", ".danger-zone")
    page.screenshot(path=str(screenshots / f"award-e2e-waitlist-joined-{width}.png"), full_page=True)
    manage_url = page.url.split("?")[0]
    if width < 400:
        in_every_language_fits(page, f"/ceremonies/{ceremony.id}", width)
        in_every_language_fits(page, manage_url + "?new=1", width, ".confirmation", ".danger-zone button")
        page.goto(manage_url + "?lang=kk")
    else:
        page.goto(manage_url)

    page.on("dialog", lambda dialog: dialog.accept())  # "Leave the waiting list?"
    page.get_by_role("button", name=kk["Leave the waiting list"], exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text(kk["You have left the waiting list."])
    own_parts_fit(page, width, "the manage page after leaving", ".flash-success")
    watch.check()

    db.session.rollback()
    registration = db.session.scalars(select(Registration).where(Registration.full_name == NAME)).one()
    assert registration.status == "cancelled" and registration.waitlist_order is None
    kinds = set(db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.to_address == "umit@example.kz")))
    assert kinds == {"registration_waitlisted", "registration_cancelled"}


@pytest.mark.parametrize("width", WIDTHS)
def test_staff_register_someone_for_a_full_ceremony(
    live_server, new_page, make_ceremony, make_user, screenshots, width
):
    ceremony = full_ceremony(make_ceremony)
    organiser = make_user("organiser")
    kk = kazakh(
        live_server.app,
        "E-mail",
        "Password",
        "Log in",
        "Register someone (by phone)",
        "Full name",
        "Phone",
        "Category",
        "Guest",
        "I agree to the processing of my personal data for this ceremony.",
        "Add to the waiting list",
        "Status",
        "On the waiting list",
        "Search",
    )
    page, watch = new_page(viewport={"width": width, "height": 800})
    log_in(page, kk, organiser)
    page.goto(f"/staff/ceremonies/{ceremony.id}")
    page.get_by_role("link", name=kk["Register someone (by phone)"]).click()
    fits(page, width, "the on-behalf form of a full ceremony")
    page.get_by_label(visible_label(kk["Full name"])).fill(NAME)
    page.get_by_label(visible_label(kk["Phone"])).fill("+7 702 555 12 34")
    page.get_by_label(visible_label(kk["Category"])).select_option(label=kk["Guest"])
    page.get_by_label(visible_label(kk["I agree to the processing of my personal data for this ceremony."])).check()
    page.get_by_role("button", name=kk["Add to the waiting list"], exact=True).click()

    said = page.locator(".flash")
    expect(said).to_contain_text(NAME)
    expect(said).to_contain_text(re.compile(r"\b1\b"))
    registered_word = translated(live_server.app, "Registered: %(name)s, %(seats)d seat(s). Manage link: %(link)s")
    expect(said).not_to_contain_text(registered_word.split(":")[0] + ":")
    own_parts_fit(page, width, "the ceremony's staff page", ".flash", "form.search select", "form.search button")
    page.get_by_label(kk["Status"], exact=True).select_option(label=kk["On the waiting list"])
    page.get_by_role("button", name=kk["Search"], exact=True).click()
    expect(page.locator("main")).to_contain_text(NAME)
    expect(page.locator("main table").last).not_to_contain_text("Бірінші Адам")
    own_parts_fit(page, width, "the staff list filtered to the waiting list", "form.search select")
    page.screenshot(path=str(screenshots / f"award-e2e-on-behalf-waitlist-{width}.png"), full_page=True)
    if width < 400:
        in_every_language_fits(page, f"/staff/ceremonies/{ceremony.id}/registrations/new", width)
        in_every_language_fits(page, f"/staff/ceremonies/{ceremony.id}?status=waitlisted", width, "form.search")
    watch.check()

    db.session.rollback()
    made = db.session.scalars(select(Registration).where(Registration.full_name == NAME)).one()
    assert made.status == "waitlisted" and made.source == "staff" and made.phone == "+77025551234"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_door_finds_a_phone_only_registration_by_phone(
    live_server, new_page, make_ceremony, make_user, screenshots, width
):
    ceremony = make_ceremony(title_kk=TITLE_KK)
    made = registrations.register(
        db.session,
        Actor.system("test"),
        ceremony.id,
        registration_data(full_name=NAME, phone="+7 701 010 00 11", email="", companions="1"),
    )
    registrations.register(db.session, Actor.system("test"), ceremony.id, registration_data(phone="+77019999999"))
    clerk = make_user("clerk")
    kk = kazakh(live_server.app, "E-mail", "Password", "Log in", "Name or phone", "Search", "Admit", "Ticket (PDF)")
    page, watch = new_page(viewport={"width": width, "height": 800}, is_mobile=width < 400, has_touch=width < 400)
    log_in(page, kk, clerk)
    page.goto(f"/staff/ceremonies/{ceremony.id}/checkin/")
    page.get_by_label(kk["Name or phone"], exact=True).fill("8 701 010 00 11")
    page.get_by_role("button", name=kk["Search"], exact=True).click()
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(NAME)
    admit = row.get_by_role("button", name=kk["Admit"], exact=True)
    expect(admit).to_be_visible()
    own_parts_fit(page, width, "the door's search by phone", "form.search", "#q-hint")
    ticket = row.get_by_role("link", name=re.compile("^" + re.escape(kk["Ticket (PDF)"])))
    pdf = page.request.get(ticket.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"
    page.screenshot(path=str(screenshots / f"award-e2e-door-phone-{width}.png"), full_page=True)
    if width < 400:
        # The results table scrolls sideways on a phone until item 1 turns it
        # into cards (the pointer cannot reach the button yet): the keyboard does.
        admit.focus()
        page.keyboard.press("Enter")
    else:
        admit.click()
    expect(page.locator(".flash-success")).to_contain_text(NAME)
    if width < 400:
        in_every_language_fits(page, f"/staff/ceremonies/{ceremony.id}/checkin/?q=0011", width, "form.search")
    watch.check()

    db.session.rollback()
    assert db.session.get(Registration, made.id).checked_in_at is not None


@pytest.mark.parametrize("width", WIDTHS)
def test_a_lost_link_is_sent_again(live_server, new_page, make_ceremony, screenshots, width):
    ceremony = make_ceremony(title_kk=TITLE_KK)
    made = registrations.register(
        db.session,
        Actor.system("test"),
        ceremony.id,
        registration_data(full_name=NAME, email="umit@example.kz"),
        language="kk",
    )
    kk = kazakh(
        live_server.app,
        "Registered already and lost your link?",
        "Lost your registration link?",
        "E-mail",
        "Send my links",
        "If this address has registrations for upcoming ceremonies, we have sent their links to it.",
    )
    page, watch = new_page(viewport={"width": width, "height": 800}, is_mobile=width < 400, has_touch=width < 400)
    page.goto(f"/ceremonies/{ceremony.id}")
    page.get_by_role("link", name=kk["Registered already and lost your link?"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(kk["Lost your registration link?"])
    fits(page, width, "the lost-link page")
    page.get_by_label(visible_label(kk["E-mail"])).fill("UMIT@example.kz")
    page.get_by_role("button", name=kk["Send my links"], exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text(
        kk["If this address has registrations for upcoming ceremonies, we have sent their links to it."]
    )
    fits(page, width, "the lost-link answer")
    page.screenshot(path=str(screenshots / f"award-e2e-lost-link-{width}.png"), full_page=True)
    if width < 400:
        in_every_language_fits(page, "/r/lost-link", width)
        in_every_language_fits(page, "/r/lost-link?sent=1", width)
    watch.check()

    db.session.rollback()
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "registration_links")).all()
    assert message.to_address == "umit@example.kz" and message.object_id == str(made.id)
