"""Translations: every string in the sources is translated, and the language follows the user.

The catalog check extracts messages from the current sources with Babel's own
API and ``babel.cfg`` (the same method map ``pybabel extract`` uses), so a
string added without a Kazakh and a Russian translation fails here.  To fix a
failure::

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext \\
        -o award_service/translations/messages.pot .
    .venv/bin/pybabel update -i award_service/translations/messages.pot \\
        -d award_service/translations --ignore-obsolete
    # translate the new msgids in kk/ and ru/, remove "#, fuzzy" once checked
"""

from __future__ import annotations

import html
import re
from datetime import UTC
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "award_service" / "translations"
REQUIRED = ("kk", "ru")  # must be complete; en may fall back to the msgid
ALL_LANGUAGES = ("kk", "ru", "en")
# The keywords `pybabel extract -k _l -k lazy_gettext` adds to Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}

# %(name)s, %(n)d, %(x).2f, %s, %d … and the escaped %%.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>\w+)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%])"
)
KAZAKH_LETTERS = set("ӘҒҚҢӨҰҮҺІәғқңөұүһі")


def placeholders(text: str) -> tuple[frozenset, tuple]:
    """Named placeholders as a set of (name, type); positional ones in order."""
    named, positional = set(), []
    for m in PLACEHOLDER.finditer(text):
        if m["type"] == "%":
            continue
        if m["name"]:
            named.add((m["name"], m["type"]))
        else:
            positional.append(m["type"])
    return frozenset(named), tuple(positional)


def formats_like(msgid: str, msgstr: str, in_template: bool) -> bool:
    """Where the msgid is %-formatted at run time, the translation must be too.

    Jinja's new-style gettext always applies ``%`` (with an empty mapping when
    no values are given); Python's gettext does only when values are given,
    i.e. when the msgid has placeholders.  Then a literal % must be written %%.
    """
    named, positional = placeholders(msgid)
    if positional or not (named or in_template):
        return True  # positional ones are compared by placeholders(); plain Python text is not formatted
    values = {name: (1 if kind in "diouxXeEfFgGc" else "x") for name, kind in named}
    try:
        msgid % values
    except (ValueError, TypeError, KeyError):
        return True  # the source itself does not format; nothing to compare against
    try:
        msgstr % values
    except (ValueError, TypeError, KeyError):
        return False
    return True


