"""The award register: serials on approval, presented -> awarded, attach to a
ceremony, revoke and reissue, verification (API and page), permissions and bad
input; certificates read back from the PDFs the API serves."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import func, select

from award_service.audit.models import AuditEvent
from award_service.awards import queries
from award_service.awards.collation import CYRILLIC, sort_key
from award_service.awards.models import Award
from award_service.errors import Conflict
from award_service.extensions import db
from award_service.nominations import transitions
from award_service.nominations.models import Nomination

from .nomination_factories import *  # noqa: F403  (fixtures)
from .nomination_factories import DECREE, actor, advance, nominate, reload


def approved(cast, **nominee):
    return advance(nominate(cast.nominator, **nominee), "approved", cast)


def award_of(nomination) -> Award:
    db.session.expire_all()
    return db.session.scalar(select(Award).where(Award.nomination_id == nomination.id, Award.status == "valid"))


def pdf_text(data: bytes) -> str:
    """The text a reader extracts, with runs of white space as one space (a
    long name may be set on two lines)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def qr_texts(data: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


# ------------------------------------------------------------------ issuing


def test_approval_issues_the_next_serial_and_audits_it(cast):
    first, second = approved(cast), approved(cast)
    a, b = award_of(first), award_of(second)
    assert (a.serial, b.serial) == ("ULY-00001", "ULY-00002")
    assert a.full_name == first.nominee.full_name and a.decree_number == "45"
    assert a.decree_date == date(2025, 4, 28) and a.status == "valid" and len(a.verify_code) == 16
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "award.issue", AuditEvent.object_id == a.serial)
        )
        == 1
    )


def test_a_decree_gets_consecutive_serials_in_id_order(cast):
    batch = [advance(nominate(cast.nominator), "recommended", cast) for _ in range(5)]
    transitions.bulk_transition(db.session, actor(cast.commission), [n.id for n in batch], "approve", **DECREE)
    serials = [award_of(n).serial for n in sorted(batch, key=lambda n: n.id)]
    assert serials == [f"ULY-{i:05d}" for i in range(1, 6)]


def test_a_refused_approval_uses_no_number(cast):
    from award_service.medals import service as medals

    medals.set_quotas(db.session, actor(cast.admin), medals.get_medal(db.session, "victory80"), {"zhezkazgan": 1})
    approved(cast)
    over = advance(nominate(cast.nominator), "recommended", cast)
    with pytest.raises(Conflict):
        transitions.transition(db.session, actor(cast.commission), over, "approve", **DECREE)
    medals.set_quotas(db.session, actor(cast.admin), medals.get_medal(db.session, "victory80"), {"zhezkazgan": 5})
    transitions.transition(db.session, actor(cast.commission), reload(over.id), "approve", **DECREE)
    assert award_of(over).serial == "ULY-00002"  # no gap from the refused attempt


def test_kazakh_alphabetical_order_is_not_code_point_order():
    names = [
        "Яковлев",
        "Әбенов",
        "Ахметов",
        "Ахмет",
        "Іргебаев",
        "Ыбыраев",
        "Қасымов",
        "Кенжебаев",
        "Ұлықбеков",
        "Үсенов",
        "Уәлиев",
        "Һасенов",
        "Хасенов",
        "Ғабитов",
        "Гусев",
        "Ңаев",
        "Нұров",
        "Өтебаев",
        "Оспанов",
    ]
    expected = [
        "Ахмет",
        "Ахметов",
        "Әбенов",
        "Гусев",
        "Ғабитов",
        "Кенжебаев",
        "Қасымов",
        "Нұров",
        "Ңаев",
        "Оспанов",
        "Өтебаев",
        "Уәлиев",
        "Ұлықбеков",
        "Үсенов",
        "Хасенов",
        "Һасенов",
        "Ыбыраев",
        "Іргебаев",
        "Яковлев",
    ]
    assert sorted(names, key=sort_key) == expected
    assert [sort_key(letter) for letter in CYRILLIC] == sorted(sort_key(letter) for letter in CYRILLIC)
    assert sort_key("әлиев") == sort_key("ӘЛИЕВ")
    assert sort_key("Ахмет", "Бақыт") < sort_key("Ахметов", "Асқар")


