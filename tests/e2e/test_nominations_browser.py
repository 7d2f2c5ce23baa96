"""Nominations in a real browser (Chromium), at a phone's 360 px and a desk's
1280 px, in Kazakh (the longest words; ru and en checked for width too): the
import page with its empty template, a file's errors showing their values, a
clean file saved; the commission's queue filtered to one district, with a bulk
approval over the district's quota that approves what fits and names the rest;
the clerk's queue with each row's next step."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from test_certificates_browser import login_as  # noqa: F401  (fixture)
from test_registration_browser import kazakh, visible_label

from award_service.awards.models import Award
from award_service.extensions import db
from award_service.medals.models import MedalQuota
from award_service.nominations.importer import COLUMNS
from award_service.nominations.models import Nomination
from tests.nomination_factories import *  # noqa: F403  (fixtures)
from tests.nomination_factories import advance, make_iin, nominate, reload

try:
    from playwright.sync_api import expect
except ImportError:
    expect = None

pytestmark = pytest.mark.e2e

WIDTHS = (360, 1280)


def fits(page, width: int) -> None:
    """No sideways scrolling: the page is no wider than the screen."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide on a {width}px screen"


def screen(width: int) -> dict:
    if width < 600:
        return {"viewport": {"width": width, "height": 740}, "is_mobile": True, "has_touch": True}
    return {"viewport": {"width": width, "height": 900}}


