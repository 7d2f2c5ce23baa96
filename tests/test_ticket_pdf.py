"""The admission ticket PDF read back as a reader would: pypdf for text and fonts,
PDFium for the rendered page, zxing-cpp for the QR code.  Pure rendering: no app,
no database."""

from __future__ import annotations

import struct
import unicodedata

import pytest

from award_service.pdf import MissingGlyphError, TicketContent, fonts, ticket_pdf
from award_service.pdf.layouts import MM, TICKET_FORMAT, Box, Text
from award_service.pdf.render import fit
from award_service.pdf.ticket import place_ticket
from tests.test_certificate_pdf import (
    assert_drawable,
    assert_fonts_embedded_and_subset,
    decode_qr,
    embedded_glyphs,
    flat,
    font_tables,
    page_fonts,
    read,
    render_page,
    tounicode,
)

KK_EXTRA = "ӘҒҚҢӨҰҮҺІ"  # Kazakh letters beyond Russian
NAME = "Қоңырбаева-Өтегенова Үміт-Іңкәр Ғұмарқызы"
NAME_H = "Һашимов-Шаһмұратов Ерғали Күмісбек Төлеуғазыұлы"
NAME_CAPS = NAME.upper()  # as some people register: every capital but Һ
LONG_NAME = (
    "Жанболатова-Джанбулатова Гүлжазира-Әлия Мұхамедқалиқызы "
    "Абдрахманова-Нұрмағамбетова Сейітқасымқызы Өтегенқызы Ұлбосынхан"
)
CODE = "K7Q2M4XJ9RTA3BCD"
GROUPED = "K7Q2-M4XJ-9RTA-3BCD"
NEEDS = ("Арбамен / На коляске", "Ымдау тілінің аудармашысы / Сурдопереводчик")


def make_ticket(**overrides) -> TicketContent:
    values = {
        "ceremony_title_kk": "Ұлы Жеңіс — ұрпаққа мұра",
        "ceremony_title_ru": "Великая Победа — наследие поколениям",
        "starts_at": "09.05.2026, 19:00",
        "venue": "Алаш алаңы",
        "address": "Жезқазған, Алаш алаңы",
        "full_name": NAME,
        "seats": 3,
        "ticket_code": CODE,
        "needs": NEEDS,
    }
    values.update(overrides)
    return TicketContent(**values)


def fitted_by_template(item: TicketContent) -> dict:
    """Every text element's fitted lines, each checked to lie inside its box."""
    out = {}
    for el, fitted in place_ticket(item):
        for line in fitted.lines:
            assert el.box.contains(
                line.x,
                line.y + fitted.descent * fitted.size,
                line.width,
                (fitted.ascent - fitted.descent) * fitted.size,
            ), (el.template, line)
        out[el.template] = fitted
    return out


# ---- text -----------------------------------------------------------------------------------


def test_every_kazakh_letter_is_covered_by_the_names():
    letters = set(KK_EXTRA + KK_EXTRA.lower())
    assert letters <= set(NAME + NAME_H + NAME_CAPS)


@pytest.mark.parametrize("name", [NAME, NAME_H, NAME_CAPS])
def test_text_reads_back_exactly(name):
    reader = read(ticket_pdf(make_ticket(full_name=name)))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    lines = text.splitlines()
    assert name in flat(text)
    # line by line as the layout set it (a long name wraps at spaces, never inside a word)
    fitted = fitted_by_template(make_ticket(full_name=name))["{full_name}"]
    assert " ".join(ln.text for ln in fitted.lines) == name
    for ln in fitted.lines:
        assert ln.text in lines
    for expected in (
        "ШАҚЫРУ БИЛЕТІ",
        "ПРИГЛАСИТЕЛЬНЫЙ БИЛЕТ",
        "Ұлы Жеңіс — ұрпаққа мұра",
        "Великая Победа — наследие поколениям",
        "09.05.2026, 19:00",
        "Алаш алаңы",
        "Жезқазған, Алаш алаңы",
        "Аты-жөні / Ф.И.О.",
        "Орын саны / Мест: 3",
        GROUPED,
        "Кіреберісте көрсетіңіз / Предъявите на входе",
    ):
        assert expected in flat(text), expected
    # each need on a line of its own
    for need in NEEDS:
        assert need in lines, need


