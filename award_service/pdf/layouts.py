"""Certificate layouts as data: one description per format, one renderer for all.

Coordinates are PDF points with the origin at the bottom-left of the
certificate (for "card": of the A6 card, wherever the sheet places it).
A :class:`Text` whose template has no ``{field}`` is fixed wording: it goes,
with the ornament, the rules and the seal circle, into a Form XObject drawn
once per document and reused by every certificate.  Text with fields, the QR
code and the signature image are drawn per certificate.

Template fields (prepared by ``render.prepare_fields``): full_name,
medal_name_kk, medal_name_ru, serial, decree_number, decree_date (dd.mm.yyyy),
signer_title_kk, signer_title_ru, signer_name, verify_url, verify_code
(grouped for reading, ABCD-EFGH-...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter
from typing import overload

MM = 72 / 25.4

Color = tuple[float, float, float]
INK: Color = (0.08, 0.09, 0.12)
BLUE: Color = (0.0, 0.29, 0.5)
GOLD: Color = (0.74, 0.56, 0.12)
GREY: Color = (0.35, 0.36, 0.4)
BLACK: Color = (0.0, 0.0, 0.0)


@overload
def mm(a: float, b: float, c: float, /) -> tuple[float, float, float]: ...
@overload
def mm(a: float, b: float, c: float, d: float, /) -> tuple[float, float, float, float]: ...
@overload
def mm(*values: float) -> tuple[float, ...]: ...
def mm(*values: float) -> tuple[float, ...]:
    return tuple(v * MM for v in values)


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @classmethod
    def mm(cls, x: float, y: float, w: float, h: float) -> Box:
        return cls(*mm(x, y, w, h))

    def contains(self, x: float, y: float, w: float, h: float, eps: float = 1e-6) -> bool:
        return (
            x >= self.x - eps
            and y >= self.y - eps
            and x + w <= self.x + self.w + eps
            and y + h <= self.y + self.h + eps
        )


@dataclass(frozen=True)
class Text:
    """Text fitted into a box: shrinks from ``size``; below ``min_size`` it may wrap
    (up to ``max_lines``, at spaces) before shrinking further.  Never overflows."""

    box: Box
    template: str
    style: str = "serif"
    size: float = 12.0
    min_size: float = 6.0
    max_lines: int = 1
    align: str = "center"  # left | center | right
    valign: str = "middle"  # top | middle | bottom
    leading: float = 1.18  # baseline to baseline, in font sizes
    color: Color = INK

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in Formatter().parse(self.template) if name)

    @property
    def static(self) -> bool:
        return not self.fields


@dataclass(frozen=True)
class Rule:
    """A straight line (the signature line, crop marks)."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.5
    color: Color = INK
    dash: tuple[float, ...] = ()
    static = True


@dataclass(frozen=True)
class Circle:
    """The place for the seal."""

    cx: float
    cy: float
    r: float
    width: float = 0.6
    color: Color = GREY
    dash: tuple[float, ...] = (2.0, 2.0)
    static = True


@dataclass(frozen=True)
class Ornament:
    """The frame: an outer and an inner rule with a band of lozenges between them,
    a rosette in each corner and a thin rule just inside."""

    outer: Box
    band: float
    color: Color = GOLD
    accent: Color = BLUE
    static = True


@dataclass(frozen=True)
class QR:
    """QR code square, quiet zone included."""

    box: Box
    field: str = "verify_url"
    quiet: int = 4
    static = False


@dataclass(frozen=True)
class Picture:
    """An optional image (the signature) fitted into the box, aspect kept."""

    box: Box
    field: str = "signature_image"
    static = False


Element = Text | Rule | Circle | Ornament | QR | Picture


@dataclass(frozen=True)
class CertificateLayout:
    width: float
    height: float
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Format:
    """How certificates go on paper: the page, where each certificate sits, crop marks."""

    name: str
    page_width: float
    page_height: float
    slots: tuple[tuple[float, float], ...]  # bottom-left of each certificate, in page order
    certificate: CertificateLayout
    marks: tuple[Rule, ...] = field(default=())

    @property
    def per_page(self) -> int:
        return len(self.slots)


