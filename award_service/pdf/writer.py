"""A PDF file written front to back, page by page.

reportlab's Canvas keeps every finished page in its document until save(), so
a batch of 10,000 certificates would hold 10,000 page streams in memory.
Here the file is written as it goes instead:

* every object is written the moment it is complete, and only its byte
  offset is kept (an ``array('Q')``: 8 bytes an object, ~16 bytes a page);
* pages point at one shared resource dictionary, and at a leaf of the page
  tree, whose object numbers are reserved up front; a leaf (at most
  ``LEAF_SIZE`` kids) is written as soon as it is full, so only the list of
  leaves stays until the end;
* fonts come last: which glyphs a subset holds is known only then.  The
  pieces are reportlab's: :class:`TTFont` assigns each character its code in
  a 256-glyph subset (``splitString``, with this writer as the "document"),
  ``TTFontFile.makeSubset`` builds the embedded font (its 'name' table cut
  to one copy of the records: the licence once, not twice, sfnt.py) and ``makeToUnicodeCMap`` the text-extraction map.

Which glyphs the first subset of a font holds depends on ``preset``:

* ``preset=True`` (certificates, sheets): it starts with ASCII (reportlab's
  "ASCII-readable" codes) and ``fonts.PRESET`` (Kazakh and Russian letters,
  quotes, dashes), about 210 glyphs, whatever the document draws.  Most
  documents then have the same first subset, whose font program is built once
  per process and kept (``subsets.SHARED``): a batch or a run of single certificates
  pays for subsetting once.
* ``preset=False`` (the ticket, one a PDF, sent by mail): it holds only what the
  document draws, .notdef and the space (which reportlab keeps at code 32),
  codes given from 33 in the order drawn.  The font program is built for each
  document (~0.4 ms for a ticket's ~80 glyphs: subset, 'name' dropped,
  compressed) and is a fraction of the size; such
  subsets seldom repeat, so they have a cache of their own
  (``subsets.OWN``: the same ticket sent again) and never evict the
  shared ones.

Output collects in a buffer that the caller drains with :meth:`take` (the
certificate and sheet renderers do so every ~64 KB, between pages).  Numbers
are formatted with rl-accel's ``fp_str`` (C) and strings escaped with its
``escapePDF``.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from array import array
from collections.abc import Iterator

from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase.ttfonts import TTFont

from .fonts import PRESET
from .subsets import OWN, SHARED, build_subset

LEAF_SIZE = 128
# zlib level 1: for page streams and font programs it gives files within ~5% of
# level 6 at a quarter of the time (measured on the certificate fonts).
COMPRESS_LEVEL = 1


def pdf_text_string(text: str) -> bytes:
    """A PDF text string (UTF-16BE with BOM, hex) for document information."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