def test_seats_and_optional_parts():
    item = make_ticket(seats=1, address="", needs=())
    fitted = fitted_by_template(item)
    assert fitted["{address}"].lines == () and fitted["{needs}"].lines == ()
    text = read(ticket_pdf(item)).pages[0].extract_text()
    assert "Орын саны / Мест: 1" in text
    assert "Жезқазған" not in text and "коляске" not in text


def test_decomposed_input_is_drawn_composed():
    name = "Йолдасбекова Алёна Ülker"
    decomposed = unicodedata.normalize("NFD", name)
    assert decomposed != name
    text = read(ticket_pdf(make_ticket(full_name=decomposed))).pages[0].extract_text()
    assert name in text.splitlines()
    assert "\u0306" not in text and "\u0308" not in text


# ---- fonts ----------------------------------------------------------------------------------


def test_fonts_embedded_and_subset():
    for name in (f"{NAME} {NAME_H}", NAME_CAPS):
        page = read(ticket_pdf(make_ticket(full_name=name))).pages[0]
        assert_fonts_embedded_and_subset(page)
        # every letter of the name is a real glyph in an embedded font
        assert_drawable(page, name + "—")


def drawn_by_font(item: TicketContent) -> dict[str, set[str]]:
    """The characters the layout draws in each font ("DejaVuSans", ...), falling
    back where the style's own font lacks one, exactly as the drawing does."""
    out: dict[str, set[str]] = {}
    for el, fitted in place_ticket(item):
        for line in fitted.lines:
            for font, text in fonts.runs(line.text, el.style):
                out.setdefault(font.face.name.decode("ascii"), set()).update(text)
    return out


def fonts_by_name(page) -> dict[str, object]:
    """The page's fonts by BaseFont without the subset tag ("DejaVuSans"); one each."""
    found = {}
    for font in page_fonts(page).values():
        tag, name = str(font["/BaseFont"]).lstrip("/").split("+")
        assert len(tag) == 6 and name not in found, font["/BaseFont"]
        found[name] = font
    return found


def _components(glyph: bytes) -> list[int]:
    """The glyph ids a composite glyph is built from ([] for a simple glyph)."""
    if len(glyph) < 10 or struct.unpack(">h", glyph[:2])[0] >= 0:
        return []
    out, pos, more = [], 10, True
    while more:
        flags, gid = struct.unpack(">HH", glyph[pos : pos + 4])
        out.append(gid)
        pos += 4 + (4 if flags & 0x0001 else 2)  # arguments as words or bytes
        pos += 8 if flags & 0x0080 else 4 if flags & 0x0040 else 2 if flags & 0x0008 else 0  # the scale
        more = bool(flags & 0x0020)
    return out


def assert_minimal_subset(font, drawn: set[str]) -> None:
    """The embedded program holds .notdef, a glyph for each character drawn, and the
    glyphs those are built from (an accented letter is composite), nothing else."""
    codes, offsets = embedded_glyphs(font)
    unicode = tounicode(font)
    mapped = {gid for gid in codes.values() if gid}
    # no more glyphs than the characters drawn, + .notdef
    assert 1 + len(mapped) <= len(drawn) + 1, (font["/BaseFont"], len(mapped), len(drawn))
    # ... and they are exactly the characters drawn
    assert {unicode[code] for code, gid in codes.items() if gid} == drawn, font["/BaseFont"]
    tables = font_tables(font)
    glyf = tables[b"glyf"]
    needed, todo = {0}, sorted(mapped)
    while todo:
        gid = todo.pop()
        if gid not in needed:
            needed.add(gid)
            todo += _components(glyf[offsets[gid] : offsets[gid + 1]])
    num_glyphs = struct.unpack(">H", tables[b"maxp"][4:6])[0]
    assert set(range(num_glyphs)) == needed, (font["/BaseFont"], num_glyphs, len(needed))


# A ticket with a Kazakh name and two needs is about 28-30 KB (2026-12: 128 KB before its
# subsets' 'name' tables kept the licence once, not twice, lost the PRESET seeding, and the layout two of its faces).
TICKET_MAX_BYTES = 32 * 1024


