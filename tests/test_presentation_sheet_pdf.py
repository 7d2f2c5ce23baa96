"""The presentation sheet read back with pypdf: headings, rows in order, heads on every
page, page numbers, names that fit their column.  Pure rendering: no app, no database."""

from __future__ import annotations

import io
import re
import unicodedata

import pypdf
import pytest

from award_service.pdf import SheetHeader, SheetRow, presentation_sheet_pdf, stream_presentation_sheet
from award_service.pdf.sheet import SHEET, place_row
from tests.test_certificate_pdf import assert_fonts_embedded_and_subset

NAMES = [
    "Әбдіқалықова Гүлжазира Нұрсұлтанқызы",
    "Иванов Иван Иванович",
    "Жанболатов-Джанбулатов Мұхамедқали Сейітқасымұлы Абдрахманов-Нұрмағамбетов",
    "Ädilbekova Ğalıya Ñūrlanqyzy",
    "Һашимов Ұзақ Үсенұлы",
]
HEADER = SheetHeader(
    (
        "Ұлы Жеңістің 80 жылдығына арналған салтанатты жиын / Торжественное собрание к 80-летию Победы",
        "09.05.2025, Жезқазған, Металлургтер мәдениет сарайы",
        "«1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы» медалі",
    )
)
HEADS = ["№", "Аты-жөні", "Ф.И.О.", "Қолы", "Подпись", "Күні", "Дата"]


def rows(count: int) -> list[SheetRow]:
    return [SheetRow(i, NAMES[i % len(NAMES)], f"ULY-{i:05d}") for i in range(1, count + 1)]


def read(data: bytes) -> pypdf.PdfReader:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return pypdf.PdfReader(io.BytesIO(data), strict=True)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_rows_in_order_on_several_pages_with_heads_repeated():
    data = presentation_sheet_pdf(HEADER, rows(70))
    reader = read(data)
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) == 3
    first = flat(pages[0])
    assert "ТАБЫС ЕТУ ВЕДОМОСІ" in first and "ВЕДОМОСТЬ ВРУЧЕНИЯ" in first
    for line in HEADER.title_lines:
        assert line in first
    for i, text in enumerate(pages, 1):
        for head in HEADS:
            assert head in text, (i, head)
        assert f"Бет / Стр. {i} / {len(pages)}" in text
    # the fixed heading is on the first page only
    assert "ТАБЫС ЕТУ ВЕДОМОСІ" not in pages[1]
    # every row once, in the given order, name next to its serial
    everything = flat(" ".join(pages))
    positions = []
    for row in rows(70):
        entry = f"{row.number} {row.full_name} {row.serial}"
        assert everything.count(entry) == 1, entry
        positions.append(everything.index(entry))
    assert positions == sorted(positions)


def test_order_is_the_callers():
    given = [
        SheetRow(3, "Ким Ия", "ULY-00030"),
        SheetRow(1, "Әлиев Әли", "ULY-00002"),
        SheetRow(2, "Бөкейханов Әлихан", "ULY-00011"),
    ]
    text = flat(read(presentation_sheet_pdf(HEADER, given)).pages[0].extract_text())
    assert text.index("ULY-00030") < text.index("ULY-00002") < text.index("ULY-00011")


def test_streams_from_a_generator_and_still_knows_the_page_count():
    chunks = list(stream_presentation_sheet(HEADER, (r for r in rows(130))))
    assert len(chunks) >= 2
    reader = read(b"".join(chunks))
    n = len(reader.pages)
    assert n >= 5
    assert f"Бет / Стр. {n} / {n}" in reader.pages[-1].extract_text()


def test_names_fit_their_column():
    long = (
        "Жанболатова-Джанбулатова Гүлжазира-Әлия Мұхамедқалиқызы "
        "Абдрахманова-Нұрмағамбетова Сейітқасымқызы Өтегенқызы Ұлбосынхан"
    )
    assert len(long) == 120
    for name in [*NAMES, long, "Ә" * 90]:
        for el, fitted in place_row(SheetRow(12345, name, "ULY-12345"), SHEET):
            for line in fitted.lines:
                assert el.box.contains(
                    line.x,
                    line.y + fitted.descent * fitted.size,
                    line.width,
                    (fitted.ascent - fitted.descent) * fitted.size,
                ), (name, line)
    fitted = {el.template: f for el, f in place_row(SheetRow(1, long, "ULY-1"), SHEET)}["{full_name}"]
    assert len(fitted.lines) == 2 and " ".join(ln.text for ln in fitted.lines) == long
    text = flat(read(presentation_sheet_pdf(HEADER, [SheetRow(1, long, "ULY-00001")])).pages[0].extract_text())
    assert long in text


def test_fonts_embedded_and_text_composed():
    name = unicodedata.normalize("NFD", "Йолдасбекова Алёна Ülker")
    reader = read(presentation_sheet_pdf(HEADER, [SheetRow(1, name, "ULY-00001")]))
    page = reader.pages[0]
    assert "Йолдасбекова Алёна Ülker" in page.extract_text()
    fonts = page["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert re.fullmatch(r"/[A-Z]{6}\+DejaVu(Serif|Sans)(-Bold)?", font["/BaseFont"])
        assert "/FontFile2" in font["/FontDescriptor"].get_object()
    # subsets, valid TrueType programs, the licence kept once (as the certificates' are)
    assert_fonts_embedded_and_subset(page)


def test_empty_list_gives_one_page_with_the_heads():
    reader = read(presentation_sheet_pdf(SheetHeader(()), []))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for head in HEADS:
        assert head in text
    assert "Бет / Стр. 1 / 1" in text


@pytest.mark.parametrize("count", [1, 21, 22, 45, 46])
def test_page_breaks_lose_no_row(count):
    reader = read(presentation_sheet_pdf(HEADER, rows(count)))
    everything = flat(" ".join(p.extract_text() for p in reader.pages))
    assert [int(s) for s in re.findall(r"ULY-(\d{5})", everything)] == list(range(1, count + 1))
