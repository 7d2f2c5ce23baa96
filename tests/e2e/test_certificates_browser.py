"""The clerk's day in a real browser (Chromium), in Kazakh: the ceremony's
certificates downloaded as one PDF in Kazakh alphabetical order, recipients
marked presented; then a member of the public opens the link in the QR code
printed on a certificate and sees that it is valid."""

from __future__ import annotations

import io
import re

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from test_registration_browser import kazakh, visible_label

from award_service.awards.models import Award
from award_service.extensions import db
from award_service.nominations.models import Nomination
from tests.conftest import PASSWORD
from tests.nomination_factories import *  # noqa: F403  (fixtures)
from tests.nomination_factories import advance, nominate

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

pytestmark = pytest.mark.e2e

SURNAMES = ("Яхин", "Әбенов", "Ахметов", "Ұлықбеков", "Үсенов", "Іргебаев")
IN_ORDER = ["Ахметов", "Әбенов", "Ұлықбеков", "Үсенов", "Іргебаев", "Яхин"]


def test_clerk_prints_a_ceremony_and_marks_it_presented(
    live_server, new_page, cast, make_ceremony, login_as, screenshots, tmp_path
):
    ceremony = make_ceremony()
    serials = []
    for surname in SURNAMES:
        nomination = advance(nominate(cast.nominator, surname=surname), "approved", cast)
        serials.append(db.session.query(Award.serial).filter_by(nomination_id=nomination.id).scalar())
    from award_service.actor import Actor
    from award_service.awards.service import attach_to_ceremony

    attach_to_ceremony(db.session, Actor(user=cast.clerk), ceremony, serials)
    kk = kazakh(
        live_server.app,
        "Certificates",
        "Ceremony",
        "Show",
        "Download the certificates (PDF)",
        "Tick all on this page",
        "Mark presented",
        "Date presented",
        "Yes, mark them presented before the ceremony",
        "This certificate is valid.",
    )
    page, watch = new_page(accept_downloads=True)
    login_as(page, cast.clerk)

    page.goto("/staff/awards/")
    expect(page.get_by_role("heading", level=1)).to_have_text(kk["Certificates"])
    page.get_by_label(visible_label(kk["Ceremony"])).select_option(value=str(ceremony.id))
    page.get_by_role("button", name=kk["Show"], exact=True).click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(6)
    assert [rows.nth(i).locator("strong").first.inner_text().split()[0] for i in range(6)] == IN_ORDER
    page.screenshot(path=str(screenshots / "award-e2e-certificates.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name=kk["Download the certificates (PDF)"]).click()
    path = tmp_path / "batch.pdf"
    download.value.save_as(path)
    data = path.read_bytes()
    pages = PdfReader(io.BytesIO(data)).pages
    assert [next(s for s in SURNAMES if s in p.extract_text()) for p in pages] == IN_ORDER

    page.get_by_role("link", name=kk["Tick all on this page"]).click()
    page.get_by_label(visible_label(kk["Date presented"])).fill("09.05.2025")
    page.get_by_role("button", name=kk["Mark presented"], exact=True).click()
    # The ceremony is weeks away: asked first, the ticks kept.
    confirm = page.get_by_label(visible_label(kk["Yes, mark them presented before the ceremony"]))
    expect(confirm).to_be_visible()
    confirm.check()
    page.get_by_role("button", name=kk["Mark presented"], exact=True).click()
    expect(page.locator(".flash-success")).to_be_visible()
    watch.check()
    db.session.rollback()
    assert {n.status for n in db.session.query(Nomination)} == {"awarded"}

    # The first certificate's QR code, as a phone would read it, opened by anyone.
    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    (url,) = [barcode.text for barcode in zxingcpp.read_barcodes(image)]
    assert url.startswith(live_server.url + "/v/")
    public, public_watch = new_page()
    response = public.goto(url)
    assert response.status == 200
    expect(public.locator("main")).to_contain_text(kk["This certificate is valid."])
    expect(public.locator("main")).to_contain_text("Ахметов")
    public.screenshot(path=str(screenshots / "award-e2e-verify.png"), full_page=True)
    public_watch.check()


@pytest.fixture
def login_as(live_server):
    kk = kazakh(live_server.app, "E-mail", "Password", "Log in")

    def do(page, user):
        page.goto("/staff/login")
        page.get_by_label(visible_label(kk["E-mail"])).fill(user.email)
        page.get_by_label(visible_label(kk["Password"])).fill(PASSWORD)
        page.get_by_role("button", name=kk["Log in"], exact=True).click()
        expect(page).not_to_have_url(re.compile(r"/staff/login"))

    return do