def test_the_api_lists_in_presentation_order(client, token_for, cast):
    for surname in ("Яхин", "Әбенов", "Ахметов", "Ұлықбеков", "Үсенов"):
        approved(cast, surname=surname)
    response = client.get("/api/v1/awards?medal=victory80", headers=token_for(cast.clerk))
    assert response.status_code == 200
    surnames = [item["full_name"].split()[0] for item in response.json["items"]]
    assert surnames == ["Ахметов", "Әбенов", "Ұлықбеков", "Үсенов", "Яхин"]
    assert response.json["total"] == 5


# ---------------------------------------------------- presented and ceremony


def test_presented_moves_the_nomination_to_awarded(client, token_for, cast):
    nomination = approved(cast)
    serial = award_of(nomination).serial
    response = client.post(
        f"/api/v1/awards/{serial}/presented", json={"date": "2025-05-09"}, headers=token_for(cast.clerk)
    )
    assert response.status_code == 200, response.json
    assert response.json["presented_on"] == "2025-05-09"
    assert reload(nomination.id).status == "awarded"
    history = client.get(f"/api/v1/nominations/{nomination.id}", headers=token_for(cast.commission)).json["history"]
    assert history[-1]["action"] == "nomination.award" and history[-1]["after"]["status"] == "awarded"
    again = client.post(
        f"/api/v1/awards/{serial}/presented", json={"date": "2025-05-09"}, headers=token_for(cast.clerk)
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "already_presented"


@pytest.mark.parametrize(
    "value, fragment",
    [
        ((date.today() + timedelta(days=3)).isoformat(), "future"),
        ("2025-04-01", "before the decree"),
        ("9 May", "14.03.1927"),
        (None, "14.03.1927"),
    ],
)
def test_presented_date_is_checked(en_client, token_for, cast, value, fragment):
    nomination = approved(cast)
    serial = award_of(nomination).serial
    response = en_client.post(f"/api/v1/awards/{serial}/presented", json={"date": value}, headers=token_for(cast.clerk))
    assert response.status_code == 422
    assert fragment in response.json["error"]["fields"]["date"]
    assert reload(nomination.id).status == "approved" and award_of(nomination).presented_on is None


def test_attach_to_a_ceremony_is_all_or_nothing(client, token_for, cast, make_ceremony):
    ceremony = make_ceremony()
    a, b = award_of(approved(cast)), award_of(approved(cast))
    bad = client.post(
        f"/api/v1/ceremonies/{ceremony.id}/awards",
        json={"serials": [a.serial, "ULY-99999"]},
        headers=token_for(cast.clerk),
    )
    assert bad.status_code == 422 and "ULY-99999" in bad.json["error"]["fields"]["serials"]
    assert award_of(a.nomination).ceremony_id is None
    ok = client.post(
        f"/api/v1/ceremonies/{ceremony.id}/awards",
        json={"serials": [a.serial, b.serial]},
        headers=token_for(cast.clerk),
    )
    assert ok.status_code == 200 and sorted(ok.json["serials"]) == [a.serial, b.serial]
    listed = client.get(f"/api/v1/awards?ceremony={ceremony.id}", headers=token_for(cast.clerk)).json
    assert {item["serial"] for item in listed["items"]} == {a.serial, b.serial}
    missing = client.post(
        "/api/v1/ceremonies/999999/awards", json={"serials": [a.serial]}, headers=token_for(cast.clerk)
    )
    assert missing.status_code == 404


# ------------------------------------------------- revoke, reissue, verify


def test_revoke_and_reissue(client, token_for, cast):
    nomination = approved(cast)
    old = award_of(nomination)
    no_reason = client.post(f"/api/v1/awards/{old.serial}/revoke", json={"reason": "  "}, headers=token_for(cast.admin))
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["fields"]
    by_clerk = client.post(
        f"/api/v1/awards/{old.serial}/revoke", json={"reason": "misprint"}, headers=token_for(cast.clerk)
    )
    assert by_clerk.status_code == 403
    revoked = client.post(
        f"/api/v1/awards/{old.serial}/revoke", json={"reason": "Misprinted name"}, headers=token_for(cast.admin)
    )
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert client.get(f"/api/v1/verify/{old.verify_code}").json["status"] == "revoked"
    printed = client.get(f"/api/v1/awards/{old.serial}/certificate.pdf", headers=token_for(cast.clerk))
    assert printed.status_code == 409 and printed.json["error"]["code"] == "revoked"
    new = client.post(f"/api/v1/awards/{old.serial}/reissue", headers=token_for(cast.admin))
    assert new.status_code == 201, new.json
    assert new.json["serial"] == "ULY-00002" and new.json["reissue_of"] == old.serial
    twice = client.post(f"/api/v1/awards/{old.serial}/reissue", headers=token_for(cast.admin))
    assert twice.status_code == 409
    actions = [
        e["action"] for e in client.get(f"/api/v1/awards/{old.serial}", headers=token_for(cast.admin)).json["history"]
    ]
    assert actions == ["award.issue", "award.revoke"]


def test_revoke_with_reissue_in_one_step(client, token_for, cast):
    old = award_of(approved(cast))
    response = client.post(
        f"/api/v1/awards/{old.serial}/revoke",
        json={"reason": "Damaged", "reissue": True},
        headers=token_for(cast.admin),
    )
    assert response.status_code == 200
    assert response.json["status"] == "revoked" and response.json["reissued_as"]["reissue_of"] == old.serial


def test_verification_api_and_page(client, cast):
    award = award_of(approved(cast, surname="Әбенова", given_name="Гүлнар"))
    response = client.get(f"/api/v1/verify/{award.verify_code}")
    assert response.status_code == 200
    assert set(response.json) >= {"status", "full_name", "medal", "serial", "decree_date"}
    assert response.json["status"] == "valid" and response.json["serial"] == award.serial
    assert response.json["decree_date"] == "2025-04-28" and response.json["full_name"] == award.full_name
    # typed by hand: lower case, in groups
    typed = "-".join(award.verify_code[i : i + 4] for i in range(0, 16, 4)).lower()
    assert client.get(f"/api/v1/verify/{typed}").json["serial"] == award.serial
    page = client.get(f"/v/{award.verify_code}")
    assert page.status_code == 200 and award.full_name in page.text and award.serial in page.text
    assert award.nomination.nominee.iin not in page.text  # nothing more than the certificate shows


@pytest.mark.parametrize("code", ["AAAAAAAAAAAAAAAA", "short", "x" * 300, "ULY-00001", "%00"])
def test_unknown_or_forged_codes_leak_nothing(client, cast, code):
    award = award_of(approved(cast))
    response = client.get(f"/api/v1/verify/{code}")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert award.full_name not in response.text
    page = client.get(f"/v/{code}")
    assert page.status_code == 404 and award.full_name not in page.text


def test_verification_is_rate_limited(make_app):
    app = make_app(AWARD_RATELIMIT_ENABLED=True, RATELIMIT_ENABLED=True, AWARD_VERIFY_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.get("/api/v1/verify/AAAAAAAAAAAAAAAA").status_code for _ in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]


# ------------------------------------------------------------ permissions


@pytest.mark.parametrize(
    "who, status",
    [
        ("clerk", 200),
        ("admin", 200),
        ("commission", 200),
        ("reviewer", 403),
        ("nominator", 403),
        ("organiser", 403),
        ("far_clerk", 200),
    ],
)
def test_who_sees_the_register(client, token_for, cast, who, status):
    award = award_of(approved(cast))
    listing = client.get("/api/v1/awards", headers=token_for(getattr(cast, who)))
    assert listing.status_code == status
    if who == "far_clerk":  # Karazhal's clerk: not Zhezkazgan's awards
        assert listing.json["total"] == 0
        assert client.get(f"/api/v1/awards/{award.serial}", headers=token_for(cast.far_clerk)).status_code == 403
    assert client.get("/api/v1/awards").status_code == 401


@pytest.mark.parametrize("who, status", [("clerk", 200), ("admin", 200), ("commission", 403), ("far_clerk", 403)])
def test_who_prints(client, token_for, cast, who, status):
    award = award_of(approved(cast))
    response = client.get(f"/api/v1/awards/{award.serial}/certificate.pdf", headers=token_for(getattr(cast, who)))
    assert response.status_code == status


# --------------------------------------------------------------- the PDFs


def test_the_certificate_reads_back_and_its_qr_verifies(app, client, token_for, cast):
    nomination = approved(cast, surname="Әбдіғаппарова-Қасымова", given_name="Гүлжиһан", patronymic="Өмірзаққызы")
    award = award_of(nomination)
    for fmt in ("a4", "card"):
        response = client.get(
            f"/api/v1/awards/{award.serial}/certificate.pdf?format={fmt}", headers=token_for(cast.clerk)
        )
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        text = pdf_text(response.data)
        assert award.full_name in text and award.serial in text
        (url,) = qr_texts(response.data)
        assert url == f"{app.config['AWARD_BASE_URL']}/v/{award.verify_code}"
    path = url[len(app.config["AWARD_BASE_URL"]) :]
    assert (
        "This certificate is valid"
        in client.get(path, headers={"Accept-Language": "en"}, query_string={"lang": "en"}).text
    )
    client.post(f"/api/v1/awards/{award.serial}/revoke", json={"reason": "test"}, headers=token_for(cast.admin))
    page = client.get(path, query_string={"lang": "en"})
    assert page.status_code == 200 and "revoked" in page.text
    assert client.get(f"/api/v1/verify/{award.verify_code}").json["status"] == "revoked"


def test_unknown_format_is_a_clear_error(client, token_for, cast):
    award = award_of(approved(cast))
    response = client.get(f"/api/v1/awards/{award.serial}/certificate.pdf?format=a3", headers=token_for(cast.clerk))
    assert response.status_code == 422 and "format" in response.json["error"]["fields"]


def test_batch_and_presentation_sheet_for_a_ceremony(client, token_for, cast, make_ceremony):
    ceremony = make_ceremony()
    surnames = ("Яхин", "Әбенов", "Ахметов", "Ұлықбеков", "Үсенов", "Іргебаев")
    serials = [award_of(approved(cast, surname=s)).serial for s in surnames]
    client.post(f"/api/v1/ceremonies/{ceremony.id}/awards", json={"serials": serials}, headers=token_for(cast.clerk))
    headers = token_for(cast.clerk)
    batch = client.get(f"/api/v1/awards/batch.pdf?ceremony={ceremony.id}&format=a4", headers=headers)
    assert batch.status_code == 200 and batch.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(batch.data)).pages
    assert len(pages) == 6
    order = [next(s for s in surnames if s in page.extract_text()) for page in pages]
    assert order == ["Ахметов", "Әбенов", "Ұлықбеков", "Үсенов", "Іргебаев", "Яхин"]
    cards = client.get(f"/api/v1/awards/batch.pdf?ceremony={ceremony.id}&format=card", headers=headers)
    assert len(PdfReader(io.BytesIO(cards.data)).pages) == 2
    sheet = client.get(f"/api/v1/awards/presentation-sheet.pdf?ceremony={ceremony.id}", headers=headers)
    assert sheet.status_code == 200
    text = pdf_text(sheet.data)
    positions = [text.index(s) for s in ("Ахметов", "Әбенов", "Ұлықбеков", "Үсенов", "Іргебаев", "Яхин")]
    assert positions == sorted(positions)
    assert all(serial in text for serial in serials)
    no_ceremony = client.get("/api/v1/awards/presentation-sheet.pdf", headers=headers)
    assert no_ceremony.status_code == 422
    empty = client.get(f"/api/v1/awards/batch.pdf?ceremony={make_ceremony().id}", headers=headers)
    assert empty.status_code == 404


