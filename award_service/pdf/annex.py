"""The decree annex (өкімге қосымша / приложение к распоряжению): the list of
nominations approved under one decree, numbered, with the signature block
under the last row.  The table is the presentation sheet's (heading on the
first page, column heads on every page, "Бет / Стр. k / N" at the foot); the
layout is data (:mod:`.annex_layout`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .annex_layout import ANNEX, SIGNATURE, SignatureBlock
from .content import SheetHeader
from .layouts import Circle, Text
from .render import clean, fit, text_ops
from .shapes import circle_ops, num, rule_ops
from .sheet import PresentationSheet
from .sheet_layout import SheetLayout

TITLE = "Өкімге қосымша / Приложение к распоряжению"


@dataclass(frozen=True)
class AnnexRow:
    number: int
    full_name: str  # as the certificate prints it
    birth_year: str
    district: str
    serial: str  # "" if none is valid


@dataclass(frozen=True)
class AnnexSigner:
    title_kk: str
    title_ru: str
    name: str  # may be "": then only the line


class DecreeAnnex(PresentationSheet):
    def __init__(self, header: SheetHeader, layout: SheetLayout = ANNEX, block: SignatureBlock = SIGNATURE):
        super().__init__(header, layout, title=TITLE)
        self.block = block

    def _signature_ops(self, signer: AnnexSigner, top: float) -> bytes:
        """The block with its top-left corner at (left margin, ``top``)."""
        values = {"signer_title_kk": signer.title_kk, "signer_title_ru": signer.title_ru, "signer_name": signer.name}
        ops = [b"q 1 0 0 1 %s cm\n" % num(self.layout.left, top)]
        for el in self.block.elements:
            if isinstance(el, Text):
                text = clean(el.template.format(**values))
                ops.append(text_ops(self.writer, el, fit(el, text)))
            elif isinstance(el, Circle):
                ops.append(circle_ops(el))
            else:
                ops.append(rule_ops(el))
        ops.append(b"Q\n")
        return b"".join(ops)

    def render_all(self, rows: Iterable[AnnexRow], signer: AnnexSigner) -> bytes:
        lay, block = self.layout, self.block
        rows = list(rows)  # one decree's list: hundreds of rows at most
        pages: list[list[AnnexRow]] = []
        capacity = self.first_rows
        while rows or not pages:
            pages.append(rows[:capacity])
            rows, capacity = rows[capacity:], self.rows_per_page
        last = pages[-1]
        first_page = len(pages) == 1
        page_top = self.top - (self._header_height_used() if first_page else 0)
        table_bottom = page_top - lay.head_height - len(last) * lay.row_height
        block_top = table_bottom - block.gap
        fits = block_top - block.height >= lay.bottom
        for page in pages[:-1]:
            self.add_page(page)
        self.add_page(last, self._signature_ops(signer, block_top) if fits else b"")
        if not fits:  # the block alone on a page of its own, never split from its list
            self._number_page([self._signature_ops(signer, self.top)])
        self._write_page_numbers()
        return b"".join(self.writer.finish())


def decree_annex_pdf(header: SheetHeader, rows: Iterable[AnnexRow], signer: AnnexSigner) -> bytes:
    return DecreeAnnex(header).render_all(rows, signer)
