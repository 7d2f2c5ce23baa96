"""The import speaks the user's language: the empty template (header only) and
the filled example in kk/ru/en with drop-down lists, headers and values read in
any of the three languages (and the column codes of earlier templates), the
example's made-up person refused, and every row error showing its value."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from award_service.nominations import importer
from award_service.nominations.importer import COLUMNS, example

from .test_nomination_import import (  # noqa: F401  (fixtures)
    empty_feature_tables,
    iin_for,
    medal,
    nominator,
    parse,
    people,
    row,
    to_csv,
    to_xlsx,
    upload,
)

HEADERS = {
    "kk": ["Тегі", "Аты", "Әкесінің аты", "ЖСН", "Туған күні", "Санат", "Аудан / қала", "Мекенжайы", "Телефон",
           "Медаль", "Негіздеме"],
    "ru": ["Фамилия", "Имя", "Отчество", "ИИН", "Дата рождения", "Категория", "Район / город", "Адрес", "Телефон",
           "Медаль", "Основание"],
    "en": ["Surname", "Given name", "Patronymic", "IIN", "Birth date", "Category", "District", "Address", "Phone",
           "Medal", "Grounds"],
}  # fmt: skip
VALUES = {
    "kk": {"category": "Тыл еңбеккері", "district": "Жезқазған қаласы", "medal": "Жеңіс 80"},
    "ru": {"category": "Труженик тыла", "district": "город Жезказган", "medal": "Победа 80"},
    "en": {"category": "Home-front worker", "district": "Zhezkazgan city", "medal": "Victory 80"},
}


def page_text(html: str) -> str:
    """The page's text as read: tags dropped, spaces collapsed (entities kept)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" :", ":")


def in_language(client, lang: str):
    with client.session_transaction() as session:
        session["lang"] = lang
    return client