def crop_marks(
    page_w: float, page_h: float, cells: list[Box], length: float, cross: float, width: float = 0.3
) -> tuple[Rule, ...]:
    """Cut marks for cells tiled edge to edge: a tick where each inner cut line meets
    the sheet's edge, and a small cross where two inner cut lines meet."""
    edge = 1.5 * MM  # cut lines this close to the sheet edge need no mark
    xs = sorted({round(v, 3) for c in cells for v in (c.x, c.x + c.w)})
    ys = sorted({round(v, 3) for c in cells for v in (c.y, c.y + c.h)})
    xs = [x for x in xs if edge < x < page_w - edge]
    ys = [y for y in ys if edge < y < page_h - edge]
    marks = []
    for x in xs:
        marks += [Rule(x, 0, x, length, width, BLACK), Rule(x, page_h - length, x, page_h, width, BLACK)]
    for y in ys:
        marks += [Rule(0, y, length, y, width, BLACK), Rule(page_w - length, y, page_w, y, width, BLACK)]
    for x in xs:
        for y in ys:
            marks += [Rule(x - cross, y, x + cross, y, width, BLACK), Rule(x, y - cross, x, y + cross, width, BLACK)]
    return tuple(marks)


TITLE_KK = "КУӘЛІК"
TITLE_RU = "УДОСТОВЕРЕНИЕ"
ISSUED = "Берілді / Выдано"
SEAL_KK = "М.О."
SEAL_RU = "М.П."
SERIAL = "№ {serial}"
MEDAL_KK = "«{medal_name_kk}»"
MEDAL_RU = "«{medal_name_ru}»"
DECREE_KK = "Өкім № {decree_number}, {decree_date}"
DECREE_RU = "Распоряжение № {decree_number} от {decree_date}"
VERIFY = "Тексеру / Проверка: {verify_url}"

# ---- A4 landscape: 297 x 210 mm -----------------------------------------------------------

_A4 = CertificateLayout(
    width=297 * MM,
    height=210 * MM,
    elements=(
        Ornament(Box.mm(7, 7, 283, 196), band=7 * MM),
        Text(Box.mm(30, 168, 237, 17), TITLE_KK, "serif-bold", 34, color=BLUE),
        Text(Box.mm(30, 158, 237, 10), TITLE_RU, "serif-bold", 19, color=BLUE),
        Text(Box.mm(30, 149, 237, 7), SERIAL, "sans-bold", 12, 8),
        Text(Box.mm(30, 142, 237, 5), ISSUED, "sans", 9, color=GREY),
        Text(Box.mm(24, 116, 249, 26), "{full_name}", "serif-bold", 28, 18, max_lines=2),
        Text(Box.mm(30, 100, 237, 14), MEDAL_KK, "serif-bold", 14, 10, max_lines=2, color=BLUE),
        Text(Box.mm(30, 86, 237, 13), MEDAL_RU, "serif", 13, 10, max_lines=2, color=BLUE),
        Text(Box.mm(30, 78, 237, 6), DECREE_KK, "sans", 11, 7),
        Text(Box.mm(30, 71, 237, 6), DECREE_RU, "sans", 11, 7),
        # signer
        Text(Box.mm(22, 54, 104, 10), "{signer_title_kk}", "sans", 10, 7.5, max_lines=2, align="left", valign="bottom"),
        Text(Box.mm(22, 43, 104, 10), "{signer_title_ru}", "sans", 10, 7.5, max_lines=2, align="left", valign="top"),
        Rule(*mm(22, 29, 80, 29), width=0.6),
        Picture(Box.mm(22, 26, 58, 17)),
        Text(Box.mm(83, 28.2, 47, 6), "{signer_name}", "sans-bold", 11, 6, align="left"),
        # seal
        Circle(*mm(158, 42, 16)),
        Text(Box.mm(143, 43, 30, 6), SEAL_KK, "sans", 10, color=GREY),
        Text(Box.mm(143, 36, 30, 6), SEAL_RU, "sans", 10, color=GREY),
        # verification
        QR(Box.mm(238, 29, 36, 36)),
        Text(Box.mm(226, 23.5, 60, 5.5), "{verify_code}", "sans-bold", 10, 6),
        Text(Box.mm(146, 17.5, 130, 5), VERIFY, "sans", 8, 5, align="right", color=GREY),
    ),
)

