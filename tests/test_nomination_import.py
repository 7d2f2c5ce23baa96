"""Bulk import and export of nominations: every bad row reported with its row and
column and nothing saved; all or nothing on saving; exports read back."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, func, select, text
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from award_service.actor import Actor
from award_service.audit.models import AuditEvent
from award_service.errors import Conflict, Forbidden
from award_service.extensions import db
from award_service.nominations import importer
from award_service.nominations.iin import make
from award_service.nominations.importer import COLUMNS, ImportUpload
from award_service.nominations.models import Nomination, Nominee
from award_service.spreadsheets import OLE_SIGNATURE

HEADER = list(COLUMNS)
FEATURE_TABLES = ("import_uploads", "nomination_documents", "nominations", "nominees", "medal_quotas", "medals")


@pytest.fixture(autouse=True)
def empty_feature_tables(database, db_url):
    """PostgreSQL: conftest's reset does not empty medals and nominees; do it here."""
    if database["kind"] == "postgresql":
        engine = create_engine(db_url)
        with engine.begin() as conn:
            for table in FEATURE_TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        engine.dispose()


@pytest.fixture
def medal(app, system):
    from award_service.medals.service import create_medal

    return create_medal(
        db.session,
        system,
        {
            "code": "victory80",
            "name_kk": "Жеңіс 80",
            "name_ru": "Победа 80",
            "name_en": "Victory 80",
            "serial_prefix": "ULY",
            "quotas": {"zhezkazgan": 397},
        },
    )


@pytest.fixture
def nominator(make_user):
    return make_user("nominator", district="zhezkazgan")


def iin_for(birth: date, start: int = 1) -> str:
    serial = start
    while (value := make(birth, serial)) is None:
        serial += 1
    return value


def row(**overrides) -> dict:
    birth = overrides.pop("birth", date(1927, 3, 14))
    values = {
        "surname": "Әбенов",
        "given_name": "Қайрат",
        "patronymic": "Сәрсенұлы",
        "iin": iin_for(birth, overrides.pop("serial", 1)),
        "birth_date": birth.isoformat(),
        "category": "home_front_worker",
        "district": "zhezkazgan",
        "address": "Жезқазған, Алашахан 12",
        "phone": "8 701 234 56 78",
        "medal": "victory80",
        "grounds": "Тыл еңбеккері, 1941–1945",
    }
    values.update(overrides)
    return values


def people(n: int) -> list[dict]:
    """``n`` different people (different IINs, birth dates and names)."""
    given = ("Қайрат", "Мәди", "Сәкен", "Ерлан", "Бауыржан", "Аманкелді", "Шәкен", "Ғани", "Нұржан", "Тілеу")
    out = []
    for i in range(n):
        birth = date(1920 + i % 15, 1 + i % 12, 1 + i % 28)
        out.append(row(surname=f"Сәтбаев{'а' * (i // 10)}", given_name=given[i % 10], birth=birth, serial=1 + i))
    return out


def to_csv(rows: list[dict], header=None, encoding="utf-8-sig", delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    header = header or HEADER
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(c, "") for c in header])
    return out.getvalue().encode(encoding)


def to_xlsx(rows: list[dict], header=None, raw: dict | None = None) -> bytes:
    """``raw``: {(row index, column): value} written as is (formulas, dates, numbers)."""
    workbook = Workbook()
    sheet = workbook.active
    header = header or HEADER
    sheet.append(header)
    for i, r in enumerate(rows):
        sheet.append([(raw or {}).get((i, c), r.get(c, "")) for c in header])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def parse(data: bytes, user=None, filename="nominations.csv"):
    with force_locale("en"):  # outside a request the default language (Kazakh) would apply
        return importer.parse_upload(db.session, user, filename, data, today=date(2025, 4, 1))


