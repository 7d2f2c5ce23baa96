"""Drawing: text fitted into boxes, and the layout elements as content-stream operators.

One generic routine draws every format: static elements (``el.static``) go into
a Form XObject once per document, the rest per certificate.  Nothing here
knows which format it draws.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from ..timeutil import show_date
from . import fonts
from .content import PRINTED_LANGUAGE
from .layouts import QR, CertificateLayout, Circle, Element, Ornament, Picture, Rule, Text
from .qr import qr_ops
from .shapes import circle_ops, fill_color, num, ornament_ops, rule_ops
from .writer import PdfWriter

_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """NFC (reportlab draws combining marks as they come, so И + U+0306 must become Й),
    whitespace collapsed to single spaces, invisible control/format characters dropped."""
    text = unicodedata.normalize("NFC", text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() or c.isspace() else "" for c in text)
    return _SPACES.sub(" ", text).strip()


# ---- fitting text into a box ---------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    text: str
    x: float  # start of the baseline
    y: float
    width: float


@dataclass(frozen=True)
class Fitted:
    size: float
    lines: tuple[Line, ...]
    ascent: float  # per 1 pt
    descent: float

    def bounds(self) -> tuple[float, float, float, float]:
        """(x, y, w, h) of the ink box of all lines: advance widths, ascender to descender."""
        if not self.lines:
            return (0.0, 0.0, 0.0, 0.0)
        x0 = min(ln.x for ln in self.lines)
        x1 = max(ln.x + ln.width for ln in self.lines)
        top = max(ln.y for ln in self.lines) + self.ascent * self.size
        bottom = min(ln.y for ln in self.lines) + self.descent * self.size
        return (x0, bottom, x1 - x0, top - bottom)


def _splits(words: list[str], style: str, max_lines: int) -> Iterator[tuple[list[str], float]]:
    """(lines, widest line at 1 pt) for 1..max_lines lines, each split balanced so
    that the widest line is as narrow as possible."""
    widths = [fonts.width(w, style, 1.0) for w in words]
    space = fonts.width(" ", style, 1.0)
    prefix = [0.0]
    for w in widths:
        prefix.append(prefix[-1] + w)
    n = len(words)

    def span(i: int, j: int) -> float:
        return prefix[j] - prefix[i] + (j - i - 1) * space

    yield [" ".join(words)], span(0, n)
    inf = float("inf")
    best = [0.0] + [inf] * n  # best[i]: widest line setting words[:i] in k lines
    cuts: list[list[int]] = [[0] * (n + 1)]
    for k in range(2, min(max_lines, n) + 1):
        prev = [span(0, i) if i >= 1 else inf for i in range(n + 1)] if k == 2 else best
        best = [inf] * (n + 1)
        cut = [0] * (n + 1)
        for i in range(k, n + 1):
            for m in range(k - 1, i):
                v = max(prev[m], span(m, i))
                if v < best[i]:
                    best[i], cut[i] = v, m
        cuts.append(cut)
        # walk the cuts back
        bounds, i = [n], n
        for c in reversed(cuts[1:]):
            i = c[i]
            bounds.append(i)
        bounds.append(0)
        bounds.reverse()
        lines = [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]
        yield lines, best[n]


def _broken_splits(paragraphs: list[str], style: str, max_lines: int) -> Iterator[tuple[list[str], float]]:
    """Like :func:`_splits` for text with hard line breaks: first one line a
    paragraph, then one more line at a time for the paragraph whose widest line
    is the widest, while the total stays within ``max_lines`` (never fewer
    lines than paragraphs)."""
    splits = [_splits(p.split(" "), style, max_lines) for p in paragraphs]
    current = [next(s) for s in splits]
    total = len(paragraphs)
    while True:
        yield [line for lines, _ in current for line in lines], max(w for _, w in current)
        if total >= max_lines:
            return
        i = max(range(len(current)), key=lambda k: current[k][1])
        step = next(splits[i], None)
        if step is None:  # the widest paragraph cannot be split further
            return
        current[i] = step
        total += 1


@lru_cache(maxsize=512)
def fit(el: Text, text: str) -> Fitted:
    """Place text in el.box: the largest size up to el.size on one line; if that is
    below el.min_size, the fewest lines (up to el.max_lines) that reach min_size;
    if none does, whichever arrangement allows the largest size.  Always inside.

    A newline in text is a hard break (each paragraph starts a line; the
    paragraphs count towards max_lines, but are never run together)."""
    asc, desc = fonts.vmetrics(el.style)
    box = el.box
    if not text:
        return Fitted(el.size, (), asc, desc)
    if "\n" in text:
        paragraphs = [p for p in text.split("\n") if p]
        if not paragraphs:
            return Fitted(el.size, (), asc, desc)
        candidates = _broken_splits(paragraphs, el.style, max(el.max_lines, len(paragraphs)))
    else:
        candidates = _splits(text.split(" "), el.style, el.max_lines)
    chosen: tuple[float, list[str]] | None = None
    fallback: tuple[float, list[str]] | None = None
    for lines, widest in candidates:
        height = (len(lines) - 1) * el.leading + asc - desc  # in font sizes
        size = min(el.size, box.w / widest if widest else el.size, box.h / height)
        size = math.floor(size * 100) / 100  # 0.01 pt steps, rounded down: stays inside
        if fallback is None or size > fallback[0]:
            fallback = (size, lines)
        if size >= el.min_size:
            chosen = (size, lines)
            break
    size, lines = cast(tuple[float, list[str]], chosen or fallback)  # candidates yield at least one
    block = ((len(lines) - 1) * el.leading + asc - desc) * size
    if el.valign == "top":
        top = box.y + box.h
    elif el.valign == "bottom":
        top = box.y + block
    else:
        top = box.y + (box.h + block) / 2
    baseline = top - asc * size
    placed = []
    for line in lines:
        w = fonts.width(line, el.style, size)
        if el.align == "left":
            x = box.x
        elif el.align == "right":
            x = box.x + box.w - w
        else:
            x = box.x + (box.w - w) / 2
        placed.append(Line(line, x, baseline, w))
        baseline -= el.leading * size
    return Fitted(size, tuple(placed), asc, desc)


def text_ops(writer: PdfWriter, el: Text, fitted: Fitted) -> bytes:
    if not fitted.lines:
        return b""
    parts = [b"BT", fill_color(el.color)]
    for line in fitted.lines:
        parts.append(num(1, 0, 0, 1, line.x, line.y) + b" Tm")
        for font, chunk in fonts.runs(line.text, el.style):
            parts.append(writer.show(font, fitted.size, chunk))
    parts.append(b"ET\n")
    return b" ".join(parts)


def picture_ops(writer: PdfWriter, el: Picture, data: bytes) -> bytes:
    name, pw, ph = writer.add_image(data)
    box = el.box
    scale = min(box.w / pw, box.h / ph)
    w, h = pw * scale, ph * scale
    x = box.x + (box.w - w) / 2
    y = box.y + (box.h - h) / 2
    return b"q %s cm %s Do Q\n" % (num(w, 0, 0, h, x, y), name)


def static_ops(writer: PdfWriter, elements: Iterable[Element]) -> bytes:
    out = []
    for el in elements:
        if isinstance(el, Ornament):
            out.append(ornament_ops(el))
        elif isinstance(el, Rule):
            out.append(rule_ops(el))
        elif isinstance(el, Circle):
            out.append(circle_ops(el))
        elif isinstance(el, Text):
            out.append(text_ops(writer, el, fit(el, clean(el.template))))
        else:
            raise TypeError(f"{type(el).__name__} cannot be static")
    return b"".join(out)


# ---- one certificate -----------------------------------------------------------------------


def _strip_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] in "«\"“„'" and text[-1] in "»\"”“'":
        return text[1:-1].strip()
    return text


def group_code(code: str, size: int = 4) -> str:
    """ABCDEFGHIJKLMNOP -> ABCD-EFGH-IJKL-MNOP (codes already grouped are kept)."""
    if not code.isalnum():
        return code
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def prepare_fields(item: Any) -> dict[str, str]:
    return {
        "full_name": clean(item.full_name),
        "medal_name_kk": _strip_quotes(clean(item.medal_name_kk)),
        "medal_name_ru": _strip_quotes(clean(item.medal_name_ru)),
        "serial": clean(item.serial),
        "decree_number": clean(item.decree_number),
        "decree_date": show_date(item.decree_date, PRINTED_LANGUAGE),
        "signer_title_kk": clean(item.signer_title_kk or ""),  # a medal may have no signer yet
        "signer_title_ru": clean(item.signer_title_ru or ""),
        "signer_name": clean(item.signer_name or ""),
        "verify_url": clean(item.verify_url),
        "verify_code": group_code(clean(item.verify_code)),
    }


def place(
    layout: CertificateLayout, item: Any, prepare: Callable[[Any], dict[str, str]] = prepare_fields
) -> list[tuple[Text, Fitted]]:
    """Every text element with where its lines go (for checks; the drawing uses the same).
    ``prepare`` turns the item into the layout's template fields."""
    fields = prepare(item)
    return [
        (el, fit(el, clean(el.template) if el.static else el.template.format_map(fields)))
        for el in layout.elements
        if isinstance(el, Text)
    ]


