"""A corrected name for a reissued certificate: checked by the very rules a
nominee's name is entered under (the text gate, the lengths, the nominee name
rules), so that a name refused at entry is refused here too."""

from __future__ import annotations

from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..dates import local_today
from ..errors import ValidationFailed
from ..extensions import DbSession
from ..nominations.nominees import parse_nominee
from ..text import text_field
from .models import Award

NAME_PARTS = ("surname", "given_name", "patronymic")
NAME_LENGTH = 100  # the nominee's columns


def corrected_name(session: DbSession, award: Award, corrections: object, errors: dict[str, Any]) -> dict[str, str]:
    """The award's name with ``corrections`` applied (a part left out or null
    keeps what the award prints; ``""`` clears the patronymic).  Problems go
    into ``errors`` under the part's name, as the nominee form's do."""
    current = award.name_parts
    if corrections is None:
        return current
    if not isinstance(corrections, dict):
        errors["corrections"] = _l("Give the corrected name as surname, given_name and patronymic.")
        return current
    unknown = sorted(set(corrections) - set(NAME_PARTS))
    if unknown:
        errors["corrections"] = _l("Only surname, given_name and patronymic can be corrected.")
        return current
    wanted = {part: corrections[part] if corrections.get(part) is not None else current[part] for part in NAME_PARTS}
    found: dict[str, Any] = {}
    clean = {
        part: text_field(wanted, part, found, max_length=NAME_LENGTH, required=part != "patronymic")
        for part in NAME_PARTS
    }
    if not found:
        # The nominee rules themselves: the parser also wants the other details,
        # which are not being corrected; only what it says about the name counts.
        try:
            parse_nominee(cast(Session, session), dict(clean), today=local_today())  # a scoped one stands in
        except ValidationFailed as exc:
            found = {part: exc.fields[part] for part in NAME_PARTS if part in exc.fields}
    errors.update(found)
    return clean


def printed_name(parts: dict[str, str]) -> str:
    return " ".join(parts[p] for p in NAME_PARTS if parts[p])
