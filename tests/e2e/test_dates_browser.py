"""Dates and words in a real browser (Chromium) at phone and desktop width: the
history page in words and local times, and the ceremony form with its English
title and venues in three languages.  Neither page may scroll sideways at 360 px."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from test_registration_browser import visible_label

from award_service.actor import Actor
from award_service.ceremonies import service as ceremonies
from award_service.ceremonies.models import Ceremony
from award_service.extensions import db
from tests.conftest import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

pytestmark = pytest.mark.e2e

# Long Kazakh words, with no space to break at for a while.
LONG_VENUE = "Жезқазғандағы-Қаныш-Сәтбаев-атындағы-мәдениет-сарайының-үлкен-концерттік-залы"
WHEN = "2030-05-09T19:00"


def texts(app, lang: str, *msgids: str) -> dict[str, str]:
    with app.test_request_context(), force_locale(lang):
        shown = {msgid: gettext(msgid) for msgid in msgids}
    if lang != "en":
        assert all(shown[m] != m for m in msgids), shown
    return shown


def log_in(page, app, user, lang: str) -> None:
    t = texts(app, lang, "E-mail", "Password", "Log in")
    page.goto(f"/staff/login?lang={lang}")
    page.get_by_label(visible_label(t["E-mail"])).fill(user.email)
    page.get_by_label(visible_label(t["Password"])).fill(PASSWORD)
    page.get_by_role("button", name=t["Log in"], exact=True).click()
    page.wait_for_load_state()


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


@pytest.mark.parametrize(("width", "lang"), [(360, "kk"), (1280, "kk"), (360, "ru"), (1280, "en")])
def test_history_page_in_words_and_local_time(
    live_server, new_page, make_ceremony, make_user, screenshots, width, lang
):
    app = live_server.app
    organiser = make_user("organiser")
    ceremony = make_ceremony(starts_at=WHEN)
    ceremonies.update_ceremony(
        db.session,
        Actor(user=organiser),
        ceremony,
        {"venue": LONG_VENUE, "waitlist": True, "registration_closes_at": "2030-05-08T18:00"},
        tz=app.config["AWARD_TIMEZONE"],
    )
    t = texts(app, lang, "History", "Venue", "Keep a waiting list when full", "yes", "no", "Changed", "Created")

    page, watch = new_page(viewport={"width": width, "height": 800})
    log_in(page, app, organiser, lang)
    page.goto(f"/staff/ceremonies/{ceremony.id}/history?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(t["History"])
    main = page.locator("main")
    expect(main).to_contain_text(f"{t['Venue']}: Алаш алаңы → {LONG_VENUE}")
    expect(main).to_contain_text(f"{t['Keep a waiting list when full']}: {t['no']} → {t['yes']}")
    expect(main).to_contain_text("— → 08.05.2030, 18:00")
    expect(main).to_contain_text("09.05.2030, 19:00")  # starts_at at creation, in Kazakhstan time
    expect(main).to_contain_text(t["Changed"])
    shown = main.inner_text()
    for raw in ("None", "True", "False", "ceremony.update", "registration_closes_at"):
        assert raw not in shown, raw
    # every event's time is local, in the one format
    assert len(re.findall(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}", shown)) >= 2
    assert_no_sideways_scroll(page)
    page.screenshot(path=str(screenshots / f"award-e2e-history-{lang}-{width}.png"), full_page=True)
    watch.check()


@pytest.mark.parametrize("width", [360, 1280])
def test_ceremony_form_with_english_title_and_venues(live_server, new_page, make_user, screenshots, width):
    app = live_server.app
    organiser = make_user("organiser")
    t = texts(
        app,
        "kk",
        "Title (Kazakh)",
        "Title (Russian)",
        "Title (English, optional)",
        "Starts at (Kazakhstan time)",
        "Venue",
        "Venue in Kazakh (optional)",
        "Venue in Russian (optional)",
        "Venue in English (optional)",
        "District",
        "Capacity (seats)",
        "Save",
    )
    # At phone width, as a phone: touch.  (Desktop Chromium in a 360-px window, clicked with a
    # mouse after Playwright's fill(), scrolls on the button's mousedown so that the mouseup
    # lands elsewhere; a tap does not.  Bisected to the inherited overflow-wrap of the hints.)
    phone = width < 640
    page, watch = new_page(viewport={"width": width, "height": 800}, has_touch=phone, is_mobile=phone)
    log_in(page, app, organiser, "kk")
    page.goto("/staff/ceremonies/new?lang=kk")
    assert_no_sideways_scroll(page)
    page.get_by_label(visible_label(t["Title (Kazakh)"])).fill("Ұлы Жеңіс — ұрпаққа мұра")
    page.get_by_label(visible_label(t["Title (Russian)"])).fill("Великая Победа — наследие поколениям")
    page.get_by_label(visible_label(t["Title (English, optional)"])).fill("Great Victory: a legacy")
    page.get_by_label(visible_label(t["Starts at (Kazakhstan time)"])).fill(WHEN)
    page.get_by_label(visible_label(t["Venue"])).fill("Алаш алаңы")
    page.get_by_label(visible_label(t["Venue in Kazakh (optional)"])).fill(LONG_VENUE)
    page.get_by_label(visible_label(t["Venue in Russian (optional)"])).fill("Дворец культуры имени Каныша Сатпаева")
    page.get_by_label(visible_label(t["Venue in English (optional)"])).fill("Kanysh Satpayev Palace of Culture")
    page.get_by_label(visible_label(t["District"])).select_option("zhezkazgan")
    page.get_by_label(visible_label(t["Capacity (seats)"])).fill("120")
    page.screenshot(path=str(screenshots / f"award-e2e-ceremony-form-{width}.png"), full_page=True)
    save = page.get_by_role("button", name=t["Save"], exact=True)
    save.tap() if phone else save.click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text(LONG_VENUE)  # the staff page, in Kazakh
    expect(page.locator("main")).to_contain_text("09.05.2030, 19:00")
    # (the organiser's ceremony page itself is made to fit by the phone-width work, item 1)

    db.session.rollback()
    saved = db.session.scalars(select_latest()).first()
    assert (saved.title_en, saved.venue_kk, saved.venue_en) == (
        "Great Victory: a legacy",
        LONG_VENUE,
        "Kanysh Satpayev Palace of Culture",
    )
    page.goto(f"/staff/ceremonies/{saved.id}?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Great Victory: a legacy")
    expect(page.locator("main")).to_contain_text("Kanysh Satpayev Palace of Culture")
    page.goto(f"/staff/ceremonies/{saved.id}?lang=ru")
    expect(page.locator("main")).to_contain_text("Дворец культуры имени Каныша Сатпаева")
    page.goto(f"/staff/ceremonies/{saved.id}/edit?lang=kk")
    expect(page.get_by_label(visible_label(t["Venue in English (optional)"]))).to_have_value(
        "Kanysh Satpayev Palace of Culture"
    )
    assert_no_sideways_scroll(page)
    watch.check()


def select_latest():
    from sqlalchemy import select

    return select(Ceremony).order_by(Ceremony.id.desc())


@pytest.mark.parametrize(("locale", "shown"), [("ru-RU", "ru"), ("en-GB", "en"), ("de-DE", "kk")])
def test_a_first_visit_follows_the_browsers_language(live_server, new_page, locale, shown):
    page, watch = new_page(locale=locale, viewport={"width": 360, "height": 800})
    page.goto("/")
    assert page.evaluate("() => document.documentElement.lang") == shown
    assert_no_sideways_scroll(page)
    watch.check()
