"""Turn what a person or an integrator sent into clean values, or say exactly
what is wrong with each field.  The HTML forms and the JSON API both call these,
so a rule lives in one place."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed
from ..names import search_key
from ..parsing import is_true, parse_bool, parse_datetime, parse_email, parse_int, parse_phone
from ..text import TextError, clean_text, name_error, text_field
from .models import CATEGORIES, MAX_COMPANIONS

if TYPE_CHECKING:
    from ..districts.models import District
    from .models import Ceremony

NEED_CODES = ("wheelchair", "hearing", "near_exit")
MAX_CAPACITY = 100_000


class _Errors(dict[str, Any]):
    def text(
        self,
        data: Mapping[str, Any],
        key: str,
        *,
        max_length: int,
        required: bool = False,
        multiline: bool = False,
        label_required: object = None,
    ) -> str:
        return text_field(
            data,
            key,
            self,
            max_length=max_length,
            required=required,
            multiline=multiline,
            required_message=label_required,
        )


def _parse_needs(data: Mapping[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    needs = dict.fromkeys(NEED_CODES, False)
    note_raw = data.get("needs_note")
    raw = data.get("needs")
    if isinstance(raw, str):
        note_raw = raw if note_raw is None else note_raw
    elif isinstance(raw, list):
        for item in raw:
            if item not in NEED_CODES:
                errors["needs"] = _l("Unknown need: %(need)s. Use wheelchair, hearing, near_exit.", need=str(item)[:40])
            else:
                needs[item] = True
    elif isinstance(raw, dict):
        for key, value in raw.items():
            if key == "note":
                note_raw = value
            elif key in NEED_CODES:
                needs[key] = parse_bool(value, field="needs", errors=errors)
            else:
                errors["needs"] = _l("Unknown need: %(need)s. Use wheelchair, hearing, near_exit.", need=str(key)[:40])
    elif raw is not None:
        errors["needs"] = _l("Must be a list of needs or an object.")
    for code in NEED_CODES:
        if f"needs_{code}" in data:
            needs[code] = parse_bool(data[f"needs_{code}"], field=f"needs_{code}", errors=errors) or needs[code]
    try:
        note = clean_text(note_raw, max_length=500, multiline=True)
    except TextError as exc:
        errors["needs_note"] = exc.args[0]
        note = ""
    return {
        "needs_wheelchair": needs["wheelchair"],
        "needs_hearing": needs["hearing"],
        "needs_near_exit": needs["near_exit"],
        "needs_note": note,
    }


def parse_registration(data: Mapping[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    full_name = errors.text(data, "full_name", max_length=200, required=True, label_required=_l("Enter the full name."))
    if full_name and (problem := name_error(full_name)):
        errors["full_name"] = problem
    email = parse_email(data.get("email"), errors=errors)
    phone = parse_phone(data.get("phone"), errors=errors)
    if email is None and phone is None and "email" not in errors and "phone" not in errors:
        message = _l("Give a phone number or an e-mail address so that we can reach you.")
        errors["phone"] = message
        errors["email"] = message
    companions = parse_int(
        data.get("companions"), field="companions", errors=errors, minimum=0, maximum=MAX_COMPANIONS, default=0
    )
    category = data.get("category")
    if category not in CATEGORIES:
        errors["category"] = _l("Choose a category.") if not category else _l("Unknown category.")
    needs = _parse_needs(data, errors)
    consent = data.get("consent")
    if not is_true(consent):
        errors["consent"] = _l("Registration needs your consent to the processing of personal data.")
    if errors:
        raise ValidationFailed(dict(errors))
    assert companions is not None  # parse_int gave its default or an error
    return {
        "full_name": full_name,
        "name_key": search_key(full_name)[:400],
        "email": email,
        "phone": phone,
        "companions": companions,
        "seats": companions + 1,
        "category": category,
        **needs,
    }


def parse_ceremony(
    data: Mapping[str, Any],
    *,
    tz: str,
    now: datetime,
    creating: bool,
    district_lookup: Callable[[str | None], District | None],
    current: Ceremony | None = None,
) -> dict[str, Any]:
    """Clean a ceremony's fields.  On update, missing keys keep their values."""
    if current is not None:
        merged = current.snapshot()
        merged.update({k: v for k, v in data.items() if k in merged or k == "district"})
        data = merged
    errors = _Errors()
    clean: dict[str, Any] = {
        "title_kk": errors.text(data, "title_kk", max_length=200, required=True),
        "title_ru": errors.text(data, "title_ru", max_length=200, required=True),
        "title_en": errors.text(data, "title_en", max_length=200),
        "description_kk": errors.text(data, "description_kk", max_length=5000, multiline=True),
        "description_ru": errors.text(data, "description_ru", max_length=5000, multiline=True),
        "venue": errors.text(data, "venue", max_length=200, required=True),
        "venue_kk": errors.text(data, "venue_kk", max_length=200),
        "venue_ru": errors.text(data, "venue_ru", max_length=200),
        "venue_en": errors.text(data, "venue_en", max_length=200),
        "address": errors.text(data, "address", max_length=300),
    }
    clean["starts_at"] = parse_datetime(data.get("starts_at"), field="starts_at", errors=errors, tz=tz, required=True)
    clean["registration_opens_at"] = parse_datetime(
        data.get("registration_opens_at"), field="registration_opens_at", errors=errors, tz=tz, required=False
    )
    clean["registration_closes_at"] = parse_datetime(
        data.get("registration_closes_at"), field="registration_closes_at", errors=errors, tz=tz, required=False
    )
    clean["capacity"] = parse_int(
        data.get("capacity"), field="capacity", errors=errors, minimum=1, maximum=MAX_CAPACITY
    )
    clean["waitlist"] = parse_bool(data.get("waitlist", False), field="waitlist", errors=errors)
    code = data.get("district")
    district = district_lookup(code) if isinstance(code, str) and code else None
    if district is None:
        errors["district"] = _l("Choose a district.") if not code else _l("Unknown district.")
    clean["district"] = district
    status = data.get("status", "draft") if creating else None
    if creating and status not in ("draft", "published"):
        errors["status"] = _l("The status must be draft or published.")
    starts = clean["starts_at"]
    if starts and starts <= now and (creating or (current is not None and starts != current.starts_at)):
        errors["starts_at"] = _l("The start time must be in the future.")
    opens, closes = clean["registration_opens_at"], clean["registration_closes_at"]
    if starts and closes and closes > starts:
        errors["registration_closes_at"] = _l("Registration must close no later than the ceremony starts.")
    if opens and closes and opens >= closes:
        errors["registration_opens_at"] = _l("Registration must open before it closes.")
    if errors:
        raise ValidationFailed(dict(errors))
    if creating:
        clean["status"] = status
    return clean