# ---- A6 card: 105 x 148 mm, 4-up on A4 portrait ---------------------------------------------

_CARD = CertificateLayout(
    width=105 * MM,
    height=148 * MM,
    elements=(
        Ornament(Box.mm(4, 4, 97, 140), band=4.5 * MM),
        Text(Box.mm(12, 125, 81, 11), TITLE_KK, "serif-bold", 20, color=BLUE),
        Text(Box.mm(12, 118.5, 81, 6.5), TITLE_RU, "serif-bold", 11.5, color=BLUE),
        Text(Box.mm(12, 113, 81, 4.5), SERIAL, "sans-bold", 8, 6),
        Text(Box.mm(12, 108.5, 81, 4), ISSUED, "sans", 6, color=GREY),
        Text(Box.mm(11, 91, 83, 17), "{full_name}", "serif-bold", 16, 10, max_lines=3),
        Text(Box.mm(12, 79, 81, 11.5), MEDAL_KK, "serif-bold", 9, 8, max_lines=3, color=BLUE),
        Text(Box.mm(12, 67.5, 81, 11), MEDAL_RU, "serif", 8.5, 8, max_lines=3, color=BLUE),
        Text(Box.mm(12, 62.5, 81, 4), DECREE_KK, "sans", 6.5, 4.5),
        Text(Box.mm(12, 58, 81, 4), DECREE_RU, "sans", 6.5, 4.5),
        # signer
        Text(Box.mm(11, 49, 52, 6.5), "{signer_title_kk}", "sans", 6, 4.5, max_lines=2, align="left", valign="bottom"),
        Text(Box.mm(11, 42, 52, 6.5), "{signer_title_ru}", "sans", 6, 4.5, max_lines=2, align="left", valign="top"),
        Rule(*mm(11, 31, 44, 31), width=0.5),
        Picture(Box.mm(11, 29, 33, 12)),
        Text(Box.mm(11, 26, 38, 4.2), "{signer_name}", "sans-bold", 7, 4.5, align="left"),
        # seal
        Circle(*mm(55, 33.5, 7.5)),
        Text(Box.mm(48, 34, 14, 3.5), SEAL_KK, "sans", 5.5, color=GREY),
        Text(Box.mm(48, 30, 14, 3.5), SEAL_RU, "sans", 5.5, color=GREY),
        # verification
        QR(Box.mm(67, 28.5, 26, 26)),
        Text(Box.mm(66, 24, 28, 4), "{verify_code}", "sans-bold", 7, 4.5),
        Text(Box.mm(11, 13.5, 83, 4), VERIFY, "sans", 5.5, 3.5, color=GREY),
    ),
)

A4_LANDSCAPE = (297 * MM, 210 * MM)
A4_PORTRAIT = (210 * MM, 297 * MM)

# The four A6 cards tile the A4 sheet (2 x 105 = 210 mm; 2 x 148 = 296 mm, the
# spare millimetre split above and below).  Places in reading order: 1 top left,
# 2 top right, 3 bottom left, 4 bottom right.
_CARD_CELLS = [
    Box.mm(0, 148.5, 105, 148),
    Box.mm(105, 148.5, 105, 148),
    Box.mm(0, 0.5, 105, 148),
    Box.mm(105, 0.5, 105, 148),
]

FORMAT_LAYOUTS: dict[str, Format] = {
    "a4": Format("a4", *A4_LANDSCAPE, slots=((0.0, 0.0),), certificate=_A4),
    "card": Format(
        "card",
        *A4_PORTRAIT,
        slots=tuple((c.x, c.y) for c in _CARD_CELLS),
        certificate=_CARD,
        marks=crop_marks(*A4_PORTRAIT, _CARD_CELLS, length=8 * MM, cross=2.5 * MM),
    ),
}
FORMATS = tuple(FORMAT_LAYOUTS)