def with_header(rows: list[dict], lang: str) -> bytes:
    """A CSV whose header is written in ``lang`` (the rows keyed by column code)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS[lang])
    for r in rows:
        writer.writerow([r.get(c, "") for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_headers_and_values_in_each_language(app, medal, lang):
    rows = people(3)
    rows[0].update(VALUES[lang])
    rows[1].update({k: f"  {v.upper()} " for k, v in VALUES[lang].items()})  # case and spaces do not matter
    preview = parse(with_header(rows, lang))
    assert preview.errors == [], preview.errors
    assert [(r["category"], r["district"], r["medal"]) for r in preview.rows] == [
        ("home_front_worker", "zhezkazgan", "victory80")
    ] * 3


def test_headers_of_three_languages_and_codes_mixed_and_marked_required(app, medal):
    header = ["Тегі *", "Имя", "patronymic", "IIN", "Туған күні*", "category", "Район / город", "address",
              "Телефон", "MEDAL", "Основание"]  # fmt: skip
    data = io.StringIO()
    writer = csv.writer(data)
    writer.writerow(header)
    r = row()
    writer.writerow([r[c] for c in COLUMNS])
    preview = parse(data.getvalue().encode())
    assert preview.errors == [] and len(preview.rows) == 1


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_empty_xlsx_template_is_in_the_users_language_with_drop_down_lists(
    app, client, login, medal, nominator, lang
):
    login(nominator)
    response = in_language(client, lang).get("/staff/nominations/io/template.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="nominations-template.xlsx"'
    book = load_workbook(io.BytesIO(response.data))
    sheet, lists = book.worksheets
    assert [c.value for c in sheet[1]] == HEADERS[lang]
    assert sheet.max_row == 1  # the header only: no sample person
    assert lists.sheet_state == "hidden"
    # One drop-down each for category, district and medal, over the rows under the header.
    rules = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert set(rules) == {"F2:F20001", "G2:G20001", "J2:J20001"}

    def offered(sqref):
        rule = rules[sqref]
        assert rule.type == "list" and rule.showErrorMessage
        cells = rule.formula1.split("!")[1].replace("$", "")
        return [c.value for (c,) in lists[cells]]

    with app.test_request_context(), force_locale(lang):
        from award_service.nominations.forms import CATEGORY_LABELS

        assert offered("F2:F20001") == [str(v) for v in CATEGORY_LABELS.values()]
    assert VALUES[lang]["category"] in offered("F2:F20001")
    assert offered("G2:G20001") == [VALUES[lang]["district"]]  # the nominator's own district only
    assert offered("J2:J20001") == [VALUES[lang]["medal"]]


def test_the_empty_csv_template_is_the_header_in_the_users_language(client, login, medal, nominator):
    login(nominator)
    body = in_language(client, "ru").get("/staff/nominations/io/template.csv").data
    assert body.decode("utf-8-sig").splitlines() == [",".join(HEADERS["ru"])]


def filled_in(data: bytes, rows: list[dict], lang: str) -> bytes:
    """What a nominator does with the XLSX template: types rows under its header."""
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    for r in rows:
        sheet.append([{**r, **VALUES[lang]}.get(c, "") for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_filled_in_template_imports(en_client, login, medal, nominator):
    login(nominator)
    template = in_language(en_client, "kk").get("/staff/nominations/io/template.xlsx").data
    response = upload(in_language(en_client, "en"), filled_in(template, people(4), "kk"), "filled.xlsx")
    assert response.status_code == 200 and "Save all 4 nominations" in response.text


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_filled_example_is_marked_and_refused_if_uploaded_back(en_client, login, medal, nominator, kind):
    login(nominator)
    response = in_language(en_client, "ru").get(f"/staff/nominations/io/example.{kind}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="nominations-example.{kind}"'
    if kind == "xlsx":
        book = load_workbook(io.BytesIO(response.data))
        sheet = book.worksheets[0]
        assert sheet.title == "Пример"
        cells = [[c.value for c in r] for r in sheet.iter_rows()]
    else:
        cells = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert cells[0] == HEADERS["ru"] and len(cells) == 2
    example_row = dict(zip(COLUMNS, cells[1]))
    assert example_row["surname"] == example.SURNAME and example_row["iin"] == example.IIN
    assert example_row["grounds"].startswith("ПРИМЕР, НЕ РЕАЛЬНЫЙ ЧЕЛОВЕК.")
    assert example_row["category"] == "Труженик тыла" and example_row["medal"] == "Победа 80"

    refused = upload(in_language(en_client, "en"), response.data, f"example.{kind}")
    assert refused.status_code == 422
    assert 'Row 2, "Серікбаев Жомарт": This is the made-up person of the filled example' in page_text(refused.text)
    assert "Save all" not in refused.text


def test_the_example_person_is_refused_however_the_row_is_changed(app, medal):
    base = row(
        surname=example.SURNAME,
        given_name=example.GIVEN_NAME,
        birth=example.BIRTH,
    )
    base["iin"] = example.IIN
    without_iin = {**base, "iin": "", "surname": example.SURNAME.upper()}
    with_other_name = {**base, "surname": "Әбенов"}
    preview = parse(to_csv([base, without_iin, with_other_name]))
    assert [(e.row, e.column) for e in preview.errors] == [(2, ""), (3, ""), (4, "")]
    assert all("made-up person" in e.message for e in preview.errors)
    # A real person born the same day is not the example.
    real = row(surname="Серікбаева", given_name="Айгүл", birth=example.BIRTH, serial=7)
    assert parse(to_csv([real])).errors == []


def test_each_row_error_carries_the_value_as_typed(app, medal):
    rows = [
        row(iin="12345"),
        row(serial=2, birth=date(1930, 1, 1), category="танкист"),
        row(serial=3, birth=date(1931, 1, 1), phone="12"),
        row(serial=4, birth=date(1932, 1, 1), given_name=""),
    ]
    preview = parse(to_csv(rows))
    found = {(e.row, e.column): e.value for e in preview.errors}
    assert found == {(2, "iin"): "12345", (3, "category"): "танкист", (4, "phone"): "12", (5, "given_name"): ""}
    # Excel's own types are shown as the spreadsheet shows them.
    xlsx = to_xlsx([row(birth=date(1927, 3, 14))], raw={(0, "iin"): 12345, (0, "birth_date"): date(2099, 1, 2)})
    found = {(e.row, e.column): e.value for e in parse(xlsx, filename="a.xlsx").errors}
    assert found[(2, "birth_date")] == "02.01.2099" and found[(2, "iin")] == "12345"


def test_the_preview_page_shows_row_column_and_value_escaped(en_client, login, medal, nominator):
    login(nominator)
    response = upload(en_client, to_csv([row(iin="12345"), row(serial=2, birth=date(1930, 1, 1), category="<b>x</b>")]))
    assert response.status_code == 422
    text = page_text(response.text)
    assert 'Row 2, IIN "12345": The IIN has 12 digits.' in text
    assert 'Row 3, Category "&lt;b&gt;x&lt;/b&gt;": Unknown category.' in text
    assert "<b>x</b>" not in response.text


def test_the_preview_row_errors_are_in_the_users_language(client, login, medal, nominator):
    login(nominator)
    response = upload(in_language(client, "kk"), to_csv([row(iin="12345")]))
    text = page_text(response.text)
    assert "2-жол, ЖСН «12345»:" in text


def test_column_labels_do_not_collide(app):
    with app.test_request_context():
        lookup = importer.columns.header_lookup(COLUMNS)
    assert {lookup[importer.columns.normal(h)] for lang in HEADERS for h in HEADERS[lang]} == set(COLUMNS)
    assert all(lookup[c] == c for c in COLUMNS)