@pytest.mark.parametrize("name", [NAME, NAME_H, NAME_CAPS, LONG_NAME])
def test_two_font_programs_and_a_small_file(name):
    assert {el.style for el in TICKET_FORMAT.certificate.elements if isinstance(el, Text)} == {"serif-bold", "sans"}
    data = ticket_pdf(make_ticket(full_name=name))
    page = read(data).pages[0]
    found = fonts_by_name(page)
    assert sorted(found) == ["DejaVuSans", "DejaVuSerif-Bold"]
    programs = {font["/FontDescriptor"].get_object().raw_get("/FontFile2").idnum for font in found.values()}
    assert len(programs) == 2
    assert data.count(b"/FontFile2 ") == 2  # and no other font program anywhere in the file
    assert len(data) <= TICKET_MAX_BYTES, len(data)


def test_a_character_the_serif_lacks_brings_a_third_face():
    name = "Иванов ✓ Иван"
    assert "✓" not in fonts.coverage("serif-bold")
    item = make_ticket(full_name=name)
    data = ticket_pdf(item)
    page = read(data).pages[0]
    assert name in page.extract_text().splitlines()
    found = fonts_by_name(page)
    assert sorted(found) == ["DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif-Bold"]
    drawn = drawn_by_font(item)
    assert drawn["DejaVuSans-Bold"] == {"✓"}  # the fallback face draws that character only
    for face, font in found.items():
        assert_minimal_subset(font, drawn[face] | {" "})  # reportlab keeps a space at code 32
    assert_drawable(page, name)
    assert decode_qr(render_page(data, scale=3)) == [CODE]


@pytest.mark.parametrize("name", [NAME, NAME_H, NAME_CAPS, LONG_NAME])
def test_subsets_hold_only_what_is_drawn(name):
    """A ticket goes out alone in a mail: its font subsets carry the glyphs it draws,
    not the letters certificates seed theirs with (fonts.PRESET, ASCII)."""
    item = make_ticket(full_name=name)
    page = read(ticket_pdf(item)).pages[0]
    drawn = drawn_by_font(item)
    found = fonts_by_name(page)
    assert set(found) == set(drawn)
    for face, font in found.items():
        assert " " in drawn[face]  # every face draws a space: reportlab keeps one at code 32
        assert_minimal_subset(font, drawn[face])


def test_characters_beyond_the_first_subset():
    """Over 256 distinct characters in the name's font: a second subset, each code
    still the glyph and the text it stands for."""
    latin_ext = "".join(chr(c) for c in range(0x100, 0x250))  # Latin Extended-A and -B
    name = " ".join(latin_ext[i : i + 40] for i in range(0, len(latin_ext), 40))
    assert len(set(name)) > 256
    page = read(ticket_pdf(make_ticket(full_name=name))).pages[0]
    assert name in flat(page.extract_text())
    assert any(res.endswith("s1") for res in page_fonts(page))
    assert_drawable(page, name)


def test_missing_glyph_error():
    with pytest.raises(MissingGlyphError):
        ticket_pdf(make_ticket(full_name="Иванов 漢"))


# ---- QR -------------------------------------------------------------------------------------


def test_qr_holds_exactly_the_ticket_code():
    data = ticket_pdf(make_ticket())
    assert decode_qr(render_page(data, scale=3)) == [CODE]


def test_qr_for_other_codes():
    for code in ("AAAAAAAAAAAAAAAA", "Z2345677ZZQQ7RST"):
        data = ticket_pdf(make_ticket(ticket_code=code))
        assert decode_qr(render_page(data, scale=3)) == [code]
        assert "-".join(code[i : i + 4] for i in range(0, 16, 4)) in read(data).pages[0].extract_text()


# ---- paper ----------------------------------------------------------------------------------


