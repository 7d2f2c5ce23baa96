"""Certificate, presentation-sheet and ticket PDFs: data in, bytes out (no Flask, no database).

certificate_pdf(item, "a4")                 one certificate
stream_certificates(items, "card")          a batch, streamed in chunks, bounded memory
write_certificates(items, "a4", out)        the same into a binary file; returns pages
stream_presentation_sheet(header, rows)     the list recipients sign on receipt
presentation_sheet_pdf(header, rows)
ticket_pdf(item)                            an admission ticket (A6 on an A4 sheet)
decree_annex_pdf(header, rows, signer)      the list approved under one decree, to sign
"""

from .annex import AnnexRow, AnnexSigner, decree_annex_pdf
from .certificate import certificate_pdf, stream_certificates, write_certificates
from .content import PRINTED_LANGUAGE, CertificateContent, SheetHeader, SheetRow, TicketContent
from .fonts import MissingGlyphError
from .layouts import FORMATS
from .sheet import presentation_sheet_pdf, stream_presentation_sheet
from .ticket import ticket_pdf

__all__ = [
    "FORMATS",
    "PRINTED_LANGUAGE",
    "AnnexRow",
    "AnnexSigner",
    "CertificateContent",
    "MissingGlyphError",
    "SheetHeader",
    "SheetRow",
    "TicketContent",
    "certificate_pdf",
    "decree_annex_pdf",
    "presentation_sheet_pdf",
    "stream_certificates",
    "stream_presentation_sheet",
    "ticket_pdf",
    "write_certificates",
]
