"""Certificate PDFs read back as a reader would: pypdf for text and fonts, PDFium
for the rendered page, zxing-cpp for the QR code.  Pure rendering: no app, no database."""

from __future__ import annotations

import datetime
import gc
import io
import os
import re
import struct
import tracemalloc
import unicodedata

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from award_service.pdf import (
    FORMATS,
    CertificateContent,
    MissingGlyphError,
    certificate_pdf,
    fonts,
    stream_certificates,
    write_certificates,
)
from award_service.pdf.layouts import FORMAT_LAYOUTS, Text
from award_service.pdf.render import place

KK_UPPER = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯ"
KK_LOWER = KK_UPPER.lower()
# Every Kazakh Cyrillic letter, upper and lower case, as a (made-up) four-part name.
ALL_KK_NAME = f"{KK_UPPER[:14]}-{KK_UPPER[14:28]} {KK_UPPER[28:]} {KK_LOWER[:21]} {KK_LOWER[21:]}"
KK_LATIN_NAME = "Ädilbekova-Şäkenova Ğalıya Ūlbike Ñūrlanqyzy Ömirzaq Üsenova İsağalıqyzy"
# 120 characters: a double surname, two given names, a patronymic.
LONG_NAME = (
    "Жанболатова-Джанбулатова Гүлжазира-Әлия Мұхамедқалиқызы "
    "Абдрахманова-Нұрмағамбетова Сейітқасымқызы Өтегенқызы Ұлбосынхан"
)
URL = "https://awards.example.kz/v/ABCDEFGHIJKLMNOP"


def make_item(**overrides) -> CertificateContent:
    values = {
        "full_name": "Әбдіқалықова Гүлжазира Нұрсұлтанқызы",
        "medal_name_kk": "1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы",
        "medal_name_ru": "80 лет Победы в Великой Отечественной войне 1941–1945 гг.",
        "serial": "ULY-00001",
        "decree_number": "45",
        "decree_date": datetime.date(2025, 4, 28),
        "signer_title_kk": "Ұлытау облысының әкімі",
        "signer_title_ru": "Аким области Ұлытау",
        "signer_name": "Д. Б. Әбдікерім",
        "verify_url": URL,
        "verify_code": "ABCDEFGHIJKLMNOP",
    }
    values.update(overrides)
    return CertificateContent(**values)


def read(data: bytes) -> pypdf.PdfReader:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    return pypdf.PdfReader(io.BytesIO(data), strict=True)


def flat(text: str) -> str:
    """A reader's line breaks become spaces (a name may wrap to two lines)."""
    return " ".join(text.split())


def page_fonts(page) -> dict:
    """Every font a page can use: its resources and those of the forms it draws."""
    found = {}

    def walk(resources, depth=0):
        resources = resources.get_object() if resources is not None else {}
        for name, ref in (resources.get("/Font") or {}).items():
            found[name] = ref.get_object()
        if depth < 3:
            for ref in (resources.get("/XObject") or {}).values():
                xobj = ref.get_object()
                if xobj.get("/Subtype") == "/Form" and "/Resources" in xobj:
                    walk(xobj["/Resources"], depth + 1)

    walk(page["/Resources"])
    return found


def tounicode(font) -> dict[int, str]:
    data = font["/ToUnicode"].get_object().get_data().decode("ascii")
    out = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for code, uni in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(code, 16)] = bytes.fromhex(uni).decode("utf-16-be")
    return out


# What a TrueType program in a PDF needs (ISO 32000, 9.9; cmap as the subsets are
# symbolic); DejaVu has hinting, so cvt, fpgm and prep stay too.
PDF_TABLES = {b"head", b"hhea", b"loca", b"maxp", b"cvt ", b"prep", b"glyf", b"hmtx", b"fpgm", b"cmap"}


