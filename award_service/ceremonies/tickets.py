"""The admission ticket: the PDF (the certificates' renderer and fonts) and the
QR code shown on the manage page.  The QR code holds the ticket code, which a
handheld scanner at the door types into the check-in page."""

from __future__ import annotations

import re

import zxingcpp
from flask import Response, current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .. import pdf
from ..errors import Conflict
from ..timeutil import show_datetime
from .models import Registration

# Printed on the ticket in both of its languages, like everything on it.
NEEDS = (
    ("needs_wheelchair", "Арбаға арналған орын / Место для коляски"),
    ("needs_hearing", "Есту бойынша көмек / Помощь слабослышащим"),
    ("needs_near_exit", "Шығуға жақын орын / Место у выхода"),
)


def ticket_content(registration: Registration) -> pdf.TicketContent:
    ceremony = registration.ceremony
    needs = tuple(label for attribute, label in NEEDS if getattr(registration, attribute))
    if registration.needs_note:
        needs += (registration.needs_note,)
    return pdf.TicketContent(
        ceremony_title_kk=ceremony.title_kk,
        ceremony_title_ru=ceremony.title_ru,
        starts_at=show_datetime(ceremony.starts_at, pdf.PRINTED_LANGUAGE, current_app.config["AWARD_TIMEZONE"]),
        venue=ceremony.printed_venue(),
        address=ceremony.address or "",
        full_name=registration.full_name,
        seats=registration.seats,
        ticket_code=registration.ticket_code,
        needs=needs,
    )


def ticket_response(registration: Registration) -> Response:
    """The ticket PDF; a cancelled registration has none."""
    if registration.status == "waitlisted":
        raise Conflict(_l("You are on the waiting list: the ticket comes when a seat is yours."), code="waitlisted")
    if registration.status != "confirmed":
        raise Conflict(_l("This registration was cancelled; the ticket is not valid."), code="cancelled")
    response = Response(pdf.ticket_pdf(ticket_content(registration)), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="ticket-{registration.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def qr_svg(code: str, label: str) -> Markup:
    """The ticket's QR code as inline SVG, scaled by CSS (no image request)."""
    symbol = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    svg = symbol.to_svg(add_quiet_zones=True)
    svg = svg[svg.index("<svg") :]
    found = re.search(r'width="(\d+)"', svg)
    assert found is not None  # zxing's SVG always has its width
    width = found.group(1)
    svg = re.sub(
        r'<svg width="\d+" height="\d+"',
        f'<svg viewBox="0 0 {width} {width}" class="qr" role="img" aria-label="{Markup.escape(label)}"',
        svg,
        count=1,
    )
    return Markup(re.sub(r"<desc>.*?</desc>", "", svg))
