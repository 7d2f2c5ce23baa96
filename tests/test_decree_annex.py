"""The decree annex (issue 12, item 8): the list of nominations approved under
one decree, as a PDF to sign, read back with pypdf: Kazakh letters, the
presentation order, the scope, the signature block kept with its list."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from award_service import pdf
from award_service.extensions import db
from award_service.medals.models import Medal
from award_service.nominations import transitions
from award_service.pdf.annex import DecreeAnnex

from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import actor, advance, nominate
from .test_awards import approved, award_of, pdf_text

URL = "/staff/awards/decree-annex.pdf?number=45&date=2025-04-28"


def page_texts(data: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def decree(cast, token_for, client):
    """Under decree № 45 of 28.04.2025: three in Zhezkazgan (one with its name
    corrected at a reissue) and one in Karazhal; another under decree № 46."""
    medal = db.session.scalar(select(Medal))
    medal.signer_title_kk, medal.signer_title_ru = "Ұлытау облысының әкімі", "Аким области Ұлытау"
    medal.signer_name = "Б. Т. Сәрсенбаев"
    db.session.commit()
    made = {
        "Яхин": approved(cast, surname="Яхин", given_name="Ильдар"),
        "Әбенов": approved(cast, surname="Әбенов", given_name="Қайрат"),
        "Ахметов": approved(cast, surname="Ахметов", given_name="Ерлан"),
        "Өтебаев": advance(
            nominate(cast.far_nominator, surname="Өтебаев", given_name="Нұржан", district="karazhal"),
            "approved",
            cast,
            reviewer=cast.far_reviewer,
        ),
    }
    other = advance(nominate(cast.nominator, surname="Ғабитов", given_name="Мәди"), "recommended", cast)
    transitions.transition(
        db.session, actor(cast.commission), other, "approve", decree_number="46", decree_date="2025-04-29"
    )
    wrong = award_of(made["Әбенов"])
    corrected = client.post(
        f"/api/v1/awards/{wrong.serial}/reissue",
        json={"reason": "Тегі қате", "corrections": {"surname": "Әбенова", "given_name": "Гүлнар"}},
        headers=token_for(cast.admin),
    )
    assert corrected.status_code == 201
    return made


def test_the_annex_lists_the_decree_in_order_with_its_signer(client, login, cast, decree):
    login(cast.clerk)
    response = client.get(URL)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.data
    assert b"/FontFile2" in data  # the fonts travel with the file: Kazakh letters print anywhere
    text = pdf_text(data)
    for wording in ("ӨКІМГЕ ҚОСЫМША", "ПРИЛОЖЕНИЕ К РАСПОРЯЖЕНИЮ", "28.04.2025 № 45 өкім", "Барлығы / Всего: 4"):
        assert wording in text
    assert "Ұлытау облысының әкімі" in text and "Аким области Ұлытау" in text and "Б. Т. Сәрсенбаев" in text
    assert "М.О. / М.П." in text and "Бет / Стр. 1 / 1" in text
    # Kazakh alphabetical order; the corrected name, never the one the decree got wrong
    names = ["Ахметов Ерлан", "Әбенова Гүлнар", "Өтебаев Нұржан", "Яхин Ильдар"]
    positions = [text.index(name) for name in names]
    assert positions == sorted(positions)
    assert "Әбенов Қайрат" not in text and "Ғабитов" not in text  # decree № 46 is not this list
    for i, surname in enumerate(["Ахметов", "Әбенова", "Өтебаев", "Яхин"], start=1):
        nomination = decree[surname.rstrip("а") if surname == "Әбенова" else surname]
        award = award_of(nomination)
        assert f"{i} {surname}" in text and award.serial in text
        assert str(nomination.nominee.birth_date.year) in text


def test_a_district_sees_its_own_part(client, login, cast, decree):
    login(cast.far_clerk)
    text = pdf_text(client.get(URL).data)
    assert "Өтебаев Нұржан" in text and "Ахметов" not in text and "Барлығы / Всего: 1" in text


def test_the_commission_prints_it_a_nominator_does_not(client, login, cast, decree):
    login(cast.commission)
    assert client.get(URL).status_code == 200
    client.post("/staff/logout")
    login(cast.nominator)
    assert client.get(URL).status_code in (403, 404)


@pytest.mark.parametrize(
    "query",
    ["number=99&date=2025-04-28", "number=45&date=2025-04-27", "number=45", "date=2025-04-28", "number=45&date=x"],
)
def test_a_decree_with_nothing_to_list_says_so(en_client, login, cast, decree, query):
    login(cast.clerk)
    response = en_client.get(f"/staff/awards/decree-annex.pdf?{query}")
    assert response.status_code == 302
    page = en_client.get(response.headers["Location"])
    assert page.status_code == 200 and 'class="flash flash-error"' in page.text


def test_the_pages_that_show_the_decree_link_the_annex(client, login, cast, decree):
    login(cast.commission)
    nomination = decree["Яхин"]
    link = "/staff/awards/decree-annex.pdf?number=45&amp;date=2025-04-28"
    assert link in client.get(f"/staff/awards/{award_of(nomination).serial}").text
    assert link in client.get(f"/staff/nominations/{nomination.id}").text


# ------------------------------------------------------------- the PDF kit


def rows(count: int) -> list[pdf.AnnexRow]:
    return [
        pdf.AnnexRow(i, f"Сәрсенбаева Гүлжаһан {i}", "1930", "Жаңаарқа ауданы", f"ULY-{i:05d}")
        for i in range(1, count + 1)
    ]


SIGNER = pdf.AnnexSigner("Ұлытау облысының әкімі", "Аким области Ұлытау", "Б. Т. Сәрсенбаев")
HEADER = pdf.SheetHeader(title_lines=("28.04.2025 № 45 өкім / распоряжение № 45 от 28.04.2025",))


def test_the_signature_never_leaves_its_list():
    """A full first page leaves no room: the block goes on a page of its own,
    numbered with the list; a short list has it under the last row."""
    full = DecreeAnnex(HEADER).first_rows
    pages = page_texts(pdf.decree_annex_pdf(HEADER, rows(full), SIGNER))
    assert len(pages) == 2 and f"{full} Сәрсенбаева" in pages[0] and "Б. Т. Сәрсенбаев" not in pages[0]
    assert "Б. Т. Сәрсенбаев" in pages[1] and "Сәрсенбаева" not in pages[1] and "Бет / Стр. 2 / 2" in pages[1]
    (short,) = page_texts(pdf.decree_annex_pdf(HEADER, rows(3), SIGNER))
    assert short.index("3 Сәрсенбаева") < short.index("Б. Т. Сәрсенбаев")


def test_a_long_list_repeats_the_column_heads():
    many = page_texts(pdf.decree_annex_pdf(HEADER, rows(60), SIGNER))
    assert len(many) >= 3 and all("Аты-жөні" in p and "Ф.И.О." in p for p in many)
    assert "60 Сәрсенбаева" in many[-1] and "Б. Т. Сәрсенбаев" in many[-1]
    assert date(2025, 4, 28).strftime("%d.%m.%Y") in many[0]


def test_the_api_serves_the_same_annex(client, token_for, cast, decree):
    url = "/api/v1/awards/decree-annex.pdf?number=45&date=28.04.2025"
    response = client.get(url, headers=token_for(cast.clerk))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Ахметов Ерлан" in text and "Әбенова Гүлнар" in text and "Барлығы / Всего: 4" in text
    far = pdf_text(client.get(url, headers=token_for(cast.far_clerk)).data)
    assert "Өтебаев Нұржан" in far and "Ахметов" not in far
    assert client.get(url, headers=token_for(cast.nominator)).status_code == 403
    missing = client.get("/api/v1/awards/decree-annex.pdf?number=45&date=2025-04-27", headers=token_for(cast.clerk))
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
