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


def has_control_chars(value: str, multiline: bool = False) -> bool:
    if value.isprintable():  # no Cc, Cs, Co, Cn (nor Cf, Zl, Zp): the usual case, in C
        return False
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and not (multiline and ch == "\r"):
            return True
    return False


def clean_text(value: object, *, max_length: int, multiline: bool = False) -> str:
    """Return the cleaned text ('' when empty) or raise :class:`TextError`.

    NFC-normalise, refuse control characters, collapse inner spaces (and keep
    at most one blank line in multiline text), trim, bound the length.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TextError(_l("Must be text."))
    value = unicodedata.normalize("NFC", value)
    if has_control_chars(value, multiline=multiline):
        raise TextError(_l("Contains characters that are not allowed."))
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
