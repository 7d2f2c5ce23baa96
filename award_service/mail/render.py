"""Subjects and bodies from the templates in ``templates/emails/``, in the
recipient's language.

One template per kind of message, ``emails/<kind>.html``, extends
``emails/_base.html`` (greeting and signature) and defines two blocks:
``subject`` (one line) and ``content`` (the plain-text body).  The files end
in ``.html`` only so that ``babel.cfg`` extracts their strings with the other
templates; they are plain text and are rendered by an overlay of the app's Jinja
environment with autoescaping off (an ``&`` in a ceremony's title must stay an
``&`` in the e-mail).  The HTML alternative is made from that text by
``emails/_html.html`` in the app's own, autoescaping environment: what people
typed is escaped there, and links become clickable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, format_date, format_time

from ..i18n import local_datetime as shared
from ..timeutil import to_local

_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def local_datetime(value, fmt: str = "medium") -> str:
    """``i18n.local_datetime`` with the date of the ``full`` format taken from the
    local wall-clock time as it is (that function lets Flask-Babel shift the
    already local time by the zone once more, so from 19:00 on it names the next
    day); other formats are passed on."""
    if value is None or fmt != "full":
        return shared(value, fmt)
    local = to_local(value, current_app.config["AWARD_TIMEZONE"]).replace(tzinfo=None)
    return f"{format_date(local.date(), 'full')}, {format_time(local, 'HH:mm', rebase=False)}"


def _text_environment():
    state = current_app.extensions["award_mail"]
    if state.text_env is None:
        env = current_app.jinja_env.overlay(autoescape=False, trim_blocks=True, lstrip_blocks=True)
        env.filters = {**env.filters, "localdt": local_datetime}  # a copy: the app's filters stay as they are
        state.text_env = env
    return state.text_env


def language_of(code: str | None) -> str:
    languages = current_app.config["LANGUAGES"]
    return code if code is not None and code in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")
    return text + "\n"


def _paragraphs(text: str) -> list[list[str]]:
    return [block.split("\n") for block in text.strip("\n").split("\n\n") if block.strip()]


def base_url() -> str:
    """The public address links in messages start with (AWARD_BASE_URL)."""
    return str(current_app.config["AWARD_BASE_URL"])


def render(kind: str, language: str, **context) -> Rendered:
    """The subject, text and HTML of one message of ``kind`` in ``language``."""
    context = {"base_url": base_url(), "lang": language, **context}
    with force_locale(language):
        template = _text_environment().get_template(f"emails/{kind}.html")
        subject = "".join(template.blocks["subject"](template.new_context(dict(context))))
        subject = _SPACES.sub(" ", subject).strip()[:500]  # one line; no-break spaces (Babel's dates) kept
        text = _tidy(template.render(context))
        html = current_app.jinja_env.get_template("emails/_html.html").render(
            lang=language, subject=subject, paragraphs=_paragraphs(text)
        )
    return Rendered(subject=subject, text=text, html=html)
