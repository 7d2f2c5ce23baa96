"""What the caller gives the renderer: plain data, no database rows."""
from __future__ import annotations

import datetime
from dataclasses import dataclass


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
