"""Content-stream operators for numbers, colours and the layout's shapes: rules,
circles and the ornamental frame.  Pure functions of the layout elements."""

from __future__ import annotations

from functools import lru_cache

from reportlab.lib.rl_accel import fp_str

from .layouts import Box, Circle, Color, Ornament, Rule

KAPPA = 0.5522847498  # control-point distance for a quarter circle of radius 1


def num(*values: float) -> bytes:
    return fp_str(*values).encode("ascii")


@lru_cache(maxsize=64)
def fill_color(color: Color) -> bytes:
    return num(*color) + b" rg"


@lru_cache(maxsize=64)
def stroke_color(color: Color) -> bytes:
    return num(*color) + b" RG"


# ---- graphics ------------------------------------------------------------------------------


def rule_ops(r: Rule) -> bytes:
    dash = b"[%s] 0 d " % num(*r.dash) if r.dash else b""
    return b"q %s %s w %s%s m %s l S Q\n" % (
        stroke_color(r.color),
        num(r.width),
        dash,
        num(r.x1, r.y1),
        num(r.x2, r.y2),
    )


def _circle_path(cx: float, cy: float, r: float) -> bytes:
    k = KAPPA * r
    return b" ".join(
        [
            num(cx + r, cy) + b" m",
            num(cx + r, cy + k, cx + k, cy + r, cx, cy + r) + b" c",
            num(cx - k, cy + r, cx - r, cy + k, cx - r, cy) + b" c",
            num(cx - r, cy - k, cx - k, cy - r, cx, cy - r) + b" c",
            num(cx + k, cy - r, cx + r, cy - k, cx + r, cy) + b" c",
            b"h",
        ]
    )


def circle_ops(c: Circle) -> bytes:
    dash = b"[%s] 0 d " % num(*c.dash) if c.dash else b""
    return b"q %s %s w %s%s S Q\n" % (stroke_color(c.color), num(c.width), dash, _circle_path(c.cx, c.cy, c.r))


def _rect(x: float, y: float, w: float, h: float) -> bytes:
    return num(x, y, w, h) + b" re"


def _lozenge(cx: float, cy: float, hw: float, hh: float) -> bytes:
    return b"%s m %s l %s l %s l h" % (num(cx - hw, cy), num(cx, cy + hh), num(cx + hw, cy), num(cx, cy - hh))


def _rosette(cx: float, cy: float, r: float) -> bytes:
    """Four petals (a stylised quatrefoil) around (cx, cy)."""
    out = []
    for dx, dy in ((1, 0), (0, 1), (-1, 0), (0, -1)):
        px, py = -dy, dx  # perpendicular
        tipx, tipy = cx + dx * r, cy + dy * r
        w = 0.45 * r
        out.append(
            b"%s m %s %s %s c %s %s %s c h"
            % (
                num(cx, cy),
                num(cx + dx * r * 0.4 + px * w, cy + dy * r * 0.4 + py * w),
                num(cx + dx * r * 0.9 + px * w * 0.6, cy + dy * r * 0.9 + py * w * 0.6),
                num(tipx, tipy),
                num(cx + dx * r * 0.9 - px * w * 0.6, cy + dy * r * 0.9 - py * w * 0.6),
                num(cx + dx * r * 0.4 - px * w, cy + dy * r * 0.4 - py * w),
                num(cx, cy),
            )
        )
    return b" ".join(out)


@lru_cache(maxsize=16)
def ornament_ops(o: Ornament) -> bytes:
    b, band = o.outer, o.band
    inner = Box(b.x + band, b.y + band, b.w - 2 * band, b.h - 2 * band)
    gap = band * 0.22
    parts = [b"q", stroke_color(o.color), fill_color(o.color)]
    parts.append(num(band * 0.16) + b" w " + _rect(b.x, b.y, b.w, b.h) + b" S")
    parts.append(num(band * 0.08) + b" w " + _rect(inner.x, inner.y, inner.w, inner.h) + b" S")
    parts.append(
        num(band * 0.04) + b" w " + _rect(inner.x + gap, inner.y + gap, inner.w - 2 * gap, inner.h - 2 * gap) + b" S"
    )
    # lozenges along the band, between the corner squares
    mid = band / 2
    shapes = []
    sides = (
        (b.x + band, b.y + mid, b.w - 2 * band, True),
        (b.x + band, b.y + b.h - mid, b.w - 2 * band, True),
        (b.x + mid, b.y + band, b.h - 2 * band, False),
        (b.x + b.w - mid, b.y + band, b.h - 2 * band, False),
    )
    for x0, y0, length, horizontal in sides:
        count = max(1, round(length / (band * 1.25)))
        step = length / count
        for i in range(count):
            t = (i + 0.5) * step
            cx, cy = (x0 + t, y0) if horizontal else (x0, y0 + t)
            hw, hh = (step * 0.4, band * 0.28) if horizontal else (band * 0.28, step * 0.4)
            shapes.append(_lozenge(cx, cy, hw, hh))
    parts.append(b" ".join(shapes) + b" f")
    # the thin line the lozenges sit on
    parts.append(num(band * 0.03) + b" w " + _rect(b.x + mid, b.y + mid, b.w - band, b.h - band) + b" S")
    # corners: a square with a rosette
    corners = [(b.x, b.y), (b.x + b.w - band, b.y), (b.x, b.y + b.h - band), (b.x + b.w - band, b.y + b.h - band)]
    parts.append(b"1 g " + b" ".join(_rect(x, y, band, band) for x, y in corners) + b" f")
    parts.append(num(band * 0.06) + b" w " + b" ".join(_rect(x, y, band, band) for x, y in corners) + b" S")
    parts.append(
        fill_color(o.accent) + b" " + b" ".join(_rosette(x + mid, y + mid, band * 0.4) for x, y in corners) + b" f"
    )
    parts.append(b"Q\n")
    return b" ".join(parts)