def errors_of(preview) -> set[tuple[int, str]]:
    return {(e.row, e.column) for e in preview.errors}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def upload(client, data: bytes, filename="nominations.csv"):
    # Encoded here, in memory: given the file, werkzeug's test client spools a body over 500 KB to a
    # temporary file that nothing closes (a ResourceWarning at garbage collection, an error in this suite).
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename)})
    return client.post(
        "/staff/nominations/io/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


# ------------------------------------------------------------------- the file


def test_wrong_header_names_the_unknown_and_missing_columns(app, medal):
    header = [c for c in HEADER if c not in ("iin", "grounds")] + ["примечание"]
    preview = parse(to_csv([row()], header=header))
    messages = " ".join(e.message for e in preview.errors)
    assert all(e.row == 1 for e in preview.errors)
    # The missing columns are named as the template (in the user's language) names them.
    assert "«примечание»" in messages and "IIN" in messages and "Grounds" in messages
    assert preview.rows == []


def test_header_in_any_order_and_semicolons_as_excel_writes_them(app, medal):
    header = list(reversed(HEADER))
    rows = people(3)
    rows[0].update(category=" home_front_worker ", district="zhezkazgan ", medal=" victory80")
    preview = parse(to_csv(rows, header=header, delimiter=";"))
    assert preview.errors == [] and preview.total == 3 and len(preview.rows) == 3


def test_cp1251_csv_gets_a_clear_message(app, medal):
    russian = row(
        surname="Иванов", given_name="Иван", patronymic="Петрович", address="Жезказган", grounds="Труженик тыла"
    )  # cp1251 has no Kazakh letters
    preview = parse(to_csv([russian], encoding="cp1251"))
    assert preview.rows == []
    assert len(preview.errors) == 1 and "not UTF-8" in preview.errors[0].message
    assert "CSV UTF-8" in preview.errors[0].message


def test_not_a_spreadsheet(app, medal):
    assert "CSV or XLSX" in parse(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" * 10, filename="a.csv").errors[0].message
    assert "XLSX" in parse(b"PK\x03\x04 broken zip", filename="a.xlsx").errors[0].message
    assert ".xls" in parse(OLE_SIGNATURE + b"\x00" * 100, filename="a.xls").errors[0].message
    assert "empty" in parse(b"").errors[0].message


def test_formulas_in_csv_cells_are_refused(app, medal):
    rows = [
        row(surname='=HYPERLINK("http://x","a")'),
        row(serial=2, grounds="@SUM(1+1)"),
        row(serial=3, address="-2+3"),
        row(serial=4, given_name=" +cmd|' /C calc'!A0"),
        row(serial=5, phone="+7 (701) 234-56-78"),
    ]  # a phone may start with +
    preview = parse(to_csv(rows))
    assert errors_of(preview) == {(2, "surname"), (3, "grounds"), (4, "address"), (5, "given_name")}
    assert all("formula" in e.message for e in preview.errors)
    assert [r["row"] for r in preview.rows] == [6] and preview.rows[0]["phone"] == "+77012345678"


def test_formula_cells_in_xlsx_are_refused(app, medal):
    rows = people(3)
    data = to_xlsx(rows, raw={(0, "grounds"): "=1+1", (1, "surname"): "=A2", (2, "address"): "+A1"})
    preview = parse(data, filename="n.xlsx")
    assert errors_of(preview) == {(2, "grounds"), (3, "surname"), (4, "address")}


def test_xlsx_dates_and_numbers_as_excel_types_them(app, medal):
    r = row(birth=date(1927, 3, 14))
    data = to_xlsx(
        [r], raw={(0, "birth_date"): date(1927, 3, 14), (0, "iin"): int(r["iin"]), (0, "phone"): 87012345678}
    )
    preview = parse(data, filename="n.xlsx")
    assert preview.errors == []
    clean = preview.rows[0]
    assert clean["birth_date"] == date(1927, 3, 14) and clean["iin"] == r["iin"] and clean["phone"] == "+77012345678"


# ------------------------------------------------------------------- the rows


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_saved(app, medal, system):
    rows = [
        row(),  # 2: good
        row(serial=2, iin="123456789012"),  # 3: checksum
        row(serial=3, iin="27031430001"),  # 4: length
        row(serial=4, birth_date="1927-02-30"),  # 5: impossible date
        row(serial=5, birth_date="2090-01-01", iin=""),  # 6: future
        row(serial=6, category="hero"),  # 7: unknown category
        row(serial=7, district="almaty"),  # 8: unknown district
        row(serial=8, medal="gold"),  # 9: unknown medal
        row(serial=9, grounds=""),  # 10: grounds required
        row(serial=10, iin=iin_for(date(1930, 1, 1))),  # 11: IIN of another birth date
        row(serial=11, surname=""),  # 12: surname required
    ]
    preview = parse(to_csv(rows))
    assert errors_of(preview) == {
        (3, "iin"),
        (4, "iin"),
        (5, "birth_date"),
        (6, "birth_date"),
        (7, "category"),
        (8, "district"),
        (9, "medal"),
        (10, "grounds"),
        (11, "iin"),
        (12, "surname"),
    }
    by_cell = {(e.row, e.column): e.message for e in preview.errors}
    assert "check digit" in by_cell[(3, "iin")]
    assert "future" in by_cell[(6, "birth_date")]
    assert "01.01.1930" in by_cell[(11, "iin")]
    assert preview.total == 11
    with pytest.raises(Conflict) as exc:
        importer.save(db.session, system, preview)
    assert {(r["row"], r["column"]) for r in exc.value.extra["rows"]} == errors_of(preview)
    assert count(Nomination) == 0 and count(Nominee) == 0


def test_duplicates_in_the_file_and_in_the_database(app, medal, system):
    from award_service.nominations.service import create_nomination

    existing = row(serial=50, birth=date(1925, 5, 5), surname="Жұмабаев", given_name="Ерлан")
    nomination = create_nomination(
        db.session, system, {"nominee": {k: existing[k] for k in COLUMNS[:9]}, "medal": "victory80", "grounds": "x"}
    )
    rows = [row(), row(given_name="Мәди"), existing]  # rows 2 and 3: the same IIN; row 4: in the database
    preview = parse(to_csv(rows))
    assert errors_of(preview) == {(3, "iin"), (4, "iin")}
    messages = {e.row: e.message for e in preview.errors}
    assert "row 2" in messages[3]
    assert f"№ {nomination.id}" in messages[4]


def test_likely_duplicates_are_flagged_not_refused(app, medal, system):
    from award_service.nominations.service import create_nomination

    create_nomination(
        db.session,
        system,
        {
            "nominee": {
                "surname": "Жанболатов",
                "given_name": "Қайрат",
                "birth_date": "1926-06-01",
                "category": "front_veteran",
                "district": "zhezkazgan",
            },
            "medal": "victory80",
            "grounds": "x",
        },
    )
    rows = [
        row(surname="Джанбулатов", given_name="Кайрат", birth=date(1926, 6, 1), iin=""),
        row(surname="Нұрпейісов", birth=date(1928, 2, 2), iin=""),
        row(surname="Нурпеисов", birth=date(1928, 2, 2), iin=""),
        row(surname="Оспанов", birth=date(1929, 9, 9), iin=""),
    ]
    preview = parse(to_csv(rows))
    assert preview.errors == []
    flags = {r["row"]: r["possible_duplicate"] for r in preview.rows}
    assert flags == {2: True, 3: True, 4: True, 5: False}
    assert preview.possible_duplicates == 3
    assert importer.save(db.session, system, preview) == 4
    flagged = db.session.scalars(select(Nomination.possible_duplicate).order_by(Nomination.id)).all()
    assert flagged == [False, True, True, True, False]


def test_district_scoped_nominator_may_import_only_their_district(app, medal, nominator, make_user):
    rows = [row(), row(serial=2, district="karazhal")]
    preview = parse(to_csv(rows), user=nominator)
    assert errors_of(preview) == {(3, "district")}
    assert "own district" in preview.errors[0].message
    with pytest.raises(Forbidden):
        parse(to_csv(rows), user=make_user("reviewer"))
    # A preview made for someone else does not let a scoped nominator save other districts.
    other = parse(to_csv([row(serial=3, district="karazhal")]))
    with pytest.raises(Forbidden):
        importer.save(db.session, Actor(user=nominator), other)
    assert count(Nomination) == 0


def test_oversize_and_too_many_rows(app, medal, monkeypatch):
    big = b"x" * (importer.MAX_BYTES + 1)
    assert "20 MB" in parse(big).errors[0].message
    from award_service.nominations.importer import reading

    monkeypatch.setattr(reading, "MAX_ROWS", 5)
    preview = parse(to_csv(people(6)))
    assert preview.rows == [] and preview.errors[-1].row == 7 and "more than 5 rows" in preview.errors[-1].message
    assert parse(to_csv(people(5))).errors == []


# ------------------------------------------------------------------- saving


def test_clean_csv_is_saved_as_drafts_with_audit_events(app, medal, nominator):
    preview = parse(to_csv(people(25)), user=nominator)
    assert preview.errors == [] and preview.total == 25
    assert importer.save(db.session, Actor(user=nominator, client_addr="10.0.0.1"), preview) == 25
    nominations = db.session.scalars(select(Nomination).order_by(Nomination.id)).all()
    assert len(nominations) == 25 and {n.status for n in nominations} == {"draft"}
    assert {n.created_by_id for n in nominations} == {nominator.id}
    first = nominations[0]
    assert first.nominee.surname == "Сәтбаев" and first.nominee.phone == "+77012345678"
    assert first.iin == first.nominee.iin and first.nominee.search_key and first.nominee.name_skeleton
    creates = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "nomination.create")).all()
    assert sorted(int(e.object_id) for e in creates) == [n.id for n in nominations]
    assert all(e.actor_id == nominator.id and e.after["status"] == "draft" for e in creates)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "nomination.import")).one()
    assert event.after["count"] == 25
    assert (event.after["first_id"], event.after["last_id"]) == (nominations[0].id, nominations[-1].id)


