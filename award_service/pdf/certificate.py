"""Certificates: one, or a whole ceremony streamed page by page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from .content import CertificateContent, TicketContent
from .layouts import FORMAT_LAYOUTS, Format
from .render import CertificateRenderer, prepare_fields
from .shapes import num, rule_ops
from .writer import PdfWriter

TITLE = "Куәлік / Удостоверение"
CHUNK = 64 * 1024  # yield output in pieces of about this size


def get_format(fmt: str) -> Format:
    try:
        return FORMAT_LAYOUTS[fmt]
    except (KeyError, TypeError):
        raise ValueError(f"unknown certificate format {fmt!r}; expected one of {', '.join(FORMAT_LAYOUTS)}") from None


class CertificateDocument:
    """A PDF of certificates in one format, written as pages fill.

    ``fmt`` is a format name (FORMATS) or a :class:`Format` of any layout; with
    ``prepare`` (item -> template fields) the same document draws other items
    laid out the same way (the admission ticket, ticket.py).  ``preset``: see
    :class:`PdfWriter` (False: font subsets hold only what the document draws)."""

    def __init__(
        self,
        fmt: str | Format,
        *,
        title: str = TITLE,
        prepare: Callable[[Any], dict[str, str]] = prepare_fields,
        form_name: bytes = b"/Cert",
        preset: bool = True,
    ) -> None:
        self.format = fmt if isinstance(fmt, Format) else get_format(fmt)
        self.writer = PdfWriter(title=title, preset=preset)
        self.renderer = CertificateRenderer(self.writer, self.format.certificate, form_name, prepare)
        self.marks = b""
        if self.format.marks:
            f = self.format
            name = self.writer.add_form(
                b"/Marks", b"".join(rule_ops(m) for m in f.marks), (0, 0, f.page_width, f.page_height)
            )
            self.marks = b"%s Do\n" % name
        self._slot_cm = [b"q 1 0 0 1 %s cm\n" % num(x, y) for x, y in self.format.slots]

    @property
    def pages(self) -> int:
        return self.writer.page_count

    def add_page(self, items: list[CertificateContent | TicketContent]) -> None:
        if not 0 < len(items) <= len(self._slot_cm):
            raise ValueError("wrong number of certificates for one page")
        parts = [self.marks]
        for cm, item in zip(self._slot_cm, items):
            parts += [cm, self.renderer.ops(item), b"Q\n"]
        self.writer.add_page(b"".join(parts), self.format.page_width, self.format.page_height)

    def render(self, items: Iterable[CertificateContent | TicketContent]) -> Iterator[bytes]:
        """Yield the file in chunks; at most one page's worth of output is held back."""
        writer = self.writer
        per_page = self.format.per_page
        page: list[CertificateContent | TicketContent] = []
        pending = 0
        for item in items:
            page.append(item)
            if len(page) == per_page:
                self.add_page(page)
                page = []
                if writer.tell - pending >= CHUNK:
                    pending = writer.tell
                    yield writer.take()
        if page:
            self.add_page(page)
        if not writer.page_count:
            writer.discard()
            raise ValueError("no certificates to render")
        yield from writer.finish()


def stream_certificates(items: Iterable[CertificateContent], fmt: str) -> Iterator[bytes]:
    """PDF bytes in chunks as pages are produced (A4: a page a certificate;
    card: four a sheet).  Raises ValueError at once for an unknown format."""
    return CertificateDocument(fmt).render(items)


def write_certificates(items: Iterable[CertificateContent], fmt: str, out: IO[bytes]) -> int:
    """Write the PDF into a binary file object; returns the number of pages."""
    doc = CertificateDocument(fmt)
    for chunk in doc.render(items):
        out.write(chunk)
    return doc.pages


def certificate_pdf(item: CertificateContent, fmt: str) -> bytes:
    """One certificate (for "card": one A4 sheet, the card in place 1, with crop marks)."""
    return b"".join(CertificateDocument(fmt).render([item]))
