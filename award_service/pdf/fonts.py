"""The bundled DejaVu fonts, loaded and registered once per process.

Four styles are used by the layouts: ``serif``, ``serif-bold``, ``sans`` and
``sans-bold``.  Each is a reportlab :class:`TTFont` (metrics, subset
assignment, subsetting), registered with ``pdfmetrics`` under an
``Award...`` name so other reportlab code in the process can use it too.

Text is split into *runs*: a character the style's font lacks is drawn from
the fallback font of the same weight (serif -> sans).  A character neither
has raises :class:`MissingGlyphError`; we never draw a .notdef box.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import cast

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"

# style -> (registered name, file)
FONT_FILES = {
    "serif": ("AwardDejaVuSerif", "DejaVuSerif.ttf"),
    "serif-bold": ("AwardDejaVuSerif-Bold", "DejaVuSerif-Bold.ttf"),
    "sans": ("AwardDejaVuSans", "DejaVuSans.ttf"),
    "sans-bold": ("AwardDejaVuSans-Bold", "DejaVuSans-Bold.ttf"),
}
FALLBACK = {"serif": "sans", "serif-bold": "sans-bold"}

# The characters the first subset of every font starts with, in this order (ASCII
# has its own codes already), in every certificate and sheet.  With the same first
# subset in every document, its embedded font program is built once per process and
# reused (writer.py), which is most of the cost of a single certificate; a character
# outside this list still works, it only makes that document build its own.  The
# ticket goes without (PdfWriter(preset=False)): its subsets hold what it draws.
_KK_CYRILLIC = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯ"
_KK_LATIN = "ÄĞÑÖŞŪÜİ"
PRESET = _KK_CYRILLIC + _KK_CYRILLIC.lower() + _KK_LATIN + "äğñöşūüı" + "«»–—№’‘“”„…°·"

# TTFontFile.makeSubset seeks and reads through state kept on the shared face
# object: two documents finishing at once in two threads must take turns.
SUBSET_LOCK = threading.Lock()
_REGISTER_LOCK = threading.Lock()


class MissingGlyphError(ValueError):
    """A character that none of the bundled fonts can draw."""

    def __init__(self, char: str, text: str):
        super().__init__(f"no glyph for U+{ord(char):04X} ({char!r}) in {text!r}")
        self.char = char


@cache
def font(style: str) -> TTFont:
    """The TTFont for a style, loaded and registered on first use."""
    name, filename = FONT_FILES[style]
    with _REGISTER_LOCK:
        try:
            return cast(TTFont, pdfmetrics.getFont(name))  # registered here, always a TTFont
        except KeyError:
            pass
        ttf = TTFont(name, str(FONT_DIR / filename))
        pdfmetrics.registerFont(ttf)
        return ttf


def _chain(style: str) -> tuple[TTFont, ...]:
    chain = [font(style)]
    if style in FALLBACK:
        chain.append(font(FALLBACK[style]))
    return tuple(chain)


@cache
def coverage(style: str) -> frozenset[str]:
    """The characters the style's own font has (a set test runs in C)."""
    return frozenset(map(chr, font(style).face.charToGlyph))


def runs(text: str, style: str) -> list[tuple[TTFont, str]]:
    """Split text into (font, substring) runs; the style's font wherever it has the glyph."""
    primary = font(style)
    # Fast path: every character in the primary font (the usual case).
    if coverage(style).issuperset(text):
        return [(primary, text)]
    chain = _chain(style)
    out: list[tuple[TTFont, str]] = []
    for ch in text:
        code = 0x20 if ch == "\u00a0" else ord(ch)
        for f in chain:
            if code in f.face.charToGlyph:
                break
        else:
            raise MissingGlyphError(ch, text)
        if out and out[-1][0] is f:
            out[-1] = (f, out[-1][1] + ch)
        else:
            out.append((f, ch))
    return out


@cache
def printable(styles: tuple[str, ...] = ("serif-bold", "serif")) -> frozenset[str]:
    """The characters every one of these styles can draw (from its own font or
    its fallback)."""
    sets = [frozenset().union(*(map(chr, f.face.charToGlyph) for f in _chain(style))) for style in styles]
    return frozenset.intersection(*sets) | {"\u00a0"}


def unprintable(text: str, styles: tuple[str, ...] = ("serif-bold", "serif")) -> str:
    """The characters of ``text`` that no font of these styles can draw (in
    order, once each): checked when a name is entered, so that a certificate
    never meets one."""
    covered = printable(styles)
    if covered.issuperset(text):
        return ""
    return "".join(ch for ch in dict.fromkeys(text) if ch not in covered)


def width(text: str, style: str, size: float) -> float:
    """Advance width of text in points (fallback glyphs measured in their own font)."""
    return sum(f.stringWidth(t, size) for f, t in runs(text, style))


@cache
def vmetrics(style: str) -> tuple[float, float]:
    """(ascender, descender) for 1 pt of this style, from the fonts' 'hhea' tables.

    reportlab's ``face.ascent`` is the typographic ascender (0.76 em for DejaVu),
    which accented capitals (Ё Й Ä Ö İ Ū) rise above; the hhea values (0.93 /
    -0.24 em) cover them, so a line fitted with these never sticks out of its box.
    """
    asc, desc = 0.0, 0.0
    for f in _chain(style):
        get_table = cast(Callable[[str], bytes], f.face.get_table)  # untyped in the stubs
        units = struct.unpack(">H", get_table("head")[18:20])[0]
        a, d = struct.unpack(">hh", get_table("hhea")[4:8])
        asc, desc = max(asc, a / units), min(desc, d / units)
    return asc, desc