def test_clean_xlsx_is_saved(app, medal, system):
    preview = parse(to_xlsx(people(12)), filename="n.xlsx")
    assert preview.errors == [] and len(preview.rows) == 12
    assert importer.save(db.session, system, preview) == 12
    assert db.session.scalar(select(func.count()).where(Nomination.status == "draft")) == 12


def test_save_is_all_or_nothing_when_a_duplicate_appears_meanwhile(app, medal, system):
    from award_service.nominations.service import create_nomination

    rows = people(10)
    preview = parse(to_csv(rows))
    assert preview.errors == []
    late = rows[7]
    create_nomination(
        db.session, system, {"nominee": {k: late[k] for k in COLUMNS[:9]}, "medal": "victory80", "grounds": "x"}
    )
    with pytest.raises(Conflict) as exc:
        importer.save(db.session, system, preview)
    assert exc.value.code == "duplicate_nominee"
    assert [(r["row"], r["column"], r["value"]) for r in exc.value.extra["rows"]] == [(9, "iin", late["iin"])]
    assert count(Nomination) == 1  # only the one saved meanwhile
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "nomination.import")) == 0


def test_unique_index_race_rolls_back_everything(app, medal, system, monkeypatch):
    """The duplicate slips in after the check: the database's index refuses it
    and the whole import is rolled back."""
    from award_service.nominations.service import create_nomination

    rows = people(5)
    preview = parse(to_csv(rows))
    create_nomination(
        db.session, system, {"nominee": {k: rows[2][k] for k in COLUMNS[:9]}, "medal": "victory80", "grounds": "x"}
    )
    from award_service.nominations.importer import saving

    real = saving.active_with_iins
    calls = iter([{}])  # the check inside save() sees nothing the first time
    monkeypatch.setattr(saving, "active_with_iins", lambda session, r: next(calls, None) or real(session, r))
    with pytest.raises(Conflict) as exc:
        importer.save(db.session, system, preview)
    assert [(r["row"], r["column"]) for r in exc.value.extra["rows"]] == [(4, "iin")]
    assert count(Nomination) == 1 and count(Nominee) == 1


