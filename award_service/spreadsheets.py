"""CSV and XLSX files, written and read the same way everywhere in the service.

Writing: Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula (CSV injection), so exports pass
every text cell through :func:`spreadsheet_safe`, which prefixes an apostrophe.
Every exported file is written the same way: CSV in UTF-8 with a BOM (Excel
then shows Kazakh letters), served as :data:`CSV_MIMETYPE`; times in ISO 8601
with the zone's offset (``2027-05-09T19:00:00+05:00``, :func:`export_text`);
states in words in the reader's language, beside their machine code.

Reading: :func:`read_rows` takes the bytes of an uploaded CSV (UTF-8) or XLSX
file and yields its rows; anything wrong with the file as a whole becomes a
:class:`SpreadsheetError` with a message fit to show.  Imports refuse cells that
:func:`looks_like_formula`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from .timeutil import iso_local

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_SIGNATURE = b"PK\x03\x04"  # a zip
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)
# An XLSX file is a zip: refuse one that unpacks to far more than any honest
# upload (a "zip bomb"); openpyxl would hold its shared strings in memory.
MAX_UNPACKED = 300 * 1024 * 1024


CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"  # starts every CSV file we write


def export_text(value, zone_name: str) -> str:
    """One cell of an exported CSV file: a time in ISO 8601 with the zone's
    offset, a date in ISO 8601, anything else as safe text."""
    if isinstance(value, (datetime, date)):
        return iso_local(value, zone_name)
    return spreadsheet_safe(value)


def spreadsheet_safe(value) -> str:
    """The value as text that a spreadsheet shows and never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def looks_like_formula(text: str) -> bool:
    """Would a spreadsheet run this cell (leading blanks ignored, as they are trimmed on import)?"""
    return text.startswith(FORMULA_PREFIXES) or text.lstrip(" \t\r\n").startswith(FORMULA_PREFIXES[:4])


class SpreadsheetError(Exception):
    """The file cannot be read; ``row`` is where (0: the file as a whole)."""

    def __init__(self, message, row: int = 0):
        self.message = str(message)
        self.row = row
        super().__init__(self.message)


def read_rows(data: bytes) -> Iterator[tuple[int, list]]:
    """(row number, cells) for every row of the first sheet, the first row being 1.

    XLSX cells come as openpyxl reads them (str, int, float, datetime, None;
    a formula as its text, "=…"); CSV cells as strings.  The CSV delimiter is
    "," or ";" or a tab, whichever the first line has most of (Excel with a
    Russian or Kazakh locale writes ";").  A generator: errors come while
    iterating, and closing it closes the workbook."""
    if data.startswith(OLE_SIGNATURE):
        raise SpreadsheetError(
            _l("This is an old Excel file (.xls). Save it as Excel Workbook (.xlsx) or as CSV UTF-8.")
        )
    yield from (_xlsx_rows(data) if data.startswith(XLSX_SIGNATURE) else _csv_rows(data))


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    if b"\x00" in data[:4096]:
        raise SpreadsheetError(_l("This is not a CSV or XLSX file. Download the template and fill it in."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError(
            _l("The file is not UTF-8; in Excel choose CSV UTF-8 (Comma delimited) when saving.")
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    index = 0
    try:
        # A record may span several lines (a quoted cell with line breaks);
        # it is still one row of the spreadsheet.
        for index, cells in enumerate(reader, start=1):
            yield index, cells
    except csv.Error:
        raise SpreadsheetError(
            _l(
                "Row %(row)d cannot be read as CSV (a quote that is never closed, or a cell that is far too long).",
                row=index + 1,
            ),
            row=index + 1,
        ) from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    unreadable = _l("The XLSX file cannot be read. Save it again from Excel, or as CSV UTF-8.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise SpreadsheetError(unreadable) from None
    if unpacked > MAX_UNPACKED:
        raise SpreadsheetError(_l("The file is too large once unpacked. Split it into smaller files."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors) for a bad file
        raise SpreadsheetError(unreadable) from None
    try:
        if not workbook.worksheets:
            raise SpreadsheetError(unreadable)
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        index = 0
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception:  # a malformed sheet part, found while streaming it
                raise SpreadsheetError(unreadable, row=index + 1) from None
            index += 1
            yield index, list(cells)
    finally:
        workbook.close()