# ---- the admission ticket: A6 portrait, in place 1 of the card sheet -------------------------
#
# Template fields (prepared by ``ticket.prepare_ticket_fields``): ceremony_title_kk,
# ceremony_title_ru, starts_at, venue, address, full_name, seats, ticket_code
# (grouped for reading), needs (one caller's label a line, hard breaks).  The QR
# code holds exactly ``TicketContent.ticket_code``.
#
# Two faces only, serif-bold and sans: each face a PDF uses is a font program embedded
# in it, and a ticket is mailed with every confirmation.  serif-bold carries what the
# attendee looks for (titles, name, when, where, seats, the code), sans the labels and
# notes.  A name with a character serif-bold lacks brings sans-bold (fonts.FALLBACK).

TICKET_KK = "ШАҚЫРУ БИЛЕТІ"
TICKET_RU = "ПРИГЛАСИТЕЛЬНЫЙ БИЛЕТ"
ATTENDEE = "Аты-жөні / Ф.И.О."
SEATS = "Орын саны / Мест: {seats}"
SHOW_AT_DOOR = "Кіреберісте көрсетіңіз / Предъявите на входе"

_TICKET = CertificateLayout(
    width=105 * MM,
    height=148 * MM,
    elements=(
        Ornament(Box.mm(4, 4, 97, 140), band=3.5 * MM),
        Text(Box.mm(12, 129, 81, 9), TICKET_KK, "serif-bold", 17, color=BLUE),
        Text(Box.mm(12, 123.5, 81, 5.5), TICKET_RU, "serif-bold", 10, color=BLUE),
        Rule(*mm(30, 122, 75, 122), width=0.5, color=GOLD),
        # the ceremony: titles, when, where
        Text(
            Box.mm(11, 112, 83, 9.5),
            "{ceremony_title_kk}",
            "serif-bold",
            10,
            7.5,
            max_lines=2,
            valign="bottom",
            color=BLUE,
        ),
        Text(
            Box.mm(11, 103, 83, 8.5), "{ceremony_title_ru}", "serif-bold", 9, 7, max_lines=2, valign="top", color=BLUE
        ),
        Text(Box.mm(11, 97, 83, 5.5), "{starts_at}", "serif-bold", 11, 7),
        Text(Box.mm(11, 92.5, 83, 4.5), "{venue}", "serif-bold", 8.5, 6),
        Text(Box.mm(11, 88.5, 83, 4), "{address}", "sans", 7.5, 5.5, color=GREY),
        Rule(*mm(11, 87, 94, 87), width=0.4, color=GREY, dash=(1.5, 1.5)),
        # the attendee
        Text(Box.mm(11, 83, 83, 3.5), ATTENDEE, "sans", 6, color=GREY),
        Text(Box.mm(10, 67, 85, 16), "{full_name}", "serif-bold", 15, 9, max_lines=4),
        Text(Box.mm(11, 62, 83, 5), SEATS, "serif-bold", 9, 6),
        Text(Box.mm(11, 55, 83, 7), "{needs}", "sans", 7, 5, max_lines=3, valign="top"),
        # at the door
        QR(Box.mm(34.5, 18.5, 36, 36), field="ticket_code"),
        Text(Box.mm(20, 13.5, 65, 4.5), "{ticket_code}", "serif-bold", 10, 6),
        Text(Box.mm(11, 9.7, 83, 3.5), SHOW_AT_DOOR, "sans", 6.5, 5, color=GREY),
    ),
)

# One ticket a PDF, printable at home: the certificate card's 4-up A4 sheet, place 1.
TICKET_FORMAT = Format(
    "ticket",
    *A4_PORTRAIT,
    slots=((_CARD_CELLS[0].x, _CARD_CELLS[0].y),),
    certificate=_TICKET,
    marks=crop_marks(*A4_PORTRAIT, _CARD_CELLS, length=8 * MM, cross=2.5 * MM),
)