# ------------------------------------------------------------------- the pages


def test_import_pages_preview_then_save_all(en_client, login, medal, nominator):
    login(nominator)
    page = en_client.get("/staff/nominations/io/import")
    assert page.status_code == 200 and "Surname" in page.text
    assert "«Zhezkazgan city»" in page.text and "Karazhal" not in page.text  # their district
    no_file = en_client.post("/staff/nominations/io/import", data={})
    assert no_file.status_code == 422 and "Choose the file" in no_file.text
    response = upload(en_client, to_xlsx(people(30)), "list.xlsx")
    assert response.status_code == 200, response.text
    assert "Save all 30 nominations" in response.text
    assert count(Nomination) == 0
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', response.text).group(1)
    assert len(token) >= 22
    stored = db.session.scalars(select(ImportUpload)).one()
    assert stored.user_id == nominator.id and stored.filename == "list.xlsx"
    saved = en_client.post("/staff/nominations/io/import", data={"token": token})
    assert saved.status_code == 302
    db.session.expire_all()
    assert count(Nomination) == 30 and count(ImportUpload) == 0
    # The same token again: expired, nothing saved twice.
    again = en_client.post("/staff/nominations/io/import", data={"token": token}, follow_redirects=True)
    assert "Upload the file again" in again.text and count(Nomination) == 30


