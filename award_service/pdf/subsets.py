"""Embedded font subsets: each built once (reportlab's ``makeSubset``, the 'name'
table cut by :mod:`.sfnt`, compressed, with its ToUnicode map, descriptor and
widths) and kept in bounded caches, one shared by documents seeded with
``fonts.PRESET`` and one for documents with subsets of their own."""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Callable
from typing import Any, cast

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, TTFont, makeToUnicodeCMap

from .fonts import SUBSET_LOCK
from .sfnt import for_embedding

SUBSET_CACHE_SIZE = 16


class SubsetCache:
    """Finished font programs, keyed by font and glyph list: documents whose text
    stays within fonts.PRESET share their first subset, so after the first
    document it costs nothing to embed.  Bounded (a few to a few dozen KB an
    entry)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._items.pop(key, None)
            if value is not None:
                self._items[key] = value  # most recently used last
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.pop(next(iter(self._items)))


SHARED = SubsetCache(SUBSET_CACHE_SIZE)  # documents seeded with fonts.PRESET
OWN = SubsetCache(SUBSET_CACHE_SIZE)  # documents with subsets of their own (preset=False)


def subset_tag(font_name: bytes, subset: list[int]) -> bytes:
    """Six capital letters naming a subset, derived from its content (PDF 9.6.4)."""
    digest = hashlib.blake2b(font_name + repr(subset).encode("ascii"), digest_size=6).digest()
    return bytes(65 + b % 26 for b in digest)


def build_subset(font: TTFont, subset: list[int], level: int) -> tuple[bytes, bytes, int, bytes, bytes, bytes]:
    """Everything about one subset that does not depend on the document."""
    face = font.face
    base = subset_tag(face.name, subset) + b"+" + face.name + face.subfontNameX
    with SUBSET_LOCK:
        data = face.makeSubset(subset)
    data = for_embedding(data)  # the 'name' table: one copy of the licence, not two (sfnt.py)
    program = zlib.compress(data, level)
    cmap = zlib.compress(makeToUnicodeCMap(base.decode("ascii"), subset).encode("ascii"), level)
    flags = (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC
    descriptor = (
        b"<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%s] /ItalicAngle %s"
        b" /Ascent %s /Descent %s /CapHeight %s /StemV %s /MissingWidth %s"
        % (
            base,
            flags,
            fp_str(*face.bbox).encode("ascii"),
            fp_str(face.italicAngle).encode("ascii"),
            fp_str(face.ascent).encode("ascii"),
            fp_str(face.descent).encode("ascii"),
            fp_str(face.capHeight).encode("ascii"),
            fp_str(face.stemV).encode("ascii"),
            fp_str(face.defaultWidth).encode("ascii"),
        )
    ).replace(b"%", b"%%") + b" /FontFile2 %d 0 R >>"
    char_width = cast(Callable[[int], float], face.getCharWidth)  # untyped in the stubs
    widths = b" ".join(fp_str(char_width(c)).encode("ascii") for c in subset)
    return base, program, len(data), cmap, descriptor, widths
