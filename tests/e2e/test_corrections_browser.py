"""Corrections in a real browser (Chromium), in Kazakh, on a 360-px phone and a
1280-px screen: an administrator corrects a misprinted name by reissuing the
certificate from its page; the new certificate prints the new name; anyone who
scans the old certificate's code is told it was replaced, and by which serial;
a code typed into the not-found page's box finds the new one.  And the clerk
who marks presented weeks before the ceremony is asked first."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from test_certificates_browser import login_as  # noqa: F401  (fixture)
from test_registration_browser import kazakh, visible_label

from award_service.actor import Actor
from award_service.awards.models import Award
from award_service.awards.service import attach_to_ceremony
from award_service.extensions import db
from tests.nomination_factories import *  # noqa: F403  (fixtures)
from tests.nomination_factories import advance, nominate

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

pytestmark = pytest.mark.e2e

WIDTHS = (360, 1280)
WRONG = {"surname": "Нұрмұхамбетов", "given_name": "Гүлжаһан", "patronymic": "Әбдіқадырқызы"}
RIGHT_SURNAME = "Нұрмұхамбетова-Сейітқасымова"
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"


def context_for(width: int) -> dict:
    if width < 600:
        return {"viewport": {"width": width, "height": 740}, "is_mobile": True, "has_touch": True}
    return {"viewport": {"width": width, "height": 900}}


WIDER_THAN = """(w) => Array.from(document.querySelectorAll("body *"))
  .filter((e) => e.getBoundingClientRect().right > w + 1)
  .slice(0, 5).map((e) => e.tagName + " " + (e.textContent || "").trim().slice(0, 40))"""


def fits(page, width: int, what: str) -> None:
    wide = page.evaluate(SCROLL_WIDTH)
    assert wide <= width + 1, f"{what} scrolls sideways at {width} px ({wide} px): {page.evaluate(WIDER_THAN, width)}"


def award_of(nomination) -> Award:
    db.session.expire_all()
    return db.session.query(Award).filter_by(nomination_id=nomination.id, status="valid").one()


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_corrects_a_name_and_the_old_code_says_replaced(
    live_server, new_page, cast, login_as, screenshots, width
):
    old = award_of(advance(nominate(cast.nominator, **WRONG), "approved", cast))
    kk = kazakh(
        live_server.app,
        "Reason",
        "Issue a new certificate in its place (new serial number)",
        "Surname",
        "Given name",
        "Revoke",
        "Name corrected:",
        "This certificate was revoked on %(date)s.",
        "It was replaced by certificate %(serial)s.",
        "Not found.",
        "Code on the certificate",
        "Check the code",
        "This certificate is valid.",
    )
    page, watch = new_page(**context_for(width))
    login_as(page, cast.admin)
    page.goto(f"/staff/awards/{old.serial}")
    # the name fields hold the name as printed, ready to correct
    expect(page.get_by_label(visible_label(kk["Surname"]))).to_have_value(WRONG["surname"])
    expect(page.get_by_label(visible_label(kk["Given name"]))).to_have_value(WRONG["given_name"])
    fits(page, width, "the award page")
    page.get_by_label(visible_label(kk["Reason"])).fill("Тегі қате басылған: екі тегі бар")
    page.get_by_label(visible_label(kk["Issue a new certificate in its place (new serial number)"])).check()
    page.get_by_label(visible_label(kk["Surname"])).fill(RIGHT_SURNAME)
    page.screenshot(path=str(screenshots / f"award-e2e-correction-form-{width}.png"), full_page=True)
    page.get_by_role("button", name=kk["Revoke"], exact=True).click()

    expect(page.locator(".flash-success")).to_be_visible()
    new = db.session.query(Award).filter_by(reissue_of_id=old.id).one()
    expect(page.locator("h1")).to_contain_text(new.serial)
    expect(page.locator("main")).to_contain_text(f"{RIGHT_SURNAME} {WRONG['given_name']} {WRONG['patronymic']}")
    expect(page.locator("main")).to_contain_text(kk["Name corrected:"])
    fits(page, width, "the new award's page with its history")
    page.screenshot(path=str(screenshots / f"award-e2e-corrected-{width}.png"), full_page=True)

    # what the new certificate prints, as the clerk's browser downloads it
    printed = page.request.get(f"/staff/awards/{new.serial}/certificate.pdf?format=a4")
    assert printed.ok
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(printed.body())).pages).split())
    assert f"{RIGHT_SURNAME} {WRONG['given_name']}" in text and new.serial in text
    watch.check()

    # anyone scanning the old certificate
    public, public_watch = new_page(**context_for(width))
    response = public.goto(f"/v/{old.verify_code}")
    assert response.status == 200
    main = public.locator("main")
    expect(main).to_contain_text(kk["This certificate was revoked on %(date)s."].split("%(date)s")[0].strip())
    expect(main).to_contain_text(kk["It was replaced by certificate %(serial)s."] % {"serial": new.serial})
    fits(public, width, "the verification page of a replaced certificate")
    public.screenshot(path=str(screenshots / f"award-e2e-verify-replaced-{width}.png"), full_page=True)

    # a code mistyped, then typed again into the box the not-found page offers
    response = public.goto("/v/AAAABBBBCCCCDDDD")
    assert response.status == 404
    expect(main).to_contain_text(kk["Not found."])
    fits(public, width, "the not-found verification page")
    public.screenshot(path=str(screenshots / f"award-e2e-verify-not-found-{width}.png"), full_page=True)
    typed = "-".join(new.verify_code[i : i + 4] for i in range(0, 16, 4)).lower()
    public.get_by_label(visible_label(kk["Code on the certificate"])).fill(typed)
    public.get_by_role("button", name=kk["Check the code"], exact=True).click()
    expect(main).to_contain_text(kk["This certificate is valid."])
    expect(main).to_contain_text(RIGHT_SURNAME)
    fits(public, width, "the verification page")
    public_watch.check()


@pytest.mark.parametrize("width", WIDTHS)
def test_clerk_is_asked_before_marking_presented_weeks_early(
    live_server,
    new_page,
    cast,
    make_ceremony,
    login_as,
    screenshots,
    width,
):
    award = award_of(advance(nominate(cast.nominator, **WRONG), "approved", cast))
    other = award_of(advance(nominate(cast.nominator, surname="Сейітқасымова"), "approved", cast))
    ceremony = make_ceremony()
    attach_to_ceremony(db.session, Actor(user=cast.clerk), ceremony, [award.serial, other.serial])
    kk = kazakh(
        live_server.app,
        "Date presented",
        "Mark presented",
        "Yes, mark it presented before the ceremony",
        "Yes, mark them presented before the ceremony",
    )
    page, watch = new_page(**context_for(width))
    login_as(page, cast.clerk)

    # the printing page's bulk action: asked, the tick kept, nothing changed yet
    page.goto(f"/staff/awards/?ceremony={ceremony.id}")
    fits(page, width, "the certificates page")
    page.locator(f"#tick-{other.serial}").check()
    page.get_by_label(visible_label(kk["Date presented"])).fill("09.05.2025")
    page.get_by_role("button", name=kk["Mark presented"], exact=True).click()
    expect(page.get_by_label(visible_label(kk["Yes, mark them presented before the ceremony"]))).to_be_visible()
    expect(page.locator(f"#tick-{other.serial}")).to_be_checked()
    fits(page, width, "the certificates page asking to confirm")
    page.screenshot(path=str(screenshots / f"award-e2e-present-early-list-{width}.png"), full_page=True)
    db.session.expire_all()
    assert db.session.get(Award, other.id).presented_on is None

    # one certificate's page
    page.goto(f"/staff/awards/{award.serial}")
    page.get_by_label(visible_label(kk["Date presented"])).fill("09.05.2025")
    page.get_by_role("button", name=kk["Mark presented"], exact=True).click()
    confirm = page.get_by_label(visible_label(kk["Yes, mark it presented before the ceremony"]))
    expect(confirm).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Award, award.id).presented_on is None
    fits(page, width, "the award page asking to confirm")
    page.screenshot(path=str(screenshots / f"award-e2e-present-early-{width}.png"), full_page=True)
    confirm.check()
    page.get_by_role("button", name=kk["Mark presented"], exact=True).click()
    expect(page.locator(".flash-success")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Award, award.id).presented_on is not None
    watch.check()
