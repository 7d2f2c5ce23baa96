"""The public registration form in a real browser (Chromium), in Kazakh.

The labels and messages the tests look for are read from the app's own kk
catalog, so the tests follow the translators' wording and fail if the page
falls back to English.
"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from award_service.ceremonies.models import Registration
from award_service.extensions import db


def visible_label(text: str) -> re.Pattern:
    """A label exactly as translated, with the required-field mark (" *") where the form shows one."""
    return re.compile("^" + re.escape(text) + r"( \*)?$")


try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under AWARD_REQUIRE_E2E=1)
    expect = None

pytestmark = pytest.mark.e2e

# Surname, given name, patronymic: every Kazakh letter beyond Russian but Һ.
NAME = "Қоңырбаева-Өтегенова Үміт-Іңкәр Ғұмарқызы"
PHONE_TYPED = "8 701 234 56 78"
PHONE_STORED = "+77012345678"

FULL_NAME = "Full name"
PHONE = "Phone"
EMAIL = "E-mail"
CATEGORY = "Category"
VETERAN = "Veteran"
CONSENT = "I agree to the processing of my personal data for this ceremony."
REGISTER = "Register"
REGISTERED = "You are registered"
NEED_CONTACT = "Give a phone number or an e-mail address so that we can reach you."
NEED_CONSENT = "Registration needs your consent to the processing of personal data."


def kazakh(app, *msgids: str) -> dict[str, str]:
    """What the page shows for each English msgid in Kazakh, from the app's catalog."""
    with app.test_request_context(), force_locale("kk"):
        texts = {msgid: gettext(msgid) for msgid in msgids}
    untranslated = [msgid for msgid, text in texts.items() if text == msgid]
    assert not untranslated, f"the kk catalog does not translate {untranslated}: the page would be in English"
    return texts


def registrations() -> list[Registration]:
    db.session.rollback()  # see what the server committed, not this session's old snapshot
    return list(db.session.scalars(select(Registration)))


def test_register_in_kazakh(live_server, make_ceremony, new_page, screenshots):
    assert set("ӘҒҚҢӨҰҮІ") <= set(NAME.upper())
    ceremony_id = make_ceremony().id
    kk = kazakh(live_server.app, FULL_NAME, PHONE, CATEGORY, VETERAN, CONSENT, REGISTER, REGISTERED)
    page, watch = new_page()

    response = page.goto(f"/ceremonies/{ceremony_id}")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "kk"

    page.get_by_label(visible_label(kk[FULL_NAME])).fill(NAME)
    page.get_by_label(visible_label(kk[PHONE])).fill(PHONE_TYPED)
    page.get_by_label(visible_label(kk[CATEGORY])).select_option(label=kk[VETERAN])
    consent = page.get_by_label(visible_label(kk[CONSENT]))
    consent.check()
    expect(consent).to_be_checked()
    page.screenshot(path=str(screenshots / "award-e2e-form-filled.png"), full_page=True)

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=kk[REGISTER], exact=True).click()
    assert posted.value.status == 302, posted.value.text()
    expect(page).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]+\?new=1$"))
    assert page.locator("html").get_attribute("lang") == "kk"
    expect(page.get_by_role("heading", level=1)).to_have_text(kk[REGISTERED])
    expect(page.locator("main")).to_contain_text(NAME)
    page.screenshot(path=str(screenshots / "award-e2e-confirmation.png"), full_page=True)
    watch.check()

    [registration] = registrations()
    assert registration.ceremony_id == ceremony_id
    assert registration.phone == PHONE_STORED
    assert registration.email is None
    assert registration.full_name == NAME
    assert registration.category == "veteran"
    assert registration.language == "kk"
    assert registration.status == "confirmed"
    assert registration.consent_at is not None
    assert page.url.split("/r/", 1)[1].split("?", 1)[0] == registration.token


def test_missing_consent_and_contact_show_kazakh_errors_and_store_nothing(
    live_server, make_ceremony, new_page, screenshots
):
    ceremony_id = make_ceremony().id
    kk = kazakh(live_server.app, FULL_NAME, CATEGORY, VETERAN, REGISTER, NEED_CONTACT, NEED_CONSENT)
    page, watch = new_page()
    page.goto(f"/ceremonies/{ceremony_id}")

    page.get_by_label(visible_label(kk[FULL_NAME])).fill(NAME)
    page.get_by_label(visible_label(kk[CATEGORY])).select_option(label=kk[VETERAN])
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=kk[REGISTER], exact=True).click()
    assert posted.value.status == 422
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "kk"

    expect(page.locator("#phone-error")).to_have_text(kk[NEED_CONTACT])
    expect(page.locator("#email-error")).to_have_text(kk[NEED_CONTACT])
    expect(page.locator("#consent-error")).to_have_text(kk[NEED_CONSENT])
    expect(page.locator(".error")).to_have_count(3)
    expect(page.locator(".error-summary")).to_be_visible()
    for field in ("phone", "email", "consent"):
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    # What the person typed is kept.
    expect(page.get_by_label(visible_label(kk[FULL_NAME]))).to_have_value(NAME)
    page.screenshot(path=str(screenshots / "award-e2e-errors.png"), full_page=True)
    watch.check()

    assert registrations() == []
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


UNLABELLED_OR_OVERFLOW = """() => {
  const visible = Array.from(document.querySelectorAll("input, select, textarea")).filter(
    (el) => el.type !== "hidden" && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden");
  const unlabelled = visible.filter(
    (el) => !el.labels || el.labels.length === 0 || !Array.from(el.labels).some((l) => l.textContent.trim()));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    visible: visible.map((el) => el.name || el.id),
    unlabelled: unlabelled.map((el) => el.name || el.id || el.outerHTML.slice(0, 100)),
  };
}"""


def test_phone_sized_screen_has_no_horizontal_scroll_and_every_field_is_labelled(
    live_server, make_ceremony, new_page, screenshots
):
    ceremony_id = make_ceremony().id
    kk = kazakh(live_server.app, REGISTER)
    page, watch = new_page(
        viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page.goto(f"/ceremonies/{ceremony_id}")
    fresh = page.evaluate(UNLABELLED_OR_OVERFLOW)
    page.screenshot(path=str(screenshots / "award-e2e-phone.png"), full_page=True)

    # The same page with every error shown (longer texts, thicker borders).
    page.get_by_role("button", name=kk[REGISTER], exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    with_errors = page.evaluate(UNLABELLED_OR_OVERFLOW)
    page.screenshot(path=str(screenshots / "award-e2e-phone-errors.png"), full_page=True)
    watch.check()

    for result in (fresh, with_errors):
        assert {
            "full_name",
            "phone",
            "email",
            "companions",
            "category",
            "needs_wheelchair",
            "needs_hearing",
            "needs_near_exit",
            "needs_note",
            "consent",
        } <= set(result["visible"])
        assert result["unlabelled"] == []
        assert result["scrollWidth"] <= 375 + 1, f"the page scrolls sideways: {result['scrollWidth']}px wide"