def _sfnt_checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def font_tables(font) -> dict[bytes, bytes]:
    """The tables of the embedded TrueType program by tag, each checked against its
    directory entry (4-byte aligned, its checksum) and the whole file against
    head.checkSumAdjustment: a program whose tables were laid out again stays valid."""
    data = font["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
    num_tables = struct.unpack(">H", data[4:6])[0]
    tables = {}
    for i in range(num_tables):
        tag, checksum, offset, length = struct.unpack(">4sIII", data[12 + 16 * i : 28 + 16 * i])
        assert offset % 4 == 0 and offset + length <= len(data), tag
        table = data[offset : offset + length]
        if tag == b"head":  # its checksum is taken with checkSumAdjustment zeroed
            table = table[:8] + bytes(4) + table[12:]
        assert _sfnt_checksum(table) == checksum, tag
        tables[tag] = data[offset : offset + length]
    assert _sfnt_checksum(data) == 0xB1B0AFBA  # what checkSumAdjustment makes the sum
    return tables


def assert_licence_kept_once(name: bytes, font_name) -> None:
    """The embedded 'name' table holds the Bitstream Vera copyright, trademark and
    permission notice, as Macintosh records only (one copy, one byte a character)."""
    fmt, count, storage = struct.unpack(">HHH", name[:6])
    records = [struct.unpack(">6H", name[6 + 12 * i : 18 + 12 * i]) for i in range(count)]
    assert fmt == 0 and records and {r[0] for r in records} == {1}, (font_name, records)
    text = {r[3]: " ".join(name[storage + r[5] : storage + r[5] + r[4]].decode("mac_roman").split()) for r in records}
    assert "Copyright (c) 2003 by Bitstream, Inc." in text[0] + text[13], font_name
    assert "Bitstream Vera is a trademark" in text[13] and "Permission is hereby granted" in text[13]
    assert len(name) < 6 * 1024, (font_name, len(name))


def embedded_glyphs(font) -> tuple[dict[int, int], list[int]]:
    """(code -> glyph id, loca offsets) read from the embedded TrueType program."""
    tables = font_tables(font)
    cmap = tables[b"cmap"]
    codes: dict[int, int] = {}
    for i in range(struct.unpack(">H", cmap[2:4])[0]):
        _, _, offset = struct.unpack(">HHI", cmap[4 + 8 * i : 12 + 8 * i])
        sub = cmap[offset:]
        fmt = struct.unpack(">H", sub[:2])[0]
        if fmt == 6:
            first, count = struct.unpack(">HH", sub[6:10])
            gids = struct.unpack(f">{count}H", sub[10 : 10 + 2 * count])
            codes.update({first + k: g for k, g in enumerate(gids)})
        elif fmt == 0:
            codes.update(enumerate(sub[6:262]))
    long_loca = struct.unpack(">h", tables[b"head"][50:52])[0] == 1
    loca = tables[b"loca"]
    if long_loca:
        offsets = list(struct.unpack(f">{len(loca) // 4}I", loca))
    else:
        offsets = [2 * v for v in struct.unpack(f">{len(loca) // 2}H", loca)]
    return codes, offsets


def assert_drawable(page, text: str) -> None:
    """Every character of text is in some font of the page, as a real glyph with an outline."""
    ok = set()
    for font in page_fonts(page).values():
        codes, offsets = embedded_glyphs(font)
        for code, char in tounicode(font).items():
            gid = codes.get(code, 0)
            if char and gid and (char.isspace() or offsets[gid + 1] > offsets[gid]):
                ok.add(char)
    missing = set(text) - ok
    assert not missing, f"no glyph in the PDF for {sorted(missing)}"


def render_page(data: bytes, index: int = 0, scale: float = 3) -> Image.Image:
    pdf = pdfium.PdfDocument(data)
    try:
        return pdf[index].render(scale=scale).to_pil()
    finally:
        pdf.close()


def decode_qr(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


# ---- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_reads_back_exactly(fmt):
    assert set(KK_UPPER + KK_LOWER) <= set(ALL_KK_NAME)
    assert set("ÄĞÑÖŞŪÜİı") <= set(KK_LATIN_NAME)
    for name in (ALL_KK_NAME, KK_LATIN_NAME, "Иванов Иван Иванович"):
        reader = read(certificate_pdf(make_item(full_name=name, serial="ULY-00427"), fmt))
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        assert name in flat(text)
        # names that fit one line come out on one line, exactly
        if name == "Иванов Иван Иванович":
            assert name in text.splitlines()
        for expected in (
            "КУӘЛІК",
            "УДОСТОВЕРЕНИЕ",
            "№ ULY-00427",
            "«1941–1945 жж. Ұлы Отан соғысындағы Жеңістің 80 жылы»",
            "«80 лет Победы в Великой Отечественной войне 1941–1945 гг.»",
            "Өкім № 45, 28.04.2025",
            "Распоряжение № 45 от 28.04.2025",
            "Ұлытау облысының әкімі",
            "Аким области Ұлытау",
            "Д. Б. Әбдікерім",
            "М.О.",
            "М.П.",
            "ABCD-EFGH-IJKL-MNOP",
            f"Тексеру / Проверка: {URL}",
        ):
            assert expected in flat(text), expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_decomposed_input_is_drawn_composed(fmt):
    name = "Йолдасбекова Алёна Ülker"
    decomposed = unicodedata.normalize("NFD", name)
    assert decomposed != name and "\u0306" in decomposed and "\u0308" in decomposed
    text = read(certificate_pdf(make_item(full_name=decomposed), fmt)).pages[0].extract_text()
    assert name in text
    assert "\u0306" not in text and "\u0308" not in text


def test_whitespace_and_controls_are_cleaned():
    text = read(certificate_pdf(make_item(full_name="  Иванов\tИван \n Иванович\u200b "), "a4")).pages[0].extract_text()
    assert "Иванов Иван Иванович" in text.splitlines()


# ---- fonts ----------------------------------------------------------------------------------


def assert_fonts_embedded_and_subset(page) -> None:
    """Every font of the page is a DejaVu TrueType subset embedded in the file."""
    found = page_fonts(page)
    assert found
    for name, font in found.items():
        assert font["/Subtype"] == "/TrueType"
        assert re.fullmatch(r"/[A-Z]{6}\+DejaVu(Serif|Sans)(-Bold)?", font["/BaseFont"]), font["/BaseFont"]
        program = font["/FontDescriptor"].get_object().get("/FontFile2")
        assert program is not None, f"{name} not embedded"
        data = program.get_object().get_data()
        # a subset, not the whole font file
        assert 0 < len(data) < os.path.getsize(fonts.FONT_DIR / "DejaVuSans.ttf") / 4
        # the tables a PDF reader needs, and the licence once (the Macintosh name records)
        tables = font_tables(font)
        missing = PDF_TABLES - set(tables)
        assert not missing, sorted(missing)
        assert_licence_kept_once(tables[b"name"], font["/BaseFont"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_fonts_embedded_and_subset(fmt):
    reader = read(certificate_pdf(make_item(full_name=ALL_KK_NAME), fmt))
    for page in reader.pages:
        assert_fonts_embedded_and_subset(page)


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_missing_glyph(fmt):
    for style in fonts.FONT_FILES:
        cmap = fonts.font(style).face.charToGlyph
        assert not [c for c in ALL_KK_NAME + KK_LATIN_NAME if ord(c) not in cmap], style
    reader = read(certificate_pdf(make_item(full_name=ALL_KK_NAME + " " + KK_LATIN_NAME), fmt))
    assert_drawable(reader.pages[0], ALL_KK_NAME + KK_LATIN_NAME + "«»–№")


def test_fallback_font_and_missing_glyph_error():
    assert ord("✓") not in fonts.font("serif-bold").face.charToGlyph
    data = certificate_pdf(make_item(full_name="Иванов ✓ Иван"), "a4")
    page = read(data).pages[0]
    assert "Иванов ✓ Иван" in page.extract_text()
    assert_drawable(page, "Иванов ✓ Иван")
    with pytest.raises(MissingGlyphError):
        certificate_pdf(make_item(full_name="Иванов 漢"), "a4")


@pytest.mark.parametrize("fmt", FORMATS)
def test_certificates_share_their_first_subsets(fmt):
    """Certificates (unlike tickets) seed each font's first subset with ASCII and
    fonts.PRESET: two certificates with different names embed the same font
    programs, which the writer builds once per process, and each program holds
    those letters whether drawn or not."""

    def programs(name: str) -> dict[str, tuple[bytes, set[str]]]:
        page = read(certificate_pdf(make_item(full_name=name), fmt)).pages[0]
        out = {}
        for font in page_fonts(page).values():
            data = font["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
            out[str(font["/BaseFont"])] = (data, set(tounicode(font).values()))
        return out

    first = programs("Әбдіқалықова Гүлжазира Нұрсұлтанқызы")
    assert programs("Һашимов Ұзақ Үсенұлы") == first
    assert len(first) == 4  # serif, serif-bold, sans, sans-bold
    for _data, chars in first.values():
        assert set(fonts.PRESET) | set(map(chr, range(0x20, 0x7F))) <= chars


def test_characters_beyond_the_first_subset():
    """Over 256 distinct characters in one font: a second subset, still extracted exactly."""
    latin_ext = "".join(chr(c) for c in range(0x100, 0x17F))
    greek = "".join(chr(c) for c in range(0x3B1, 0x3CA))
    name = " ".join([latin_ext[:40], latin_ext[40:80], latin_ext[80:], greek])
    page = read(certificate_pdf(make_item(full_name=name), "a4")).pages[0]
    assert name in flat(page.extract_text())
    assert any(name.endswith("s1") for name in page_fonts(page))
    assert_drawable(page, name)


def test_documents_rendered_in_threads_do_not_mix():
    from concurrent.futures import ThreadPoolExecutor

    def job(k):
        items = [
            make_item(full_name=f"Қасымов Ерлан {k}-{i} " + "ĀĂĄĆĈ"[k % 5] * (k + 1), serial=f"T{k}-{i}")
            for i in range(12)
        ]
        return k, items, b"".join(stream_certificates(items, FORMATS[k % 2]))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(job, range(8)))
    for _k, items, data in results:
        text = flat(" ".join(p.extract_text() for p in read(data).pages))
        for item in items:
            assert item.full_name in text and f"№ {item.serial}" in text


# ---- fitting --------------------------------------------------------------------------------


def test_line_breaking_is_balanced():
    """The split into k lines minimises the widest line (checked by brute force)."""
    import itertools
    import random

    from award_service.pdf.render import _splits

    rnd = random.Random(7)
    for _ in range(60):
        words = ["".join(rnd.choice("АәбҚңөшЫі") for _ in range(rnd.randint(1, 12))) for _ in range(rnd.randint(1, 7))]
        for k, (lines, widest) in enumerate(_splits(words, "serif", 3), 1):
            assert " ".join(lines) == " ".join(words) and len(lines) == k
            best = min(
                max(fonts.width(" ".join(words[a:b]), "serif", 1.0) for a, b in zip((0, *cuts), (*cuts, len(words))))
                for cuts in itertools.combinations(range(1, len(words)), k - 1)
            )
            assert widest == pytest.approx(best)
            assert max(fonts.width(line, "serif", 1.0) for line in lines) == pytest.approx(best)


def _all_inside(fmt: str, item: CertificateContent) -> dict[str, object]:
    out = {}
    for el, fitted in place(FORMAT_LAYOUTS[fmt].certificate, item):
        for line in fitted.lines:
            assert el.box.contains(
                line.x,
                line.y + fitted.descent * fitted.size,
                line.width,
                (fitted.ascent - fitted.descent) * fitted.size,
            ), (el.template, line)
        out[el.template] = fitted
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_long_name_fits_its_box(fmt):
    assert len(LONG_NAME) == 120
    fitted = _all_inside(fmt, make_item(full_name=LONG_NAME))["{full_name}"]
    assert " ".join(line.text for line in fitted.lines) == LONG_NAME
    # wrapped before shrinking below the minimum: two lines on A4, three on the
    # card, whose name box is 83 mm wide
    assert len(fitted.lines) == {"a4": 2, "card": 3}[fmt]
    assert fitted.size >= {"a4": 12, "card": 7.5}[fmt]
    # and a reader finds it whole on the page
    assert LONG_NAME in flat(read(certificate_pdf(make_item(full_name=LONG_NAME), fmt)).pages[0].extract_text())


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_box_holds_extreme_text(fmt):
    long_title = "Ұлытау облысы әкімінің бірінші орынбасары, облыстық марапаттау комиссиясының төрағасы"
    item = make_item(
        full_name="Х" * 200,
        medal_name_kk="Жеңіс " * 40,
        medal_name_ru="Победа " * 40,
        signer_title_kk=long_title,
        signer_title_ru=long_title,
        signer_name="Ә" * 80,
        serial="ULY-" + "9" * 40,
        decree_number="12345/678-ө",
    )
    _all_inside(fmt, item)
    # a short name is set at the layout's full size, on one line
    short = _all_inside(fmt, make_item(full_name="Ким Ия"))["{full_name}"]
    name_el = next(
        el for el in FORMAT_LAYOUTS[fmt].certificate.elements if isinstance(el, Text) and el.template == "{full_name}"
    )
    assert (short.size, len(short.lines)) == (name_el.size, 1)


def test_empty_signer_name_draws_only_the_line():
    fitted = _all_inside("a4", make_item(signer_name=""))["{signer_name}"]
    assert fitted.lines == ()
    text = read(certificate_pdf(make_item(signer_name=""), "a4")).pages[0].extract_text()
    assert "Аким области Ұлытау" in text and "Әбдікерім" not in text


# ---- QR -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_qr_decodes_from_rendered_page(fmt):
    data = certificate_pdf(make_item(), fmt)
    assert decode_qr(render_page(data)) == [URL]


def test_qr_in_each_place_of_a_card_sheet():
    urls = [f"https://awards.example.kz/v/CARD{i}QRSTUVWXYZAB" for i in range(1, 5)]
    items = [make_item(verify_url=u, serial=f"ULY-0000{i}", verify_code=u[-16:]) for i, u in enumerate(urls, 1)]
    data = b"".join(stream_certificates(items, "card"))
    assert len(read(data).pages) == 1
    image = render_page(data, scale=3)
    w, h = image.size
    quadrants = [(0, 0, w // 2, h // 2), (w // 2, 0, w, h // 2), (0, h // 2, w // 2, h), (w // 2, h // 2, w, h)]
    for url, box in zip(urls, quadrants):
        assert decode_qr(image.crop(box)) == [url]


def test_qr_is_one_path_of_merged_runs():
    from award_service.pdf.qr import qr_matrix, qr_ops, runs

    n, matrix = qr_matrix(URL)
    dark = matrix.count(0)
    merged = runs(n, matrix)
    assert sum(length for _, _, length in merged) == dark
    assert len(merged) < dark * 0.7  # runs, not one rectangle a module
    ops = qr_ops(URL, 0, 0, 100)
    assert ops.count(b" re") == len(merged) + 1  # + the white quiet zone
    assert ops.count(b" f") == 2  # the quiet zone, then the whole code in one fill


# ---- batches --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt,count,pages", [("a4", 9, 9), ("card", 9, 3), ("card", 8, 2), ("card", 1, 1)])
def test_batch_page_count(fmt, count, pages):
    items = [make_item(serial=f"ULY-{i:05d}", full_name=f"Иванов Иван {i}") for i in range(1, count + 1)]
    out = io.BytesIO()
    assert write_certificates(items, fmt, out) == pages
    reader = read(out.getvalue())
    assert len(reader.pages) == pages
    text = flat(" ".join(p.extract_text() for p in reader.pages))
    positions = [text.index(f"№ ULY-{i:05d}") for i in range(1, count + 1)]
    assert positions == sorted(positions)  # in the order given


def test_stream_yields_before_the_input_is_used_up():
    consumed = 0

    def items():
        nonlocal consumed
        for i in range(400):
            consumed += 1
            yield make_item(serial=f"ULY-{i:05d}", verify_url=f"{URL[:-4]}{i:04d}")

    chunks = stream_certificates(items(), "a4")
    first = next(chunks)
    assert first.startswith(b"%PDF-")
    assert consumed < 400
    rest = b"".join(chunks)
    assert len(read(first + rest).pages) == 400


def test_signature_image_embedded_once():
    png = io.BytesIO()
    sig = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    for x in range(20, 220):
        sig.putpixel((x, 40 + (x % 30) // 3), (10, 20, 120, 255))
    sig.save(png, "PNG")
    jpeg = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 200, 255)).save(jpeg, "JPEG")
    for data, mask in ((png.getvalue(), True), (jpeg.getvalue(), False)):
        items = [make_item(serial=f"ULY-{i:05d}", signature_image=bytes(data)) for i in range(5)]
        reader = read(b"".join(stream_certificates(items, "a4")))
        images = {}
        for page in reader.pages:
            for ref in page["/Resources"]["/XObject"].values():
                obj = ref.get_object()
                if obj["/Subtype"] == "/Image":
                    images[ref.idnum] = obj
        assert len(images) == 1
        (image,) = images.values()
        assert (image["/Width"], image["/Height"]) == Image.open(io.BytesIO(data)).size
        assert ("/SMask" in image) == mask
        for page in reader.pages:
            assert b"/Im1 Do" in page.get_contents().get_data()


def test_unknown_format():
    with pytest.raises(ValueError):
        certificate_pdf(make_item(), "a5")
    with pytest.raises(ValueError):
        stream_certificates([make_item()], "A4 ")  # raised at the call, not at the first chunk
    with pytest.raises(ValueError):
        write_certificates([make_item()], None, io.BytesIO())
    with pytest.raises(ValueError):
        b"".join(stream_certificates([], "a4"))


def _peak(count: int, fmt: str, first: int, trace: bool = True) -> int:
    def items():
        for i in range(first, first + count):
            yield make_item(
                full_name=f"Сейітқасымов Ерғали {i}",
                serial=f"ULY-{i:05d}",
                verify_url=f"{URL[:-5]}{i:05d}",
                verify_code=f"ABCDEFGHIJK{i:05d}",
            )

    with open(os.devnull, "wb") as out:
        if not trace:
            return write_certificates(items(), fmt, out)
        gc.collect()
        tracemalloc.start()
        try:
            pages = write_certificates(items(), fmt, out)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert pages == count
    return peak


def test_memory_does_not_grow_with_the_batch():
    # Fonts loaded and the process-wide caches full; each run then brings new names
    # (cache misses, evictions) like a real batch.
    _peak(200, "a4", first=0, trace=False)
    small = _peak(130, "a4", first=10_000)  # past the first xref block (256 objects)
    large = _peak(650, "a4", first=20_000)
    # Pages kept in memory would add ~2 KB each: 520 more pages, over 1 MB.  What does
    # grow is the xref offsets array (16 bytes a page) and, until they are full, the
    # bounded caches (text fits, encoded text; at most ~100 KB together).
    # tracemalloc makes a page ~5x slower, hence the modest counts; bench/certificates.py
    # measures larger batches.
    assert large - small < 160 * 1024, (small, large)
    assert large < small * 1.25, (small, large)
