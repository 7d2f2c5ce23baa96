"""TrueType font programs (sfnt files) as they are embedded: tables a PDF reader never reads, dropped.

reportlab's ``TTFontFile.makeSubset`` copies 'name', 'OS/2', 'cvt ', 'fpgm' and 'prep'
verbatim from the font file.  ISO 32000 (9.9, "Embedded font programs") lists the
tables a TrueType program in a PDF needs: head, hhea, loca, maxp, cvt, prep, glyf,
hmtx, fpgm, and cmap for a symbolic font (as the writer declares its subsets).
'name' is not among them, and DejaVu's is 8.5 KB (serif) to 15.6 KB (sans) a
subset: more than the glyphs of a ticket.  The PDF names the font in its own
dictionaries (/BaseFont, /FontName).

The file is rebuilt by reportlab's ``TTFontMaker`` from (tag, data) pairs: it lays
the tables out again (sorted, 4-byte aligned), recomputes each table's checksum,
zeroes head.checkSumAdjustment when the table is added and sets it from the
checksum of the whole file at the end.
"""

from __future__ import annotations

import struct

from reportlab.pdfbase.ttfonts import TTFontMaker

# Tables of a subset that no PDF reader uses (see the module docstring).
NOT_EMBEDDED = frozenset({b"name"})


def tables(sfnt: bytes) -> dict[bytes, bytes]:
    """The tables of an sfnt file by tag, in the order of its table directory."""
    if len(sfnt) < 12:
        raise ValueError("not an sfnt file: shorter than its header")
    (count,) = struct.unpack_from(">H", sfnt, 4)
    if len(sfnt) < 12 + 16 * count:
        raise ValueError("not an sfnt file: table directory cut short")
    out: dict[bytes, bytes] = {}
    for i in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", sfnt, 12 + 16 * i)
        if offset + length > len(sfnt):
            raise ValueError(f"sfnt table {tag!r} runs past the end of the file")
        out[tag] = sfnt[offset : offset + length]
    return out


def without_tables(sfnt: bytes, drop: frozenset[bytes] = NOT_EMBEDDED) -> bytes:
    """The same font program without the tables in ``drop`` (unchanged if it has none)."""
    found = tables(sfnt)
    if drop.isdisjoint(found):
        return sfnt
    maker = TTFontMaker()
    for tag, data in found.items():
        if tag not in drop:
            maker.add(tag.decode("latin-1"), data)
    return maker.makeStream()
