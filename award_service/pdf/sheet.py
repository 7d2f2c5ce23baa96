"""The presentation sheet (табыс ету ведомосі / ведомость вручения): the list each
recipient signs on receipt.  A4 portrait, rows in the order given, the column
heads on every page, "Бет / Стр. k / N" at the foot.

Pages are written as they fill, like the certificates.  The total N is known
only at the end, so each page draws its number from a Form XObject that is
named when the page is written and filled in when the sheet is closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import lru_cache
from typing import Any

from .content import SheetHeader, SheetRow
from .layouts import Box, Text
from .render import Fitted, clean, fit, text_ops
from .shapes import num, stroke_color
from .sheet_layout import SHEET, Column, SheetLayout
from .writer import PdfWriter

TITLE = "Табыс ету ведомосі / Ведомость вручения"
CHUNK = 64 * 1024


@lru_cache(maxsize=4)
def cell_elements(layout: SheetLayout) -> tuple[tuple[Column, Text | None], ...]:
    """Per column, a Text element for its cell in a row (boxes relative to the row's
    bottom-left corner); None for the columns left empty to fill in by hand."""
    out, x = [], 0.0
    for col in layout.columns:
        el = None
        if col.field:
            box = Box(
                x + layout.padding,
                0.4 * layout.padding,
                col.width - 2 * layout.padding,
                layout.row_height - 0.8 * layout.padding,
            )
            el = Text(box, f"{{{col.field}}}", col.style, col.size, col.min_size, col.max_lines, col.align)
        out.append((col, el))
        x += col.width
    return tuple(out)


def cell_text(row: Any, field: str) -> str:
    """A row's value for a column: the row's attribute of the column's field name."""
    value = getattr(row, field)
    return str(value) if isinstance(value, int) else clean(value)


def place_row(row: Any, layout: SheetLayout = SHEET) -> list[tuple[Text, Fitted]]:
    """Where each cell's text goes in a row (the drawing uses exactly this)."""
    return [(el, fit(el, cell_text(row, col.field))) for col, el in cell_elements(layout) if el is not None]


