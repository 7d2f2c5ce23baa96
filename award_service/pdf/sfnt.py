"""TrueType font programs (sfnt files) as they are embedded: the 'name' table cut
to one copy of its records.

reportlab's ``TTFontFile.makeSubset`` copies 'name', 'OS/2', 'cvt ', 'fpgm' and 'prep'
verbatim from the font file.  DejaVu's 'name' is 8.5 KB (serif) to 15.6 KB (sans) a
subset -- more than the glyphs of a ticket -- almost all of it the licence text, twice:
once for the Macintosh platform (one byte a character) and once for Windows
(UTF-16).  ISO 32000 (9.9, "Embedded font programs") does not need the table at all
(the PDF names the font in /BaseFont and /FontName), but the Bitstream Vera licence
asks that its copyright and trademark notices and permission notice go with every
copy of the typefaces, so the embedded program keeps them: every name record of the
Macintosh platform (copyright, names, trademark, licence, its URL), the Windows
duplicates dropped.  That is 2.9 KB (serif bold) to 5.2 KB (sans) before compression.

The file is rebuilt by reportlab's ``TTFontMaker`` from (tag, data) pairs: it lays
the tables out again (sorted, 4-byte aligned), recomputes each table's checksum,
zeroes head.checkSumAdjustment when the table is added and sets it from the
checksum of the whole file at the end.
"""

from __future__ import annotations

import struct

from reportlab.pdfbase.ttfonts import TTFontMaker

MACINTOSH = 1  # the platform whose name records are kept (one byte a character)


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


def compact_name(name: bytes, platform: int = MACINTOSH) -> bytes:
    """A 'name' table (format 0) with only ``platform``'s records, in their order;
    the table as it is when it has none of them (or is not format 0)."""
    if len(name) < 6:
        raise ValueError("not a name table: shorter than its header")
    fmt, count, storage = struct.unpack_from(">HHH", name, 0)
    if fmt != 0 or len(name) < 6 + 12 * count:
        return name
    kept: list[tuple[int, int, int, int, bytes]] = []
    for i in range(count):
        platform_id, encoding, language, name_id, length, offset = struct.unpack_from(">6H", name, 6 + 12 * i)
        if platform_id == platform:
            start = storage + offset
            if start + length > len(name):
                raise ValueError("name record runs past the end of the table")
            kept.append((platform_id, encoding, language, name_id, name[start : start + length]))
    if not kept:
        return name
    head = struct.pack(">HHH", 0, len(kept), 6 + 12 * len(kept))
    records, strings, at = [], [], 0
    for platform_id, encoding, language, name_id, text in kept:
        records.append(struct.pack(">6H", platform_id, encoding, language, name_id, len(text), at))
        strings.append(text)
        at += len(text)
    return head + b"".join(records) + b"".join(strings)


def for_embedding(sfnt: bytes) -> bytes:
    """The font program with its 'name' table cut by :func:`compact_name`
    (unchanged when it has none, or nothing to cut)."""
    found = tables(sfnt)
    name = found.get(b"name")
    if name is None:
        return sfnt
    compact = compact_name(name)
    if compact == name:
        return sfnt
    maker = TTFontMaker()
    for tag, data in found.items():
        maker.add(tag.decode("latin-1"), compact if tag == b"name" else data)
    return maker.makeStream()