def csv_file(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Тегі", "Аты", "Әкесінің аты", "ЖСН", "Туған күні", "Санат", "Аудан / қала", "Мекенжайы",
                     "Телефон", "Медаль", "Негіздеме"])  # fmt: skip
    for r in rows:
        writer.writerow([r.get(c, "") for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def person(i: int, **overrides) -> dict:
    birth = date(1926, 1 + i % 12, 1 + i)
    values = {
        "surname": f"Жақсылықбекұлы-Нұрмағамбетов{'а' * i}",  # long, as real double names are
        "given_name": "Қайыржан",
        "patronymic": "Сәрсенбайұлы",
        "iin": make_iin(birth),
        "birth_date": birth.strftime("%d.%m.%Y"),
        "category": "Тыл еңбеккері",
        "district": "Жезқазған қаласы",
        "address": "Жезқазған қ., Алашахан даңғылы, 12",
        "phone": "8 701 234 56 78",
        "medal": "1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы",
        "grounds": "1941–1945 жылдары Жезқазған мыс кенішінде тыл еңбеккері болған.",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize("width", WIDTHS)
def test_the_import_page_template_errors_and_save(live_server, new_page, cast, login_as, screenshots, width):
    kk = kazakh(
        live_server.app,
        "Import nominations from a file",
        "Excel (XLSX)",
        "File (CSV or XLSX)",
        "Check the file",
        "Problems found",
        "The IIN has 12 digits.",
        "Upload a corrected file",
    )
    page, watch = new_page(accept_downloads=True, **screen(width))
    login_as(page, cast.nominator)
    page.goto("/staff/nominations/io/import")
    expect(page.get_by_role("heading", level=1)).to_have_text(kk["Import nominations from a file"])
    fits(page, width)
    page.screenshot(path=str(screenshots / f"nominations-e2e-import-{width}.png"), full_page=True)

    # The empty template: the header in Kazakh, no sample person.
    with page.expect_download() as download:
        page.get_by_role("link", name=kk["Excel (XLSX)"]).first.click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert [c.value for c in book.worksheets[0][1]][:3] == ["Тегі", "Аты", "Әкесінің аты"]
    assert book.worksheets[0].max_row == 1

    # A file with a mistake: the row, the column and the value are shown.
    page.get_by_label(visible_label(kk["File (CSV or XLSX)"])).set_input_files(
        files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": csv_file([person(1, iin="12345"), person(2)])}]
    )
    page.get_by_role("button", name=kk["Check the file"], exact=True).click()
    expect(page.get_by_role("heading", name=kk["Problems found"])).to_be_visible()
    errors = page.locator(".import-errors li")
    expect(errors).to_have_count(1)
    expect(errors.first).to_have_text(re.compile(r"^2-жол, ЖСН «12345»:\s+" + re.escape(kk["The IIN has 12 digits."])))
    fits(page, width)
    page.screenshot(path=str(screenshots / f"nominations-e2e-import-errors-{width}.png"), full_page=True)
    assert db.session.query(Nomination).count() == 0

    # Corrected: every row checked, then saved as drafts.
    page.get_by_role("link", name=kk["Upload a corrected file"]).click()
    page.get_by_label(visible_label(kk["File (CSV or XLSX)"])).set_input_files(
        files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": csv_file([person(1), person(2)])}]
    )
    page.get_by_role("button", name=kk["Check the file"], exact=True).click()
    expect(page.locator(".import-rows li")).to_have_count(2)
    fits(page, width)
    page.screenshot(path=str(screenshots / f"nominations-e2e-import-preview-{width}.png"), full_page=True)
    page.locator("form.actions button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    watch.check()
    db.session.rollback()
    assert {n.status for n in db.session.query(Nomination)} == {"draft"}
    assert db.session.query(Nomination).count() == 2


@pytest.mark.parametrize("width", WIDTHS)
def test_the_queue_filtered_to_a_district_and_a_bulk_approval_over_its_quota(
    live_server,
    new_page,
    cast,
    login_as,
    screenshots,
    width,
):
    kk = kazakh(live_server.app, "Waiting for me", "District", "Show", "Tick all on this page", "Decree number",
                "Decree date", "Approve")  # fmt: skip
    here = [
        advance(nominate(cast.nominator, surname=f"Жақсылықбекұлы-Нұрмағамбетов{'а' * i}"), "recommended", cast)
        for i in range(3)
    ]
    there = advance(
        nominate(cast.far_nominator, surname="Қаражалов", district="karazhal"),
        "recommended",
        cast,
        reviewer=cast.far_reviewer,
    )
    quota = db.session.get(MedalQuota, (here[0].medal_id, here[0].district_id))
    quota.quota = 2
    db.session.commit()

    page, watch = new_page(**screen(width))
    login_as(page, cast.commission)
    page.goto("/staff/nominations/queue")
    expect(page.get_by_role("heading", level=1)).to_have_text(kk["Waiting for me"])
    expect(page.locator("tbody tr")).to_have_count(4)
    fits(page, width)
    page.get_by_label(visible_label(kk["District"])).select_option(value="zhezkazgan")
    page.get_by_role("button", name=kk["Show"], exact=True).click()
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.locator("main")).to_contain_text("2, оның 0 пайдаланылды, 2 қалды")
    fits(page, width)
    page.screenshot(path=str(screenshots / f"nominations-e2e-queue-district-{width}.png"), full_page=True)

    page.get_by_role("link", name=kk["Tick all on this page"]).click()
    page.get_by_label(visible_label(kk["Decree number"])).fill("45")
    page.get_by_label(visible_label(kk["Decree date"])).fill("28.04.2025")
    page.get_by_role("button", name=kk["Approve"], exact=True).click()
    expect(page.locator(".flash-success")).to_be_visible()
    left_out = page.locator(".flash-error")
    expect(left_out).to_contain_text("1 ұсыныс бекітілмеді")
    expect(left_out).to_contain_text(f"№ {here[2].id} Жақсылықбекұлы-Нұрмағамбетоваа")
    # Back on the same district's queue: the one left out is still there.
    assert "/staff/nominations/queue?" in page.url and "district=zhezkazgan" in page.url
    expect(page.locator("tbody tr")).to_have_count(1)
    fits(page, width)
    page.screenshot(path=str(screenshots / f"nominations-e2e-queue-partial-{width}.png"), full_page=True)
    watch.check()
    assert [reload(n.id).status for n in here] == ["approved", "approved", "recommended"]
    assert reload(there.id).status == "recommended"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_clerks_queue_leads_to_marking_presented(live_server, new_page, cast, login_as, screenshots, width):
    kk = kazakh(live_server.app, "Print the certificate", "Mark presented")
    nomination = advance(nominate(cast.nominator, surname="Жақсылықбекұлы-Нұрмағамбетов"), "approved", cast)
    serial = db.session.query(Award.serial).filter_by(nomination_id=nomination.id).scalar()
    page, watch = new_page(**screen(width))
    login_as(page, cast.clerk)
    page.goto("/staff/nominations/queue")
    row = page.locator("tbody tr").filter(has_text="Жақсылықбекұлы-Нұрмағамбетов")
    expect(row.get_by_role("link", name=kk["Print the certificate"])).to_be_visible()
    fits(page, width)
    page.screenshot(path=str(screenshots / f"nominations-e2e-clerk-queue-{width}.png"), full_page=True)
    row.get_by_role("link", name=kk["Mark presented"]).click()
    assert page.url.endswith(f"/staff/awards/{serial}#presented")
    page.get_by_role("button", name=kk["Mark presented"], exact=True).click()
    expect(page.locator(".flash-success")).to_be_visible()
    watch.check()
    assert reload(nomination.id).status == "awarded"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_pages_fit_a_phone_in_russian_and_english(live_server, new_page, cast, login_as, lang):
    advance(nominate(cast.nominator, surname="Жақсылықбекұлы-Нұрмағамбетов"), "recommended", cast)
    page, watch = new_page(**screen(360))
    login_as(page, cast.commission)
    page.goto(f"/staff/nominations/queue?district=zhezkazgan&lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    fits(page, 360)
    admin, admin_watch = new_page(**screen(360))
    login_as(admin, cast.nominator)
    admin.goto(f"/staff/nominations/io/import?lang={lang}")
    expect(admin.locator("html")).to_have_attribute("lang", lang)
    fits(admin, 360)
    admin.locator("input[type=file]").set_input_files(
        files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": csv_file([person(1, iin="12345")])}]
    )
    admin.locator("form[enctype] button[type=submit]").click()
    expect(admin.locator(".import-errors li")).to_have_count(1)
    fits(admin, 360)
    watch.check()
    admin_watch.check()
