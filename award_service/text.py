"""Text typed by people: normalise, bound, refuse what cannot be stored.

Keep what the person typed (after NFC and whitespace clean-up); search keys are
derived separately with :func:`search_key`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

_SPACE = re.compile(r"[^\S\n]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


class TextError(ValueError):
    """Carries a message fit to show to the person who typed the text."""


# Categories refused anywhere: controls (Cc, except newline and tab in multiline text),
# format characters (Cf: bidi embeddings, overrides and isolates U+202A-U+202E and
# U+2066-U+2069, the marks U+200E/U+200F and U+061C, zero-width U+200B-U+200D, U+2060,
# U+FEFF, the soft hyphen), lone surrogates (Cs), private use (Co), unassigned and
# non-characters (Cn), line and paragraph separators (Zl, Zp).  A name that looks
# right on screen can otherwise be stored reversed, split or spoofed.
_REFUSED = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
# More combining marks than this on one letter (after NFC, which composes every
# Kazakh and Russian letter) is not writing but decoration ("Zalgo" text).
MAX_COMBINING_RUN = 2


def refused_character(value: str, multiline: bool = False) -> str | None:
    """The first character the gate refuses in ``value``, named for a person to
    find it (``U+202E RIGHT-TO-LEFT OVERRIDE``), or None."""
    if value.isprintable() and value.isascii():
        return None  # the usual case, in C
    run = 0
    for ch in value:
        if multiline and ch in "\n\t\r":
            run = 0
            continue
        category = unicodedata.category(ch)
        if category in _REFUSED:
            return _named(ch)
        if category in ("Mn", "Me"):
            run += 1
            if run > MAX_COMBINING_RUN:
                return _named(ch) + " (" + str(_l("too many marks on one letter")) + ")"
        else:
            run = 0
    return None


def _named(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}".rstrip()


def clean_text(value: object, *, max_length: int, multiline: bool = False) -> str:
    """Return the cleaned text ('' when empty) or raise :class:`TextError`.

    NFC-normalise, refuse control, invisible and bidirectional characters (the
    error names the first one) and runs of combining marks, collapse inner spaces (and keep
    at most one blank line in multiline text), trim, bound the length.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TextError(_l("Must be text."))
    value = unicodedata.normalize("NFC", value)
    if (refused := refused_character(value, multiline=multiline)) is not None:
        raise TextError(_l("Contains a character that is not allowed: %(char)s.", char=refused))
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        lines = [_SPACE.sub(" ", line).strip() for line in value.split("\n")]
        value = _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()
    else:
        value = _SPACE.sub(" ", value).strip()
    if len(value) > max_length:
        raise TextError(_l("Must be at most %(n)d characters.", n=max_length))
    return value


def search_key(value: str | None) -> str:
    """Case- and accent-insensitive key for searching names."""
    if not value:
        return ""
    return unicodedata.normalize("NFC", value).casefold()


# A person's name (a surname, a given name, a patronymic; an attendee's full
# name) has at least this many letters: "А" or "Б." is an initial, not a name,
# and a certificate or a ticket cannot be printed for it.
MIN_NAME_LETTERS = 2


def name_error(value: str) -> Any:
    """Why ``value`` (already cleaned, not empty) cannot be a person's name, or None.

    One rule for every way a name comes in: the nomination form, the API, the
    import, and an attendee's registration."""
    letters = sum(1 for ch in value if ch.isalpha())
    if letters == 0:
        return _l("A name must contain letters.")
    if letters < MIN_NAME_LETTERS:
        return _l(
            "A name has at least %(n)d letters: write it in full, not as an initial.",
            n=MIN_NAME_LETTERS,
        )
    return None


def text_field(
    data: Mapping[str, Any],
    key: str,
    errors: dict[str, Any],
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
    required_message: object = None,
) -> str:
    """``data[key]`` cleaned; a problem is put in ``errors[key]`` and '' returned."""
    try:
        value = clean_text(data.get(key), max_length=max_length, multiline=multiline)
    except TextError as exc:
        errors[key] = exc.args[0]
        return ""
    if required and not value:
        errors[key] = required_message or _l("This field is required.")
    return value