def test_a_revoked_certificate_is_left_out_of_the_batch(client, token_for, cast):
    keep, drop = award_of(approved(cast)), award_of(approved(cast))
    client.post(f"/api/v1/awards/{drop.serial}/revoke", json={"reason": "x"}, headers=token_for(cast.admin))
    batch = client.get("/api/v1/awards/batch.pdf?medal=victory80", headers=token_for(cast.clerk))
    text = pdf_text(batch.data)
    assert keep.serial in text and drop.serial not in text


def test_bad_filters_are_422(client, token_for, cast):
    headers = token_for(cast.clerk)
    for query in ("medal=nope", "district=atlantis", "ceremony=abc", "status=lost"):
        response = client.get(f"/api/v1/awards?{query}", headers=headers)
        assert response.status_code == 422, query


# ------------------------------------------------------------ staff pages


def test_clerk_prints_and_marks_presented_through_the_pages(client, login, cast, make_ceremony):
    ceremony = make_ceremony()
    awards_ = [award_of(approved(cast)) for _ in range(3)]
    login(cast.clerk)
    page = client.get("/staff/awards/")
    assert page.status_code == 200 and all(a.serial in page.text for a in awards_)
    attached = client.post(
        "/staff/awards/", data={"action": "attach", "target": str(ceremony.id), "serials": [a.serial for a in awards_]}
    )
    assert attached.status_code == 302
    listed = client.get(f"/staff/awards/?ceremony={ceremony.id}")
    assert "presentation-sheet.pdf" in listed.text
    pdf = client.get(f"/staff/awards/batch.pdf?ceremony={ceremony.id}&format=card")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    future = (date.today() + timedelta(days=5)).strftime("%d.%m.%Y")
    refused = client.post(
        f"/staff/awards/?ceremony={ceremony.id}",
        data={"action": "present", "date": future, "serials": [awards_[0].serial]},
    )
    assert refused.status_code == 422 and queries.get_award(db.session, awards_[0].serial).presented_on is None
    # The ceremony is weeks away: the page asks to confirm, and changes nothing until then.
    early = {"action": "present", "date": "09.05.2025", "serials": [a.serial for a in awards_]}
    asked = client.post(f"/staff/awards/?ceremony={ceremony.id}", data=early)
    assert asked.status_code == 409 and 'name="confirm_early"' in asked.text
    assert all(f'id="tick-{a.serial}" checked' in asked.text for a in awards_)  # still ticked
    assert queries.get_award(db.session, awards_[0].serial).presented_on is None
    done = client.post(f"/staff/awards/?ceremony={ceremony.id}", data={**early, "confirm_early": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert {db.session.get(Nomination, a.nomination_id).status for a in awards_} == {"awarded"}


def test_admin_revokes_through_the_page(client, login, cast):
    award = award_of(approved(cast))
    login(cast.admin)
    empty = client.post(f"/staff/awards/{award.serial}/revoke", data={"reason": ""})
    assert empty.status_code == 422
    done = client.post(f"/staff/awards/{award.serial}/revoke", data={"reason": "Wrong name", "reissue": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert queries.get_award(db.session, award.serial).status == "revoked"
    page = client.get(done.headers["Location"])
    assert page.status_code == 200 and award.serial in page.text


# ------------------------------------------------------------------ signer


def signature_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (300, 90), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 70), (80, 20), (150, 60), (290, 15)], fill=(20, 20, 120, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_admin_sets_the_signer_and_it_is_printed(client, login, token_for, cast):
    award = award_of(approved(cast))
    login(cast.admin)
    broken = client.post(
        "/staff/medals/victory80/signer",
        data={"signer_name": "x", "signature": (io.BytesIO(signature_png()[:60]), "sign.png")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422
    disguised = client.post(
        "/staff/medals/victory80/signer",
        data={
            "signer_title_kk": "Ұлытау облысының әкімі",
            "signer_title_ru": "Аким области Ұлытау",
            "signer_name": "Б. Т. Сәрсенбаев",
            "signature": (io.BytesIO(b"MZ\x90\x00 not an image"), "sign.png"),
        },
        content_type="multipart/form-data",
    )
    assert disguised.status_code == 422
    saved = client.post(
        "/staff/medals/victory80/signer",
        data={
            "signer_title_kk": "Ұлытау облысының әкімі",
            "signer_title_ru": "Аким области Ұлытау",
            "signer_name": "Б. Т. Сәрсенбаев",
            "signature": (io.BytesIO(signature_png()), "sign.png"),
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    pdf = client.get(f"/api/v1/awards/{award.serial}/certificate.pdf", headers=token_for(cast.clerk))
    text = pdf_text(pdf.data)
    assert "Ұлытау облысының әкімі" in text and "Аким области Ұлытау" in text and "Б. Т. Сәрсенбаев" in text
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "medal.signer")) == 1
    )


def test_the_nomination_page_links_its_certificate(client, login, cast):
    nomination = approved(cast)
    login(cast.commission)
    page = client.get(f"/staff/nominations/{nomination.id}")
    assert page.status_code == 200 and award_of(nomination).serial in page.text


def test_a_name_the_certificate_cannot_print_is_refused_at_entry(en_client, token_for, cast):
    from .nomination_factories import nominee_data

    body = {"nominee": nominee_data(surname="王", given_name="Қайрат"), "medal": "victory80", "grounds": "x"}
    response = en_client.post("/api/v1/nominations", json=body, headers=token_for(cast.nominator))
    assert response.status_code == 422
    assert "王" in response.json["error"]["fields"]["nominee.surname"]
    assert db.session.scalar(select(func.count()).select_from(Nomination)) == 0