def test_import_page_lists_every_error(en_client, login, medal, nominator):
    login(nominator)
    response = upload(en_client, to_csv([row(), row(serial=2, category="x", district="karazhal")]))
    assert response.status_code == 422
    assert "nothing has been saved" in response.text
    # Each error names its row, column and the value as typed.
    assert 'Row 3, Category "x":' in response.text
    assert 'Row 3, District "karazhal":' in response.text
    assert "Save all" not in response.text and count(ImportUpload) == 0


def test_someone_elses_token_does_not_save(client, login, medal, nominator, make_user):
    login(nominator)
    response = upload(client, to_csv(people(2)))
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', response.text).group(1)
    client.post("/staff/logout")
    login(make_user("nominator", district="zhezkazgan"))
    client.post("/staff/nominations/io/import", data={"token": token})
    assert count(Nomination) == 0


def test_oversize_upload_gets_a_message_not_a_crash(en_client, login, medal, nominator):
    login(nominator)
    response = upload(en_client, b"a" * (importer.MAX_BYTES + importer.MAX_BYTES // 10))
    assert response.status_code == 413 and "larger than 20 MB" in response.text
    response = upload(en_client, b"surname\n" + b"a" * importer.MAX_BYTES)  # just over, within the envelope
    assert response.status_code == 422 and "larger than 20 MB" in response.text


def test_the_empty_template_has_the_header_only(client, login, medal, nominator):
    login(nominator)
    for name in ("template.csv", "template.xlsx"):
        response = client.get(f"/staff/nominations/io/{name}")
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        preview = parse(response.data, user=nominator, filename=name)
        # No sample person: the header parses, and there are no rows to import.
        assert [e.message for e in preview.errors] == ["The file has a header but no rows of nominations."]
        assert preview.rows == [] and preview.total == 0
    assert client.get("/staff/nominations/io/template.csv").data.startswith("\ufeff".encode())


# ------------------------------------------------------------------- export


@pytest.fixture
def saved(app, medal, system):
    rows = people(6)
    rows[0]["grounds"] = '=HYPERLINK("http://evil")'  # slips in through the form or the API
    rows[1]["district"] = "karazhal"
    from award_service.nominations.service import create_nomination

    for r in rows:
        create_nomination(
            db.session,
            system,
            {"nominee": {k: r[k] for k in COLUMNS[:9]}, "medal": "victory80", "grounds": r["grounds"]},
        )
    return rows


def test_export_csv_round_trip_and_formulas_neutralised(client, login, make_user, saved):
    login(make_user("reviewer"))
    response = client.get("/staff/nominations/io/export.csv")
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0] == ["id", *COLUMNS, "status", "decree_number", "decree_date", "status_label"]
    assert len(table) == 7
    records = {r[4]: dict(zip(table[0], r)) for r in table[1:]}
    first = records[saved[0]["iin"]]
    assert first["grounds"] == '\'=HYPERLINK("http://evil")'
    assert first["surname"] == "Сәтбаев" and first["birth_date"] == saved[0]["birth_date"]
    assert first["status"] == "draft" and first["medal"] == "victory80"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in table for cell in r)