class PdfWriter:
    """Objects out as they are finished; fonts, resources and the page tree at close()."""

    def __init__(self, *, title: str = "", compress: bool = True, preset: bool = True):
        """``preset``: seed each font's first subset with ASCII and fonts.PRESET
        (shared and cached across documents) rather than only what this document
        draws (see the module docstring)."""
        self.compress = compress
        self.title = title
        self.preset = preset
        self._out: list[bytes] = []
        self._pos = 0
        self._offsets = array("Q", [0])  # index = object number; 0 is the free-list head
        self._emit(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self.catalog = self.reserve()
        self.pages_root = self.reserve()
        self.resources = self.reserve()
        self.info = self.reserve()
        self.page_count = 0
        self._leaf: int | None = None
        self._leaf_kids = array("I")
        self._leaves = array("I")
        self._leaf_counts = array("I")
        # (TTFont, subset index) -> (resource name, object number); bounded by the charset.
        self._font_res: dict[tuple[int, int], tuple[bytes, int]] = {}
        self._fonts: dict[int, tuple[int, TTFont]] = {}  # id(TTFont) -> (number in names, TTFont)
        self._xobjects: dict[bytes, int] = {}
        self._images: dict[bytes, tuple[bytes, int, int]] = {}
        self._last_image: tuple[bytes, tuple[bytes, int, int]] | None = None
        self._closed = False

    # ---- raw output -------------------------------------------------------------------

    def _emit(self, data: bytes) -> None:
        self._out.append(data)
        self._pos += len(data)

    def take(self) -> bytes:
        """The bytes written since the last call."""
        data = b"".join(self._out)
        self._out.clear()
        return data

    @property
    def tell(self) -> int:
        return self._pos

    def reserve(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def write_object(self, num: int, body: bytes) -> None:
        if self._offsets[num]:
            raise RuntimeError(f"object {num} written twice")
        self._offsets[num] = self._pos
        self._emit(b"%d 0 obj\n%s\nendobj\n" % (num, body))

    def write_stream(self, num: int, data: bytes, entries: bytes = b"", compress: bool | None = None) -> None:
        if self.compress if compress is None else compress:
            data = zlib.compress(data, COMPRESS_LEVEL)
            entries += b" /Filter /FlateDecode"
        self.write_encoded_stream(num, data, entries)

    def write_encoded_stream(self, num: int, data: bytes, entries: bytes) -> None:
        """A stream whose data is already filtered as ``entries`` says."""
        if self._offsets[num]:
            raise RuntimeError(f"object {num} written twice")
        self._offsets[num] = self._pos
        self._emit(b"%d 0 obj\n<<%s /Length %d>>\nstream\n" % (num, entries, len(data)))
        self._emit(data)
        self._emit(b"\nendstream\nendobj\n")

    # ---- text ------------------------------------------------------------------------

    def font_resource(self, font: TTFont, subset: int) -> bytes:
        key = (id(font), subset)
        try:
            return self._font_res[key][0]
        except KeyError:
            pass
        name = b"/F%ds%d" % (self._fonts[id(font)][0], subset)
        self._font_res[key] = (name, self.reserve())
        return name

    def show(self, font: TTFont, size: float, text: str) -> bytes:
        """Operators to set the font and show text (inside BT/ET), subset by subset."""
        if id(font) not in self._fonts:
            self._fonts[id(font)] = (len(self._fonts) + 1, font)
            if self.preset:
                font.splitString(PRESET, self)  # the same first subset in every document
            else:
                # No ASCII block held in reserve: codes from 33 up in the order drawn
                # (0 .notdef; 1-32 the space, which reportlab keeps at 32).  Codes 1-31
                # are not handed out because splitString asks the *font's* asciiReadable
                # flag (True, shared by all documents) when it reaches 31 and would then
                # jump to 128 while the subset list grows from 33: codes and glyphs
                # would no longer match.
                state = font.state[self] = TTFont.State(False, font)
                state.nextCode = 33
        ops = []
        fs = fp_str(size).encode("ascii")
        for subset, chunk in font.splitString(text, self):
            ops.append(b"%s %s Tf (%s) Tj" % (self.font_resource(font, subset), fs, escapePDF(chunk).encode("latin-1")))
        return b" ".join(ops)

    # ---- XObjects -----------------------------------------------------------------------

    def add_form(self, name: bytes, ops: bytes, bbox: tuple[float, float, float, float]) -> bytes:
        """Write a Form XObject now; pages draw it with ``/name Do``."""
        num = self.reserve()
        self._xobjects[name] = num
        entries = b" /Type /XObject /Subtype /Form /BBox [%s] /Resources %d 0 R" % (
            fp_str(*bbox).encode("ascii"),
            self.resources,
        )
        self.write_stream(num, ops, entries)
        return name

    def reserve_form(self, name: bytes) -> int:
        """Name a Form XObject now, write it later with :meth:`write_form`."""
        num = self.reserve()
        self._xobjects[name] = num
        return num

    def write_form(self, num: int, ops: bytes, bbox: tuple[float, float, float, float]) -> None:
        entries = b" /Type /XObject /Subtype /Form /BBox [%s] /Resources %d 0 R" % (
            fp_str(*bbox).encode("ascii"),
            self.resources,
        )
        self.write_stream(num, ops, entries)

    def add_image(self, data: bytes) -> tuple[bytes, int, int]:
        """Embed a PNG or JPEG once per document; returns (name, width px, height px)."""
        last = self._last_image
        if last is not None and last[0] is data:
            return last[1]
        key = hashlib.sha256(data).digest()
        found = self._images.get(key)
        if found is None:
            found = self._images[key] = self._write_image(data, b"/Im%d" % (len(self._images) + 1))
        self._last_image = (data, found)
        return found

    def _write_image(self, data: bytes, name: bytes) -> tuple[bytes, int, int]:
        from PIL import Image  # Pillow comes with reportlab

        img: Image.Image = Image.open(io.BytesIO(data))
        w, h = img.size
        num = self.reserve()
        self._xobjects[name] = num
        head = b" /Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent 8" % (w, h)
        if img.format == "JPEG" and img.mode in ("L", "RGB", "CMYK"):
            space = {"L": b"/DeviceGray", "RGB": b"/DeviceRGB", "CMYK": b"/DeviceCMYK"}[img.mode]
            decode = b" /Decode [1 0 1 0 1 0 1 0]" if img.mode == "CMYK" and "adobe" in img.info else b""
            self.write_stream(
                num, data, head + b" /ColorSpace " + space + decode + b" /Filter /DCTDecode", compress=False
            )
            return name, w, h
        img.load()
        if img.mode == "P":
            img = img.convert("RGBA")
        alpha = None
        if img.mode in ("RGBA", "LA", "PA"):
            alpha = img.getchannel("A")
            img = img.convert("RGB" if img.mode == "RGBA" else "L")
        elif img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        if alpha is not None and alpha.getextrema() != (255, 255):
            smask = self.reserve()
            self.write_stream(
                smask,
                alpha.tobytes(),
                b" /Type /XObject /Subtype /Image /Width %d /Height %d"
                b" /BitsPerComponent 8 /ColorSpace /DeviceGray" % (w, h),
                compress=True,
            )
            head += b" /SMask %d 0 R" % smask
        space = b"/DeviceRGB" if img.mode == "RGB" else b"/DeviceGray"
        self.write_stream(num, img.tobytes(), head + b" /ColorSpace " + space, compress=True)
        return name, w, h

    # ---- pages -------------------------------------------------------------------------

    def add_page(self, content: bytes, width: float, height: float) -> None:
        if self._leaf is None:
            self._leaf = self.reserve()
        contents = self.reserve()
        page = self.reserve()
        self.write_stream(contents, content)
        self.write_object(
            page,
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s] /Resources %d 0 R /Contents %d 0 R >>"
            % (self._leaf, fp_str(width, height).encode("ascii"), self.resources, contents),
        )
        self._leaf_kids.append(page)
        self.page_count += 1
        if len(self._leaf_kids) >= LEAF_SIZE:
            self._close_leaf()

    def _close_leaf(self) -> None:
        if self._leaf is None:
            return
        kids = b" ".join(b"%d 0 R" % k for k in self._leaf_kids)
        self.write_object(
            self._leaf,
            b"<< /Type /Pages /Parent %d 0 R /Kids [%s] /Count %d >>" % (self.pages_root, kids, len(self._leaf_kids)),
        )
        self._leaves.append(self._leaf)
        self._leaf_counts.append(len(self._leaf_kids))
        self._leaf = None
        self._leaf_kids = array("I")

    # ---- the end -----------------------------------------------------------------------

    def close(self) -> None:
        """Write everything that comes after the pages (see :meth:`finish`) into the buffer."""
        for chunk in self.finish():
            self._out.append(chunk)

    def finish(self) -> Iterator[bytes]:
        """Fonts, resources, page tree, catalog, info, xref and trailer, as chunks.

        The xref table is the one part that grows with the document (20 bytes an
        object), so it is handed out in blocks rather than built whole."""
        if self._closed:
            return
        self._closed = True
        self._close_leaf()
        self._write_fonts()
        fonts = b" ".join(b"%s %d 0 R" % (name, num) for name, num in self._font_res.values())
        xobjects = b" ".join(b"%s %d 0 R" % (name, num) for name, num in self._xobjects.items())
        self.write_object(
            self.resources,
            b"<< /ProcSet [/PDF /Text /ImageB /ImageC] /Font << %s >> /XObject << %s >> >>" % (fonts, xobjects),
        )
        kids = b" ".join(b"%d 0 R" % k for k in self._leaves)
        self.write_object(self.pages_root, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, sum(self._leaf_counts)))
        self.write_object(self.catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % self.pages_root)
        info = b"<< /Producer (award_service with ReportLab)"
        if self.title:
            info += b" /Title " + pdf_text_string(self.title)
        self.write_object(self.info, info + b" >>")
        xref_at = self._pos
        n = len(self._offsets)
        if self._offsets.count(0) > 1:  # [0] is the free-list head
            raise RuntimeError("PDF object reserved but never written")  # a bug, not bad input
        self._emit(b"xref\n0 %d\n0000000000 65535 f \n" % n)
        yield self.take()
        block = 256
        for start in range(1, n, block):
            data = b"".join([b"%010d 00000 n \n" % off for off in self._offsets[start : start + block]])
            self._pos += len(data)
            yield data
        self._emit(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (n, self.catalog, self.info, xref_at)
        )
        yield self.take()

    def _write_fonts(self) -> None:
        for _, font in self._fonts.values():
            state = font.state.pop(self, None)
            if state is None:
                continue
            for index, subset in enumerate(state.subsets):
                res = self._font_res.get((id(font), index))
                if res is None:
                    continue
                self._write_subset(font, subset, res[1])

    def _write_subset(self, font: TTFont, subset: list[int], font_num: int) -> None:
        face = font.face
        key = (face.name, face.subfontNameX, tuple(subset))
        cache = SHARED if self.preset else OWN
        done = cache.get(key)
        if done is None:
            done = build_subset(font, subset, COMPRESS_LEVEL)
            cache.put(key, done)
        base, program, length1, cmap, descriptor, widths = done
        file_num = self.reserve()
        self.write_encoded_stream(file_num, program, b" /Length1 %d /Filter /FlateDecode" % length1)
        cmap_num = self.reserve()
        self.write_encoded_stream(cmap_num, cmap, b" /Filter /FlateDecode")
        desc_num = self.reserve()
        self.write_object(desc_num, descriptor % file_num)
        self.write_object(
            font_num,
            (
                b"<< /Type /Font /Subtype /TrueType /BaseFont /%s /FirstChar 0 /LastChar %d /Widths [%s]"
                b" /FontDescriptor %d 0 R /ToUnicode %d 0 R >>" % (base, len(subset) - 1, widths, desc_num, cmap_num)
            ),
        )

    def discard(self) -> None:
        """Forget per-document font state (when a document is abandoned half-way)."""
        for _, font in self._fonts.values():
            font.state.pop(self, None)
