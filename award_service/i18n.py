"""Languages: Kazakh (default), Russian, English.

The ``.po`` catalogs are in git; the ``.mo`` files Flask-Babel reads are built
from them when missing or older (here at start-up, atomically, so a fresh
clone or a new deployment never silently falls back to the source language).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_time, get_locale, refresh

from .extensions import babel
from .timeutil import to_local

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
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, workers: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang")
    if chosen is not None and chosen in languages:
        return chosen
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    remembered = session.get("lang")
    if isinstance(remembered, str) and remembered in languages:
        return remembered
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["AWARD_TIMEZONE"]


def locale_code() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def local_datetime(value, fmt: str = "medium") -> str:
    """A UTC datetime in the deployment's zone and the page's language.

    The zone conversion is done here (tzdata-backed); Babel only formats.  No
    zone name is shown: every time on the site is Kazakhstan time.  ``full``
    is the long date with the weekday and the hour (9 мамыр 2027 ж., жексенбі, 19:00).
    """
    if value is None:
        return ""
    local = to_local(value, current_app.config["AWARD_TIMEZONE"]).replace(tzinfo=None)
    if fmt == "full":
        return f"{format_date(local, 'full', rebase=False)}, {format_time(local, 'HH:mm', rebase=False)}"
    return format_datetime(local, fmt, rebase=False)


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
    app.jinja_env.filters["localdt"] = local_datetime
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, locale_code=locale_code, datetime_local_input=datetime_local_input
    )
