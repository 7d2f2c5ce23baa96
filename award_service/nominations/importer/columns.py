"""What an import file may say, in any of the three languages.

A header names a column by its label in Kazakh, Russian or English (the labels
of the nomination form, "Тегі" / "Фамилия" / "Surname"), or by its code
("surname": the header of the templates before 2026-12, so files people already
have keep working).  A category, a district and a medal are written as their
name in any of the three languages, or as their code.  Case, the spaces around
and inside, and a trailing "*" (a required column's mark) do not matter.

The templates are written in the user's language from the same labels, so what
the template says is what the import reads.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from flask_babel import force_locale

from ..forms import CATEGORY_LABELS, FIELD_LABELS

LANGUAGES = ("kk", "ru", "en")


def normal(value: object) -> str:
    """The key a header or a value is matched by."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).lstrip("\ufeff")
    text = " ".join(text.split()).casefold().rstrip("*").strip()
    return text


def _lookup(pairs: Iterable[tuple[str, object]]) -> dict[str, str]:
    """normal(name) -> code; a name that two codes share names neither."""
    found: dict[str, str] = {}
    clashing: set[str] = set()
    for code, name in pairs:
        key = normal(name)
        if not key:
            continue
        if key in found and found[key] != code:
            clashing.add(key)
        found.setdefault(key, code)
    for key in clashing:
        del found[key]
    return found


def _translated(labels: dict[str, object]) -> list[tuple[str, str]]:
    """(code, label) in each language."""
    out: list[tuple[str, str]] = []
    for lang in LANGUAGES:
        with force_locale(lang):
            out.extend((code, str(label)) for code, label in labels.items())
    return out


def header_lookup(columns: Iterable[str]) -> dict[str, str]:
    """A header cell (normalised) -> its column."""
    columns = tuple(columns)
    wanted = {c: FIELD_LABELS[c] for c in columns}
    return _lookup([*((c, c) for c in columns), *_translated(wanted)])


def header_labels(columns: Iterable[str]) -> list[str]:
    """The columns' headers in the current language (the templates' first row)."""
    return [str(FIELD_LABELS[c]) for c in columns]


def category_lookup() -> dict[str, str]:
    return _lookup([*((c, c) for c in CATEGORY_LABELS), *_translated(dict(CATEGORY_LABELS))])


def named_lookup(rows: Iterable) -> dict[str, str]:
    """Districts or medals: code and name in each language -> code."""
    pairs: list[tuple[str, object]] = []
    for row in rows:
        pairs.extend([(row.code, row.code), (row.code, row.name_kk), (row.code, row.name_ru), (row.code, row.name_en)])
    return _lookup(pairs)


def resolve(value: object, lookup: dict[str, str]) -> object:
    """The code a cell names, or the cell as it was (the check then says "Unknown ...")."""
    if not isinstance(value, str) or not value.strip():
        return value
    return lookup.get(normal(value), value)
