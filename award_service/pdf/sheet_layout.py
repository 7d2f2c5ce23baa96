"""The presentation sheet's layout (A4 portrait): its heading, columns and rows
as data, drawn by :mod:`.sheet`."""

from __future__ import annotations

from dataclasses import dataclass

from .layouts import A4_PORTRAIT, BLUE, GREY, MM, Box, Text


@dataclass(frozen=True)
class Column:
    field: str  # number | full_name | serial | "" (left empty: signature, date)
    head_kk: str
    head_ru: str
    width: float
    style: str = "sans"
    size: float = 10.0
    min_size: float = 7.5
    max_lines: int = 1
    align: str = "left"


@dataclass(frozen=True)
class SheetLayout:
    page_width: float
    page_height: float
    left: float
    right: float
    top: float
    bottom: float
    heading: tuple[Text, ...]  # fixed bilingual heading, first page only; boxes relative to the top margin
    title_style: Text  # how each of the caller's title lines is set (its box gives width and height)
    columns: tuple[Column, ...]
    head_height: float
    row_height: float
    padding: float
    footer: Text  # "{page} / {pages}", in a box relative to the page
    line_width: float = 0.5


SHEET = SheetLayout(
    *A4_PORTRAIT,
    left=20 * MM,
    right=10 * MM,
    top=14 * MM,
    bottom=16 * MM,
    heading=(
        Text(Box.mm(0, -8, 180, 8), "ТАБЫС ЕТУ ВЕДОМОСІ", "serif-bold", 15, color=BLUE),
        Text(Box.mm(0, -14.5, 180, 6.5), "ВЕДОМОСТЬ ВРУЧЕНИЯ", "serif-bold", 12.5, color=BLUE),
    ),
    title_style=Text(Box.mm(0, 0, 180, 10), "{line}", "sans", 11, 10, max_lines=2),
    columns=(
        Column("number", "№", "", 12 * MM, align="center", size=9.5),
        Column("full_name", "Аты-жөні", "Ф.И.О.", 80 * MM, style="serif", size=10.5, min_size=8.5, max_lines=2),
        Column("serial", "Куәлік №", "№ удостоверения", 30 * MM, align="center", size=9.5),
        Column("", "Қолы", "Подпись", 35 * MM),
        Column("", "Күні", "Дата", 23 * MM),
    ),
    head_height=10 * MM,
    row_height=10 * MM,
    padding=1.5 * MM,
    footer=Text(Box.mm(130, 7, 70, 5), "Бет / Стр. {page} / {pages}", "sans", 8.5, 6, align="right", color=GREY),
)
