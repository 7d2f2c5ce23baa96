"""What the caller gives the renderer: plain data, no database rows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

# Certificates, tickets and the presentation sheet are printed in Kazakh and
# Russian at once; both write dates alike (09.05.2027, 19:00), so their dates
# and times are formatted as in Kazakh (timeutil.show_date/show_datetime).
PRINTED_LANGUAGE = "kk"


@dataclass(frozen=True)
class CertificateContent:
    full_name: str  # exactly as entered; NFC-normalised before drawing
    medal_name_kk: str
    medal_name_ru: str
    serial: str  # "ULY-00001"
    decree_number: str  # "45"
    decree_date: datetime.date
    signer_title_kk: str
    signer_title_ru: str
    signer_name: str  # may be "": then only the signature line
    verify_url: str  # the QR code holds exactly this
    verify_code: str  # printed under the QR, grouped for reading
    signature_image: bytes | None = None  # PNG or JPEG; the same bytes are embedded once a document


@dataclass(frozen=True)
class SheetRow:
    number: int
    full_name: str
    serial: str


@dataclass(frozen=True)
class SheetHeader:
    title_lines: tuple[str, ...]  # ceremony, date and place, medal: the caller's wording


@dataclass(frozen=True)
class TicketContent:
    """The admission ticket an attendee shows at the door of a ceremony."""

    ceremony_title_kk: str
    ceremony_title_ru: str
    starts_at: str  # formatted by the caller, local time: "09.05.2026, 19:00"
    venue: str
    address: str  # may be ""
    full_name: str  # as registered; NFC-normalised before drawing
    seats: int  # 1 + companions
    ticket_code: str  # the QR code holds exactly this; printed under it, grouped for reading
    needs: tuple[str, ...] = ()  # bilingual labels chosen by the caller, one line each