class CertificateRenderer:
    """Draws items of one layout (certificates, tickets) into one writer; the static
    part once, as a form.  ``prepare`` turns an item into the layout's template fields;
    QR and Picture elements read the item's attribute named by their ``field``."""

    CACHE_LIMIT = 128

    def __init__(
        self,
        writer: PdfWriter,
        layout: CertificateLayout,
        form_name: bytes = b"/Cert",
        prepare: Callable[[Any], dict[str, str]] = prepare_fields,
    ) -> None:
        self.writer = writer
        self.layout = layout
        self.prepare = prepare
        self.dynamic = tuple(el for el in layout.elements if not el.static)
        static = [el for el in layout.elements if el.static]
        self.form = writer.add_form(form_name, static_ops(writer, static), (0, 0, layout.width, layout.height))
        self.draw_form = b"%s Do\n" % self.form
        # (element, text) -> operators; the codes depend on this document's subsets,
        # so the cache lives and dies with the document.  Medal, decree and signer
        # repeat across a batch; names do not, hence the bound.
        self._ops: dict[tuple[Text, str], bytes] = {}

    def ops(self, item: Any) -> bytes:
        fields = self.prepare(item)
        writer = self.writer
        out = [self.draw_form]
        cache = self._ops
        for el in self.dynamic:
            if isinstance(el, Text):
                text = el.template.format_map(fields)
                key = (el, text)
                ops = cache.get(key)
                if ops is None:
                    if len(cache) >= self.CACHE_LIMIT:
                        cache.clear()
                    ops = cache[key] = text_ops(writer, el, fit(el, text))
                out.append(ops)
            elif isinstance(el, QR):
                b = el.box
                out.append(qr_ops(getattr(item, el.field), b.x, b.y, min(b.w, b.h), el.quiet))
            elif isinstance(el, Picture):
                data = getattr(item, el.field)
                if data:
                    out.append(picture_ops(writer, el, data))
            else:
                raise TypeError(f"cannot draw {type(el).__name__}")
        return b"".join(out)