class PresentationSheet:
    """A list as a table over pages (the presentation sheet, and any list of the
    same shape: its layout says the heading and the columns)."""

    def __init__(self, header: SheetHeader, layout: SheetLayout = SHEET, title: str = TITLE):
        self.layout = layout
        self.writer = PdfWriter(title=title)
        self.table_width = sum(c.width for c in layout.columns)
        self._cells = cell_elements(layout)
        self._page_numbers: list[int] = []
        self.top = layout.page_height - layout.top
        self.header_ops, header_height = self._header(header)
        self.head_form = self.writer.add_form(b"/Head", self._head_ops(), (0, 0, self.table_width, layout.head_height))
        usable = self.top - layout.bottom - layout.head_height
        self.first_rows = int((usable - header_height) // layout.row_height)
        self.rows_per_page = int(usable // layout.row_height)
        if self.first_rows < 1:
            raise ValueError("the title lines leave no room for the table")

    # ---- pieces --------------------------------------------------------------------------

    def _header(self, header: SheetHeader) -> tuple[bytes, float]:
        """The fixed heading and the caller's title lines, stacked down from the top margin."""
        lay, w = self.layout, self.writer
        ops = [b"q 1 0 0 1 %s cm\n" % num(lay.left, self.top)]
        for el in lay.heading:
            ops.append(text_ops(w, el, fit(el, el.template)))
        y = min(el.box.y for el in lay.heading) - 2
        for line in header.title_lines:
            text = clean(line)
            if not text:
                continue
            el = lay.title_style
            probe = fit(el, text)
            height = probe.bounds()[3] + 1.5
            el = replace(el, box=Box(el.box.x, y - height, el.box.w, height))
            ops.append(text_ops(w, el, fit(el, text)))
            y -= height
        ops.append(b"Q\n")
        return b"".join(ops), -y + 4 * 72 / 25.4

    def _head_ops(self) -> bytes:
        lay, w = self.layout, self.writer
        h = lay.head_height
        ops = [b"0.93 0.95 0.97 rg %s re f\n" % num(0, 0, self.table_width, h)]
        x = 0.0
        for col in lay.columns:
            lines = [t for t in (col.head_kk, col.head_ru) if t]
            slot = (h - 2 * lay.padding) / len(lines)
            for i, t in enumerate(lines):
                el = Text(
                    Box(x + lay.padding / 2, h - lay.padding - (i + 1) * slot, col.width - lay.padding, slot),
                    t,
                    "sans-bold",
                    8.5,
                    5.5,
                )
                ops.append(text_ops(w, el, fit(el, t)))
            x += col.width
        return b"".join(ops)

    def _grid_ops(self, top: float, rows: int) -> bytes:
        """All rules of the table on a page as one path: the head plus ``rows`` rows."""
        lay = self.layout
        x0, x1 = lay.left, lay.left + self.table_width
        bottom = top - lay.head_height - rows * lay.row_height
        ys = [top, top - lay.head_height] + [top - lay.head_height - (i + 1) * lay.row_height for i in range(rows)]
        path = [b"%s m %s l" % (num(x0, y), num(x1, y)) for y in ys]
        x = x0
        for col in lay.columns:
            path.append(b"%s m %s l" % (num(x, top), num(x, bottom)))
            x += col.width
        path.append(b"%s m %s l" % (num(x1, top), num(x1, bottom)))
        return b"q %s %s w %s S Q\n" % (stroke_color((0.2, 0.2, 0.25)), num(lay.line_width), b" ".join(path))

    def _row_ops(self, row: Any, x: float, y: float) -> bytes:
        ops = [b"q 1 0 0 1 %s cm\n" % num(x, y)]
        ops += [text_ops(self.writer, el, fitted) for el, fitted in place_row(row, self.layout)]
        ops.append(b"Q\n")
        return b"".join(ops)

    # ---- pages ---------------------------------------------------------------------------

    def add_page(self, rows: list[Any], extra: bytes = b"") -> None:
        """A page of the table with these rows (and ``extra`` drawing operators after them)."""
        lay = self.layout
        first = self.writer.page_count == 0
        top = self.top - (self._header_height_used() if first else 0)
        ops = [self.header_ops] if first else []
        ops.append(b"q 1 0 0 1 %s cm %s Do Q\n" % (num(lay.left, top - lay.head_height), self.head_form))
        y = top - lay.head_height
        for row in rows:
            y -= lay.row_height
            ops.append(self._row_ops(row, lay.left, y))
        ops.append(self._grid_ops(top, len(rows)))
        ops.append(extra)
        self._number_page(ops)

    def _number_page(self, ops: list[bytes]) -> None:
        """Add the page's "k / N" (filled in at the end) and write the page."""
        lay = self.layout
        number = len(self._page_numbers) + 1
        self._page_numbers.append(self.writer.reserve_form(b"/Pg%d" % number))
        ops.append(b"/Pg%d Do\n" % number)
        self.writer.add_page(b"".join(ops), lay.page_width, lay.page_height)

    def _header_height_used(self) -> float:
        usable = self.top - self.layout.bottom - self.layout.head_height
        return usable - self.first_rows * self.layout.row_height

    def _write_page_numbers(self) -> None:
        lay = self.layout
        total = len(self._page_numbers)
        bbox = (0, 0, lay.page_width, lay.page_height)
        for i, form in enumerate(self._page_numbers, 1):
            text = lay.footer.template.format(page=i, pages=total)
            self.writer.write_form(form, text_ops(self.writer, lay.footer, fit(lay.footer, text)), bbox)

    def render(self, rows: Iterable[SheetRow]) -> Iterator[bytes]:
        writer = self.writer
        page: list[SheetRow] = []
        capacity = self.first_rows
        pending = 0
        for row in rows:
            page.append(row)
            if len(page) == capacity:
                self.add_page(page)
                page, capacity = [], self.rows_per_page
                if writer.tell - pending >= CHUNK:
                    pending = writer.tell
                    yield writer.take()
        if page or not writer.page_count:
            self.add_page(page)  # an empty list still gets its heading and column heads
        self._write_page_numbers()
        yield from writer.finish()


def stream_presentation_sheet(header: SheetHeader, rows: Iterable[SheetRow]) -> Iterator[bytes]:
    return PresentationSheet(header).render(rows)


def presentation_sheet_pdf(header: SheetHeader, rows: Iterable[SheetRow]) -> bytes:
    return b"".join(PresentationSheet(header).render(rows))
