"""The decree annex's layout (A4 portrait): the list of nominations approved
under one decree, to sign; its heading, columns and signature block as data,
drawn by :mod:`.annex` with the presentation sheet's table."""

from __future__ import annotations

from dataclasses import dataclass

from .layouts import A4_PORTRAIT, BLUE, GREY, MM, Box, Circle, Rule, Text
from .sheet_layout import Column, SheetLayout


@dataclass(frozen=True)
class SignatureBlock:
    """Under the last row: who signs, the line, the seal.  Boxes are relative to
    the block's top-left corner (at the table's left edge), so y is negative;
    the template fields are signer_title_kk, signer_title_ru, signer_name."""

    height: float
    gap: float  # between the table and the block
    elements: tuple[Text | Rule | Circle, ...]


ANNEX = SheetLayout(
    *A4_PORTRAIT,
    left=20 * MM,
    right=10 * MM,
    top=14 * MM,
    bottom=16 * MM,
    heading=(
        Text(Box.mm(0, -8, 180, 8), "ӨКІМГЕ ҚОСЫМША", "serif-bold", 15, color=BLUE),
        Text(Box.mm(0, -14.5, 180, 6.5), "ПРИЛОЖЕНИЕ К РАСПОРЯЖЕНИЮ", "serif-bold", 12.5, color=BLUE),
    ),
    title_style=Text(Box.mm(0, 0, 180, 10), "{line}", "sans", 11, 9, max_lines=2),
    columns=(
        Column("number", "№", "", 12 * MM, align="center", size=9.5),
        Column("full_name", "Аты-жөні", "Ф.И.О.", 76 * MM, style="serif", size=10.5, min_size=8.5, max_lines=2),
        Column("birth_year", "Туған жылы", "Год рождения", 22 * MM, align="center", size=9.5),
        Column("district", "Ауданы, қаласы", "Район, город", 40 * MM, size=9, min_size=7, max_lines=2),
        Column("serial", "Куәлік №", "№ удостоверения", 30 * MM, align="center", size=9.5),
    ),
    head_height=10 * MM,
    row_height=10 * MM,
    padding=1.5 * MM,
    footer=Text(Box.mm(130, 7, 70, 5), "Бет / Стр. {page} / {pages}", "sans", 8.5, 6, align="right", color=GREY),
)

SIGNATURE = SignatureBlock(
    height=34 * MM,
    gap=8 * MM,
    elements=(
        Text(Box.mm(0, -7, 80, 7), "{signer_title_kk}", "sans-bold", 10, 7.5, max_lines=2, align="left"),
        Text(Box.mm(0, -13, 80, 6), "{signer_title_ru}", "sans", 9.5, 7, max_lines=2, align="left"),
        Rule(85 * MM, -13 * MM, 130 * MM, -13 * MM, width=0.6),
        Text(Box.mm(85, -17, 45, 4), "қолы / подпись", "sans", 7, 6, color=GREY),
        Text(Box.mm(132, -13, 48, 7), "{signer_name}", "serif", 11, 8, align="left"),
        Circle(100 * MM, -27 * MM, 10 * MM),
        Text(Box.mm(91, -30, 18, 6), "М.О. / М.П.", "sans", 8, 6, color=GREY),
    ),
)
