"""Export a filtered list of nominations to CSV or XLSX.

The columns are the import's (so a file can be read by people and by the
import alike) plus the id, the status and the decree, and last the status in
words in the reader's language (``status_label``; ``status`` stays the machine
code integrators read).  Dates are ISO 8601.  Every text cell passes through
:func:`spreadsheet_safe`, so that no cell runs as a formula.

Rows are read in batches (``yield_per``) as plain tuples, not ORM objects:
50,000 nominations export in seconds and in little memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from sqlalchemy import Select

from ..districts.models import District
from ..medals.models import Medal
from ..spreadsheets import BOM, export_text, spreadsheet_safe
from ..states import label as state_label
from .importer import COLUMNS
from .lists import list_query
from .models import Nomination, Nominee

EXPORT_COLUMNS = ("id", *COLUMNS, "status", "decree_number", "decree_date", "status_label")
STATUS_INDEX = EXPORT_COLUMNS.index("status")
BATCH = 2000
# Column widths in the XLSX file, in characters.
WIDTHS = {
    "id": 8,
    "surname": 18,
    "given_name": 16,
    "patronymic": 18,
    "iin": 14,
    "birth_date": 12,
    "category": 18,
    "district": 13,
    "address": 30,
    "phone": 15,
    "medal": 12,
    "grounds": 40,
    "status": 12,
    "decree_number": 14,
    "decree_date": 12,
    "status_label": 18,
}


def export_statement(user, filters: dict) -> Select:
    """The list page's query (same filters, same district scope, same order),
    narrowed to the exported columns."""
    stmt = list_query(user, **filters, join_nominee=True)
    return (
        stmt.with_only_columns(
            Nomination.id,
            Nominee.surname,
            Nominee.given_name,
            Nominee.patronymic,
            Nominee.iin,
            Nominee.birth_date,
            Nominee.category,
            District.code,
            Nominee.address,
            Nominee.phone,
            Medal.code,
            Nomination.grounds,
            Nomination.status,
            Nomination.decree_number,
            Nomination.decree_date,
            maintain_column_froms=False,
        )
        .join(District, District.id == Nomination.district_id)
        .join(Medal, Medal.id == Nomination.medal_id)
    )


def export_rows(session, user, filters: dict) -> Iterator[tuple]:
    """One tuple per nomination, in EXPORT_COLUMNS order, fetched in batches
    (the status in words added to each, in the language of the request)."""
    result = session.execute(export_statement(user, filters).execution_options(yield_per=BATCH))
    labels: dict[str, str] = {}
    for partition in result.partitions():
        for row in partition:
            status = row[STATUS_INDEX]
            if status not in labels:
                labels[status] = str(state_label("nomination", status))
            yield (*row, labels[status])


def _text_cells(row: tuple) -> list[str]:
    return [export_text(value, "UTC") for value in row]  # only dates here: no zone to apply


class _Echo:
    """A file-like object that hands back what is written (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def iter_csv(rows) -> Iterator[bytes]:
    """The CSV file in pieces: UTF-8 with a BOM (so that Excel shows Kazakh
    letters), a header, one line per row."""
    writer = csv.writer(_Echo())
    yield (BOM + writer.writerow(EXPORT_COLUMNS)).encode("utf-8")
    buffer: list[str] = []
    for row in rows:
        buffer.append(writer.writerow(_text_cells(row)))
        if len(buffer) >= 500:
            yield "".join(buffer).encode("utf-8")
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode("utf-8")


def build_xlsx(rows, *, sheet_title: str = "nominations") -> bytes:
    """The XLSX file (openpyxl's write-only mode: rows are streamed to the zip,
    not kept as cell objects).  Numbers and dates stay numbers and dates; text
    cells are made safe and typed as text, never as formulas."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, name in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(name, 14)
    sheet.freeze_panes = "A2"
    sheet.append(list(EXPORT_COLUMNS))
    for row in rows:
        sheet.append(
            [value if isinstance(value, (int, date)) or value is None else spreadsheet_safe(value) for value in row]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
