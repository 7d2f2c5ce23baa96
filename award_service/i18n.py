"""Languages: Kazakh (default), Russian, English.

The ``.po`` catalogs are in git; the ``.mo`` files Flask-Babel reads are built
from them when missing or older (here at start-up, atomically, so a fresh
clone or a new deployment never silently falls back to the source language).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale, refresh

from .extensions import babel
from .timeutil import iso_local, show_date, show_datetime, show_time, to_local

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Build every stale ``messages.mo``; returns the ones written."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, mo_path)
        written.append(mo_path)
    return written


def select_locale() -> str:
    """The language of this request: ``?lang=`` (a link from an e-mail, the
    language switch), else for pages the language chosen earlier in this
    session, else what the browser asks for (Accept-Language; a first visit),
    else Kazakh."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, workers: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen is not None and chosen in languages:
        return chosen
    if not request.path.startswith("/api/"):
        remembered = session.get("lang")
        if isinstance(remembered, str) and remembered in languages:
            return remembered
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_link_language() -> None:
    """A page opened with ``?lang=`` (the link in an e-mail) keeps that language
    for the pages that follow it, as the language switch would."""
    chosen = request.args.get("lang")
    if (
        chosen is not None
        and chosen in current_app.config["LANGUAGES"]
        and not request.path.startswith(("/api/", "/static/"))
        and session.get("lang") != chosen
    ):
        session["lang"] = chosen


def vary_on_language(response):
    """Pages and API answers are in the language the browser asks for: a cache
    in front of the service must keep one copy per Accept-Language."""
    if response.mimetype in ("text/html", "application/json"):
        response.vary.add("Accept-Language")
    return response


def fallback_order(language: str) -> tuple[str, ...]:
    """The languages to try for a text given in several: the requested one,
    then Russian, then Kazakh (the one rule for ceremonies' titles and venues,
    on pages, PDFs, mail, calendar files and the API)."""
    return tuple(dict.fromkeys((language, "ru", "kk")))


def in_language(texts: dict[str, str | None], language: str, default: str = "") -> str:
    """The first non-empty of ``texts`` (language -> text) in :func:`fallback_order`, else ``default``."""
    for code in fallback_order(language):
        text = texts.get(code)
        if text:
            return text
    return default


def select_timezone() -> str:
    return current_app.config["AWARD_TIMEZONE"]


def locale_code() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def _zone() -> str:
    return current_app.config["AWARD_TIMEZONE"]


def local_date(value: date | datetime | str | None) -> str:
    """A date in the page's language: 09.05.2027.
    Also an ISO string (as audit events keep dates) and the local day of a UTC
    time; other text is shown as it is."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        except ValueError:
            return text
    return show_date(value, locale_code(), _zone())


def local_datetime(value: datetime | str | None, fmt: str | None = None) -> str:
    """A UTC time in the deployment's zone and the page's language, one format
    for the whole site: 09.05.2027, 19:00.  No zone name is shown: every time
    on the site is Kazakhstan time.  ``fmt`` is accepted from older templates
    and ignored."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    return show_datetime(value, locale_code(), _zone())


def local_time(value: datetime | None) -> str:
    """The local hour and minute of a UTC time: 19:00."""
    return show_time(value, _zone())


def iso_datetime(value: date | datetime | None) -> str:
    """ISO 8601 with the zone's offset, for exports: 2027-05-09T19:00:00+05:00."""
    return iso_local(value, _zone())


def datetime_local_input(value) -> str:
    """A UTC datetime as the value of an <input type=datetime-local>."""
    if value is None:
        return ""
    return to_local(value, current_app.config["AWARD_TIMEZONE"]).strftime("%Y-%m-%dT%H:%M")


def init_app(app) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # Flask-Babel caches the locale on `g`; a request inside an app context that
    # is already pushed (CLI, tests, workers) must not inherit a stale one.
    app.before_request(refresh)
    app.before_request(remember_link_language)
    app.after_request(vary_on_language)
    app.jinja_env.filters.update(localdt=local_datetime, localdate=local_date, localtime=local_time, dmy=local_date)
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, locale_code=locale_code, datetime_local_input=datetime_local_input
    )