def test_a4_sheet_ticket_in_place_one_with_crop_marks():
    data = ticket_pdf(make_ticket())
    page = read(data).pages[0]
    box = page.mediabox
    assert (float(box.left), float(box.bottom)) == (0, 0)
    assert float(box.width) == pytest.approx(210 * MM, abs=0.01)
    assert float(box.height) == pytest.approx(297 * MM, abs=0.01)
    assert (TICKET_FORMAT.certificate.width, TICKET_FORMAT.certificate.height) == pytest.approx((105 * MM, 148 * MM))

    scale = 2
    image = render_page(data, scale=scale).convert("L")
    _w, _h = image.size
    px = scale * MM  # pixels a millimetre

    def dark(x_mm: float, y_top_mm: float) -> bool:
        """Ink within half a millimetre of the point (a 0.3 pt rule is anti-aliased)."""
        x, y = x_mm * px, y_top_mm * px
        near = image.crop((round(x - px / 2), round(y - px / 2), round(x + px / 2), round(y + px / 2)))
        return near.getextrema()[0] < 160

    # place 1 is the top-left A6 cell (top 0.5 mm of spare paper): the QR is there ...
    cell = image.crop((0, round(0.5 * px), round(105 * px), round(148.5 * px)))
    assert decode_qr(cell.convert("RGB")) == [CODE]
    # ... and the other three places are blank but for the crop marks
    keep_clear = 3 * MM * scale  # the marks' crosses reach 2.5 mm from a cut line

    def blank(x0, y0, x1, y1) -> bool:
        region = image.crop((round(x0 * px), round(y0 * px), round(x1 * px), round(y1 * px)))
        return region.getextrema()[0] > 250

    margin = keep_clear / px
    assert blank(105 + margin, 8 + 1, 210 - 8 - 1, 148.5 - margin)  # place 2
    assert blank(8 + 1, 148.5 + margin, 105 - margin, 297 - 8 - 1)  # place 3
    assert blank(105 + margin, 148.5 + margin, 210 - 8 - 1, 297 - 8 - 1)  # place 4
    # crop marks: ticks at the sheet's edges on both cut lines, a cross where they meet
    assert dark(105, 3) and dark(105, 294)  # the vertical cut, top and bottom edge
    assert dark(3, 148.5) and dark(207, 148.5)  # the horizontal cut, left and right edge
    assert dark(105, 148.5 - 2) and dark(105 + 2, 148.5)  # the cross


# ---- fitting --------------------------------------------------------------------------------


def test_long_name_fits_its_box():
    assert len(LONG_NAME) == 120
    fitted = fitted_by_template(make_ticket(full_name=LONG_NAME))["{full_name}"]
    assert " ".join(line.text for line in fitted.lines) == LONG_NAME
    name_el = next(
        el for el in TICKET_FORMAT.certificate.elements if isinstance(el, Text) and el.template == "{full_name}"
    )
    # wrapped (four lines) rather than shrunk below the layout's minimum
    assert len(fitted.lines) == 4
    assert fitted.size >= name_el.min_size
    assert LONG_NAME in flat(read(ticket_pdf(make_ticket(full_name=LONG_NAME))).pages[0].extract_text())
    # a short name is set at the full size, on one line
    short = fitted_by_template(make_ticket(full_name="Ким Ия"))["{full_name}"]
    assert (short.size, len(short.lines)) == (name_el.size, 1)


def test_every_box_holds_extreme_text():
    long_title = "Ұлы Жеңістің 80 жылдығына арналған облыстық салтанатты жиын және мерекелік концерт " * 3
    item = make_ticket(
        full_name="Х" * 200,
        ceremony_title_kk=long_title,
        ceremony_title_ru=long_title,
        starts_at="09.05.2026, 19:00 " * 5,
        venue="Металлургтер мәдениет сарайы " * 5,
        address="Жезқазған қаласы, Алаш алаңы, 1 " * 5,
        seats=1234567890,
        needs=tuple(f"Қажеттілік {i} / Потребность {i} " * 3 for i in range(8)),
    )
    fitted = fitted_by_template(item)
    # the needs keep their hard breaks: one line each at least, never run together
    assert len(fitted["{needs}"].lines) == 8
    text = flat(read(ticket_pdf(item)).pages[0].extract_text())
    assert "Х" * 200 in text and "Мест: 1234567890" in text


def test_hard_line_breaks_in_fitting():
    el = Text(Box.mm(0, 0, 80, 12), "{needs}", "sans", 7, 5, max_lines=3)
    fitted = fit(el, "Арбамен / На коляске\nСурдоаудармашы / Сурдопереводчик")
    assert [ln.text for ln in fitted.lines] == ["Арбамен / На коляске", "Сурдоаудармашы / Сурдопереводчик"]
    assert fitted.size == 7
    # a paragraph too wide for the box takes the spare line before anything shrinks below min_size
    long = "Ілеспе адаммен келеді, көзі нашар көреді / С сопровождающим, слабовидящий"
    narrow = Text(Box.mm(0, 0, 40, 12), "{needs}", "sans", 7, 5, max_lines=3)
    fitted = fit(narrow, "Арбамен / На коляске\n" + long)
    assert fitted.lines[0].text == "Арбамен / На коляске"
    assert len(fitted.lines) == 3 and fitted.size >= 5
    assert " ".join(ln.text for ln in fitted.lines[1:]) == long