def test_export_xlsx_round_trip_with_filters(client, login, make_user, saved):
    login(make_user("reviewer"))
    response = client.get("/staff/nominations/io/export.xlsx?district=zhezkazgan&status=draft")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:3] == ("id", "surname", "given_name") and len(table) == 6  # karazhal filtered out
    cells = [c for r in sheet.iter_rows() for c in r]
    assert not any(c.data_type == "f" for c in cells)
    grounds = {r[4]: r[11] for r in table[1:]}
    assert grounds[saved[0]["iin"]] == '\'=HYPERLINK("http://evil")'
    assert {r[3 + 1] for r in table[1:]} == {r["iin"] for r in saved if r["district"] == "zhezkazgan"}
    assert all(isinstance(r[0], int) for r in table[1:])


def test_export_is_scoped_to_the_users_district_and_refuses_bad_filters(client, login, make_user, saved):
    login(make_user("reviewer", district="karazhal"))
    table = list(csv.reader(io.StringIO(client.get("/staff/nominations/io/export.csv").data.decode("utf-8-sig"))))
    assert len(table) == 2 and table[1][7] == "karazhal"
    assert client.get("/staff/nominations/io/export.csv?status=nonsense").status_code == 422
    assert client.get("/staff/nominations/io/export.xlsx?q=" + "x" * 200).status_code == 422


def test_io_links_partial(app, make_user, login, client, medal):
    login(make_user("nominator", district="zhezkazgan"))
    from flask import render_template

    with app.test_request_context("/"):
        from flask_login import login_user

        user = make_user("reviewer")
        login_user(user)
        html = render_template("nominations/_io_links.html", filters={"status": "draft", "q": "Әбенов", "medal": None})
        assert "export.csv?status=draft&amp;q=" in html
        assert "/import" not in html
        nominator = make_user("nominator")
        login_user(nominator)
        assert "/staff/nominations/io/import" in render_template("nominations/_io_links.html", filters={})


def test_two_saves_of_one_upload_save_once(app, medal, nominator):
    """A double click on "Save all": rows without an IIN (no index guards them) are not saved twice."""
    rows = [row(iin="", serial=i, surname=f"Оспанов{'а' * i}") for i in range(3)]
    data = to_csv(rows)
    token = importer.store_upload(db.session, nominator, "n.csv", data)
    upload = importer.load_upload(db.session, nominator, token)
    preview = parse(data, user=nominator)
    assert importer.save(db.session, Actor(user=nominator), preview, upload=upload) == 3
    with pytest.raises(Conflict) as exc:
        importer.save(db.session, Actor(user=nominator), preview, upload=upload)
    assert exc.value.code == "import_already_saved"
    assert count(Nomination) == 3 and count(ImportUpload) == 0
    assert importer.load_upload(db.session, nominator, token) is None
    assert importer.load_upload(db.session, nominator, "x" * 43) is None


def test_simultaneous_saves_of_one_upload_on_postgresql(app, medal, nominator, require_postgres):
    """Two real connections click "Save all" on one upload at the same moment: one saves, one is refused."""
    import threading

    from award_service.accounts.models import User

    data = to_csv([row(iin="", serial=i, surname=f"Оспанов{'а' * i}") for i in range(20)])
    token = importer.store_upload(db.session, nominator, "n.csv", data)
    user_id = nominator.id
    barrier = threading.Barrier(2, timeout=30)
    outcomes = []

    def click():
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                upload = importer.load_upload(db.session, user, token)
                preview = importer.parse_upload(db.session, user, upload.filename, upload.data)
                barrier.wait()
                outcomes.append(importer.save(db.session, Actor(user=user), preview, upload=upload))
            except Conflict as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes, key=str) == [20, "import_already_saved"]
    db.session.expire_all()
    assert count(Nomination) == 20
