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
from urllib.parse import urlencode

from flask import current_app
from flask_babel import force_locale

_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _text_environment():
    state = current_app.extensions["award_mail"]
    if state.text_env is None:
        env = current_app.jinja_env.overlay(autoescape=False, trim_blocks=True, lstrip_blocks=True)
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


def link(path: str, language: str, **query) -> str:
    """An address for a message: the public base, ``path``, and the recipient's
    language (``?lang=ru``), so that the page opens in the language of the
    e-mail whatever the browser would choose."""
    params = {**{k: v for k, v in query.items() if v is not None}, "lang": language_of(language)}
    return f"{base_url()}{path}?{urlencode(params)}"


def render(kind: str, language: str, **context) -> Rendered:
    """The subject, text and HTML of one message of ``kind`` in ``language``.
    ``home_link`` (the list of ceremonies in that language) is always there."""
    context = {"base_url": base_url(), "home_link": link("/", language), "lang": language, **context}
    with force_locale(language):
        template = _text_environment().get_template(f"emails/{kind}.html")
        subject = "".join(template.blocks["subject"](template.new_context(dict(context))))
        subject = _SPACES.sub(" ", subject).strip()[:500]  # one line; no-break spaces (Babel's dates) kept
        text = _tidy(template.render(context))
        html = current_app.jinja_env.get_template("emails/_html.html").render(
            lang=language, subject=subject, paragraphs=_paragraphs(text)
        )
    return Rendered(subject=subject, text=text, html=html)
