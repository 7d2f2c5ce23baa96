"""The nominee's details as entered (form, API, import row): checked and normalised
in one place, with the IIN's own messages and the name's search keys."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import names
from ..dates import parse_date as _date
from ..districts.models import District
from ..errors import ValidationFailed
from ..i18n import local_date
from ..medals.models import Medal
from ..parsing import parse_phone
from ..pdf.fonts import unprintable
from ..text import name_error, text_field
from . import iin as iin_module
from .models import NOMINEE_CATEGORIES, Nominee

# The nominee's details, in the order the form, the API's "nominee" object and an import file's
# first columns use.
NOMINEE_FIELDS = (
    "surname",
    "given_name",
    "patronymic",
    "iin",
    "birth_date",
    "category",
    "district",
    "address",
    "phone",
)
IIN_MESSAGES = {
    "length": _l("The IIN has 12 digits."),
    "digits": _l("The IIN has digits only."),
    "checksum": _l("This IIN is not valid: its check digit does not match. Check for a typing error."),
    "century": _l("This IIN is not valid: its 7th digit must be 1 to 6."),
    "date": _l("This IIN is not valid: its first six digits are not a date."),
}


EARLIEST_BIRTH = date(1880, 1, 1)


SEARCH_KEY_LENGTH = Nominee.search_key.type.length


SKELETON_LENGTH = Nominee.name_skeleton.type.length


def parse_nominee(
    session: Session,
    data: dict[str, Any],
    *,
    today: date,
    districts: dict[str, District] | None = None,
) -> dict[str, Any]:
    """The nominee's fields, cleaned and checked; ``districts`` (code ->
    district) saves a query per call when many rows are parsed (imports)."""
    errors: dict[str, Any] = {}
    clean: dict[str, Any] = {
        "surname": text_field(data, "surname", errors, max_length=100, required=True),
        "given_name": text_field(data, "given_name", errors, max_length=100, required=True),
        "patronymic": text_field(data, "patronymic", errors, max_length=100),
        "address": text_field(data, "address", errors, max_length=300),
    }
    for key in ("surname", "given_name", "patronymic"):
        if clean[key] and (missing := unprintable(clean[key])):
            errors[key] = _l(
                "The certificate cannot print %(chars)s: write the name in Kazakh, Russian or Latin letters.",
                chars=" ".join(missing),
            )
        elif clean[key] and (problem := name_error(clean[key])):
            errors[key] = problem
    birth = _date(data.get("birth_date"), "birth_date", errors) if data.get("birth_date") not in (None, "") else None
    if birth is None and "birth_date" not in errors:
        errors["birth_date"] = _l("This field is required.")
    elif birth is not None and birth > today:
        errors["birth_date"] = _l("The birth date is in the future.")
    elif birth is not None and birth < EARLIEST_BIRTH:
        errors["birth_date"] = _l("The birth date is too early to be right.")
    clean["birth_date"] = birth
    raw_iin = data.get("iin")
    clean["iin"] = None
    if raw_iin not in (None, ""):
        if not isinstance(raw_iin, (str, int)) or isinstance(raw_iin, bool):
            errors["iin"] = IIN_MESSAGES["digits"]
        else:
            try:
                clean["iin"] = iin_module.parse(str(raw_iin))
            except iin_module.IINError as exc:
                errors["iin"] = IIN_MESSAGES[exc.code]
            else:
                if birth is not None and iin_module.birth_date_of(clean["iin"]) != birth:
                    errors["iin"] = _l(
                        "The IIN says the person was born on %(date)s, not on the birth date given.",
                        date=local_date(iin_module.birth_date_of(clean["iin"])),
                    )
    category = data.get("category")
    if not isinstance(category, str) or category not in NOMINEE_CATEGORIES:
        errors["category"] = _l("Choose a category.") if not category else _l("Unknown category.")
    clean["category"] = category
    code = data.get("district")
    if not isinstance(code, str) or not code:
        district = None
    elif districts is not None:
        district = districts.get(code)
    else:
        district = session.scalar(select(District).where(District.code == code))
    if district is None:
        errors["district"] = _l("Choose a district.") if not code else _l("Unknown district.")
    clean["district"] = district
    clean["phone"] = parse_phone(data.get("phone"), errors=errors)
    if errors:
        raise ValidationFailed(errors)
    # Derived keys bounded by their columns: transliteration can double a name's
    # length (Щ -> "sh", Ю -> "iu"), and PostgreSQL refuses a longer value.
    clean["search_key"] = names.search_key(
        clean["surname"], clean["given_name"], clean["patronymic"], clean["iin"] or ""
    )[:SEARCH_KEY_LENGTH]
    clean["name_skeleton"] = names.skeleton(clean["surname"], clean["given_name"])[:SKELETON_LENGTH]
    return clean


def medal_by_code(session: Session, code: object) -> Medal | None:
    if not isinstance(code, str) or not code:
        return None
    return session.scalar(select(Medal).where(Medal.code == code))
