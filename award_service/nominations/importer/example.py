"""The filled example file's person, and the rule that keeps them out.

The empty template holds headers only.  The filled example shows one made-up
person (with a valid IIN, so that it reads like a real row); someone who fills
in the example instead of the template, or uploads it back unchanged, must not
get a real draft for that person.  So the import refuses the example person's
row, recognised by their IIN or by their name and birth date: refused rather
than warned about, since a warning would still save a made-up nomination.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from .. import iin
from . import columns as cols

BIRTH = date(1925, 5, 9)
SERIAL = 4242


def _iin() -> str:
    serial = SERIAL
    while (value := iin.make(BIRTH, serial)) is None:
        serial += 1
    return value


IIN = _iin()
SURNAME = "Серікбаев"
GIVEN_NAME = "Жомарт"
PATRONYMIC = "Әлібекұлы"
ADDRESS = "Жезқазған қ., Алашахан даңғылы, 12"
PHONE = "8 701 234 56 78"
GROUNDS = _l(
    "EXAMPLE, NOT A REAL PERSON. Write here why the person deserves the medal: for example, "
    "worked at the Zhezkazgan copper mine in 1941–1945 as a home-front worker."
)


def example_values(category: str, district: str, medal: str) -> dict[str, Any]:
    """The example row, column by column; ``category``, ``district`` and ``medal``
    as the file shows them (names in the user's language)."""
    return {
        "surname": SURNAME,
        "given_name": GIVEN_NAME,
        "patronymic": PATRONYMIC,
        "iin": IIN,
        "birth_date": BIRTH,
        "category": category,
        "district": district,
        "address": ADDRESS,
        "phone": PHONE,
        "medal": medal,
        "grounds": str(GROUNDS),
    }


def example_error(clean: dict[str, Any]) -> str | None:
    """Why this checked row cannot be saved, if it is the example person."""
    same_person = clean.get("iin") == IIN or (
        clean.get("birth_date") == BIRTH
        and cols.normal(clean.get("surname")) == cols.normal(SURNAME)
        and cols.normal(clean.get("given_name")) == cols.normal(GIVEN_NAME)
    )
    if not same_person:
        return None
    return str(
        _l(
            "This is the made-up person of the filled example, not a real nomination: "
            "replace the row with a real person, or delete it."
        )
    )
