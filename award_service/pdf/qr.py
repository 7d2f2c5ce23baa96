"""QR codes: zxing-cpp encodes (C++, ~0.2 ms a code), we draw one path.

The module matrix comes from ``Barcode.to_image(scale=1)``: one byte a module,
0 for dark.  Each row's dark modules are merged into horizontal runs and the
whole code is one path of ``re`` operators filled once, in module units under
a ``cm`` scale, so every coordinate is a small integer.
"""

from __future__ import annotations

import zxingcpp
from reportlab.lib.rl_accel import fp_str

EC_LEVEL = "M"


def qr_matrix(text: str) -> tuple[int, bytes]:
    """(n, n*n bytes, row by row from the top; 0 = dark module)."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=EC_LEVEL)
    img = code.to_image(scale=1, add_quiet_zones=False)
    rows, cols = img.shape
    if rows != cols:
        raise ValueError(f"unexpected QR matrix shape {img.shape}")
    return rows, bytes(memoryview(img))  # type: ignore[arg-type]  # a buffer; the stub does not say so


def runs(n: int, matrix: bytes) -> list[tuple[int, int, int]]:
    """Dark runs as (x, y, length) in module units, y counted from the bottom row."""
    out = []
    for r in range(n):
        y = n - 1 - r
        x = 0
        for piece in matrix[r * n : r * n + n].split(b"\xff"):
            if piece:
                out.append((x, y, len(piece)))
                x += len(piece) + 1
            else:
                x += 1
    return out


_INT = [b"%d " % i for i in range(256)]


def path_body(n: int, matrix: bytes) -> bytes:
    """``x y w 1 re`` for every run: the same as :func:`runs`, built straight into bytes
    (a row split at its light modules; each piece is a dark run, empty between two
    light ones).  Profiling showed the formatting of ~230 runs a code costing more
    than the C++ encoding; this table-driven version is ~3x faster."""
    out: list[bytes] = []
    add = out.append
    ints = _INT if n < len(_INT) else [b"%d " % i for i in range(n + 1)]
    for r in range(n):
        ys = ints[n - 1 - r]
        x = 0
        for piece in matrix[r * n : r * n + n].split(b"\xff"):
            length = len(piece)
            if length:
                add(ints[x])
                add(ys)
                add(ints[length])
                add(b"1 re ")
                x += length + 1
            else:
                x += 1
    return b"".join(out)


def qr_ops(text: str, x: float, y: float, size: float, quiet: int = 4) -> bytes:
    """Content-stream operators drawing a QR code for text in the square (x, y, size).

    The square includes a quiet zone of ``quiet`` modules, painted white, so the
    code reads on any background.
    """
    n, matrix = qr_matrix(text)
    module = size / (n + 2 * quiet)
    ox = x + quiet * module
    oy = y + quiet * module
    body = path_body(n, matrix)
    return b"q 1 g %s re f 0 g %s 0 0 %s %s cm %s f Q\n" % (
        fp_str(x, y, size, size).encode("ascii"),
        fp_str(module).encode("ascii"),
        fp_str(module).encode("ascii"),
        fp_str(ox, oy).encode("ascii"),
        body,
    )
