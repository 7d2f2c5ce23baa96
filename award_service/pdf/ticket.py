"""The admission ticket an attendee shows at the door: A6, in place 1 of the A4 card
sheet with crop marks, one ticket a PDF.  Drawn by the certificate machinery from
its own layout (layouts.TICKET_FORMAT); only the fields differ.

It is attached to every confirmation mail, so it is kept small (~27 KB): two faces
(serif-bold and sans) and font subsets of only the glyphs it draws."""

from __future__ import annotations

from .certificate import CertificateDocument
from .content import TicketContent
from .layouts import TICKET_FORMAT, CertificateLayout, Text
from .render import Fitted, clean, group_code, place

TITLE = "Шақыру билеті / Пригласительный билет"


def prepare_ticket_fields(item: TicketContent) -> dict[str, str]:
    needs = (clean(n) for n in item.needs)
    return {
        "ceremony_title_kk": clean(item.ceremony_title_kk),
        "ceremony_title_ru": clean(item.ceremony_title_ru),
        "starts_at": clean(item.starts_at),
        "venue": clean(item.venue),
        "address": clean(item.address or ""),
        "full_name": clean(item.full_name),
        "seats": str(int(item.seats)),
        "ticket_code": group_code(clean(item.ticket_code)),
        "needs": "\n".join(n for n in needs if n),  # one label a line
    }


def place_ticket(
    item: TicketContent, layout: CertificateLayout = TICKET_FORMAT.certificate
) -> list[tuple[Text, Fitted]]:
    """Every text element of the ticket with where its lines go (the drawing uses the same)."""
    return place(layout, item, prepare_ticket_fields)


def ticket_pdf(item: TicketContent) -> bytes:
    """One ticket: an A4 sheet, the A6 ticket in place 1 (top left), crop marks.
    The QR code holds exactly ``item.ticket_code``.  Raises MissingGlyphError for a
    character no bundled font has."""
    # preset=False: the font subsets hold only the glyphs drawn.  A ticket goes out
    # alone, base64 in a mail, so its size counts; a subset of its own costs ~0.4 ms.
    doc = CertificateDocument(
        TICKET_FORMAT, title=TITLE, prepare=prepare_ticket_fields, form_name=b"/Ticket", preset=False
    )
    return b"".join(doc.render([item]))