def source_messages() -> dict[str, list[str]]:
    """msgid -> ["file:line", ...] for every message in the current sources."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, (tuple, list)) else (message,)
        if not ids or not ids[0]:
            continue
        found.setdefault(ids[0], []).append(f"{filename}:{lineno}")
    return found


def load_catalog(lang: str):
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"missing catalog {path.relative_to(ROOT)}"
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.fixture(scope="module")
def sources():
    found = source_messages()
    # Guard against a broken babel.cfg silently extracting nothing from one side.
    assert any(loc.startswith("award_service/") for locs in found.values() for loc in locs), "no Python messages found"
    assert any(loc.startswith("templates/") for locs in found.values() for loc in locs), "no template messages found"
    return found


def _text(m) -> tuple[str, ...]:
    return tuple(m.string) if isinstance(m.string, (tuple, list)) else (m.string,)


@pytest.mark.parametrize("lang", REQUIRED)
def test_every_source_message_is_translated(sources, lang):
    catalog = load_catalog(lang)
    problems = []
    for msgid, where in sorted(sources.items()):
        at = ", ".join(where[:3]) + (" …" if len(where) > 3 else "")
        m = catalog.get(msgid)
        if m is None:
            problems.append(f"missing     {msgid!r} ({at})")
            continue
        if m.fuzzy:
            problems.append(f"fuzzy       {msgid!r} ({at})")
        texts = _text(m)
        if not all(t.strip() for t in texts):
            problems.append(f"untranslated {msgid!r} ({at})")
            continue
        source_ids = m.id if isinstance(m.id, (tuple, list)) else (m.id,)
        expected = placeholders(source_ids[-1])
        for text in texts:
            if placeholders(text) != expected:
                problems.append(
                    f"placeholders {msgid!r} -> {text!r}: expected {sorted(expected[0]) or list(expected[1])}"
                )
            elif not formats_like(source_ids[0], text, any(w.startswith("templates/") for w in where)):
                problems.append(f"bad %-format {msgid!r} -> {text!r} (write a literal % as %%)")
    assert not problems, f"{lang} catalog ({len(problems)} problems):\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", ALL_LANGUAGES)
def test_catalogs_have_no_fuzzy_or_obsolete_entries(lang):
    catalog = load_catalog(lang)
    assert str(catalog.locale) == lang
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy entries {fuzzy}"
    assert not catalog.obsolete, f"{lang}: obsolete (#~) entries {list(catalog.obsolete)}"
    assert not catalog.fuzzy, f"{lang}: the catalog header is marked fuzzy"


@pytest.mark.parametrize("lang", REQUIRED)
def test_translations_are_in_the_right_script(lang):
    """Kazakh uses its own letters somewhere; nothing left in English by mistake."""
    catalog = load_catalog(lang)
    untouched = [
        m.id
        for m in catalog
        if m.id
        and m.string
        and m.string == m.id
        and re.search(r"[A-Za-z]{4,}", m.id)
        and not re.search(r"[А-Яа-яЁё]", m.string)
    ]
    assert not untouched, f"{lang}: copied from English: {untouched}"
    if lang == "kk":
        assert sum(1 for m in catalog if m.id and KAZAKH_LETTERS & set(str(m.string))) > len(catalog) // 2


def translation(lang: str, msgid: str) -> str:
    text = load_catalog(lang)[msgid].string
    assert text and text != msgid
    return text


def html_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_home_page_is_kazakh_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    page = html_text(response)
    assert '<html lang="kk">' in page
    heading = translation("kk", "Upcoming ceremonies")
    assert KAZAKH_LETTERS & set(heading)
    assert heading in page
    assert "Upcoming ceremonies" not in page


def test_language_switch_is_remembered(client, make_ceremony):
    # Several requests from one client inside the `app` fixture's app context:
    # the language must not stick to the first request's (Flask-Babel caches it on g).
    ceremony = make_ceremony()
    response = client.post("/language/ru", data={"next": "/"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    page = html_text(client.get("/"))
    assert '<html lang="ru">' in page
    assert translation("ru", "Upcoming ceremonies") in page
    assert translation("kk", "Upcoming ceremonies") not in page
    # The ceremony's own title follows the language too, and so do the python-format strings.
    assert ceremony.title_ru in page
    seats = translation("ru", "Seats left: %(n)d of %(capacity)d") % {
        "n": ceremony.seats_left,
        "capacity": ceremony.capacity,
    }
    assert seats in page
    # Still Russian on the next page, until switched back.
    detail = html_text(client.get(f"/ceremonies/{ceremony.id}"))
    assert '<html lang="ru">' in detail
    assert translation("ru", "Where") in detail
    assert translation("ru", "Register") in detail
    client.post("/language/kk", data={"next": "/"})
    page = html_text(client.get("/"))
    assert '<html lang="kk">' in page
    assert translation("kk", "Upcoming ceremonies") in page


def test_unknown_language_is_ignored(client):
    client.post("/language/ru", data={"next": "/"})
    client.post("/language/xx", data={"next": "/"})
    assert '<html lang="ru">' in html_text(client.get("/"))


def test_lang_query_parameter_shows_english(client):
    page = html_text(client.get("/?lang=en"))
    assert '<html lang="en">' in page
    assert "Upcoming ceremonies" in page
    assert translation("kk", "Upcoming ceremonies") not in page


@pytest.mark.parametrize(
    ("header", "lang"),
    [("ru", "ru"), ("ru-RU,ru;q=0.9,en;q=0.5", "ru"), ("kk", "kk"), ("en-US,en;q=0.8", "en"), (None, "kk")],
)
def test_api_error_message_follows_accept_language(client, header, lang):
    headers = {"Accept-Language": header} if header else {}
    response = client.get("/api/v1/ceremonies/999999", headers=headers)
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "not_found"
    msgid = "No such ceremony."
    expected = msgid if lang == "en" else translation(lang, msgid)
    assert error["message"] == expected


def test_api_language_query_parameter_wins(client):
    response = client.get("/api/v1/ceremonies/999999?lang=ru", headers={"Accept-Language": "kk"})
    assert response.get_json()["error"]["message"] == translation("ru", "No such ceremony.")


@pytest.mark.parametrize("lang", ALL_LANGUAGES)
def test_an_evening_in_kazakhstan_keeps_its_date(app, lang):
    """19:00 on 9 May in Kazakhstan is 14:00 UTC: the date must still say the 9th;
    and 20:30 UTC on the 9th is already 01:30 on the 10th there."""
    from datetime import date, datetime

    from flask_babel import force_locale

    from award_service.i18n import local_date, local_datetime, local_time

    with app.test_request_context(), force_locale(lang):
        assert local_datetime(datetime(2030, 5, 9, 14, 0, tzinfo=UTC)) == "09.05.2030, 19:00"
        assert local_datetime(datetime(2030, 5, 9, 20, 30, tzinfo=UTC)) == "10.05.2030, 01:30"
        assert local_date(datetime(2030, 5, 9, 20, 30, tzinfo=UTC)) == "10.05.2030"
        assert local_date(date(1927, 3, 14)) == local_date("1927-03-14") == "14.03.1927"
        assert local_time(datetime(2030, 5, 9, 14, 5, tzinfo=UTC)) == "19:05"
        assert local_datetime(None) == local_date(None) == ""
