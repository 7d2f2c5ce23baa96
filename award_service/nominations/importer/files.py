"""The files a nominator downloads to fill in: the empty template (the header
only) and the filled example (the same, with one made-up person), as XLSX or
CSV, in the user's language.

In the XLSX, the columns with a closed set of values (category, district,
medal) offer a drop-down list; the lists sit on a hidden second sheet (the
import reads only the first), since a list written into the rule itself may
not pass 255 characters.  The IIN and phone columns are text, so Excel keeps
an IIN's leading zero and all 12 digits.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _

from ...spreadsheets import spreadsheet_safe
from .reading import COLUMNS, MAX_ROWS

WIDTHS = {
    "surname": 18,
    "given_name": 16,
    "patronymic": 18,
    "iin": 15,
    "birth_date": 13,
    "category": 30,
    "district": 22,
    "address": 30,
    "phone": 16,
    "medal": 40,
    "grounds": 50,
}
LISTS_SHEET = "lists"
# The columns with a drop-down list, and the column of the lists sheet holding their values.
CHOICE_COLUMNS = ("category", "district", "medal")


def build_csv(header: Sequence[str], rows: Sequence[dict]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 only with the mark
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [v.isoformat() if isinstance(v, date) else spreadsheet_safe(v) for v in (row[c] for c in COLUMNS)]
        )
    return out.getvalue().encode("utf-8")


def build_xlsx(
    header: Sequence[str],
    rows: Sequence[dict],
    choices: dict[str, Sequence[str]],
    *,
    title: str,
) -> bytes:
    """``header``: the first row; ``rows``: {column: value} (the example's, or
    none); ``choices``: column -> the values its drop-down offers."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook's one sheet
    sheet.title = title[:31]
    letters = {name: get_column_letter(i) for i, name in enumerate(COLUMNS, start=1)}
    for name, letter in letters.items():
        sheet.column_dimensions[letter].width = WIDTHS.get(name, 14)
    sheet.append(list(header))
    sheet.freeze_panes = "A2"
    last = MAX_ROWS + 1
    for name in ("iin", "phone"):
        sheet.column_dimensions[letters[name]].number_format = "@"
    sheet.column_dimensions[letters["birth_date"]].number_format = "dd.mm.yyyy"
    for values in rows:
        sheet.append([values[c] for c in COLUMNS])
        index = sheet.max_row
        for name in ("iin", "phone"):
            sheet[f"{letters[name]}{index}"].number_format = "@"
        sheet[f"{letters['birth_date']}{index}"].number_format = "dd.mm.yyyy"

    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    for position, name in enumerate(CHOICE_COLUMNS, start=1):
        offered = list(choices.get(name) or [])
        if not offered:
            continue
        list_letter = get_column_letter(position)
        for i, value in enumerate(offered, start=1):
            lists[f"{list_letter}{i}"] = spreadsheet_safe(value)
        rule = DataValidation(
            type="list",
            formula1=f"{quote_sheetname(LISTS_SHEET)}!${list_letter}$1:${list_letter}${len(offered)}",
            allow_blank=True,
            showDropDown=False,  # False shows the arrow (the OOXML attribute means "hide")
            showErrorMessage=True,
            errorTitle=_("Choose from the list"),
            error=_("Choose a value from the drop-down list."),
        )
        rule.add(f"{letters[name]}2:{letters[name]}{last}")
        sheet.add_data_validation(rule)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
