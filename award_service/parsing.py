"""Parsers of one value from a form, the API, an import row or the command line.

Each returns the parsed value, or records what is wrong under ``field`` in
``errors`` (the services raise :class:`~award_service.errors.ValidationFailed`
with them all at once) and returns ``None``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from .timeutil import from_local

TRUE_VALUES = {True, "1", "true", "True", "on", "yes", "y"}
FALSE_VALUES = {False, "0", "false", "False", "off", "no", "n", "", None}


def is_true(value: object) -> bool:
    return isinstance(value, (str, int, bool)) and value in TRUE_VALUES


def parse_bool(value: object, *, field: str, errors: dict[str, Any]) -> bool:
    if is_true(value):
        return True
    if value is None or (isinstance(value, (str, int, bool)) and value in FALSE_VALUES):
        return False
    errors[field] = _l("Must be true or false.")
    return False


def parse_int(
    value: object, *, field: str, errors: dict[str, Any], minimum: int, maximum: int, default: int | None = None
) -> int | None:
    if value is None or value == "":
        if default is not None:
            return default
        errors[field] = _l("This field is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        errors[field] = _l("Must be a whole number.")
        return None
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        errors[field] = _l("Must be a whole number.")
        return None
    if not minimum <= number <= maximum:
        errors[field] = _l("Must be between %(min)d and %(max)d.", min=minimum, max=maximum)
        return None
    return number


def parse_datetime(value: object, *, field: str, errors: dict[str, Any], tz: str, required: bool) -> datetime | None:
    """ISO 8601; a time without an offset is Kazakhstan (deployment) time."""
    if value is None or value == "":
        if required:
            errors[field] = _l("This field is required.")
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            errors[field] = _l("Enter a date and time such as 2025-05-09T19:00.")
            return None
    else:
        errors[field] = _l("Enter a date and time such as 2025-05-09T19:00.")
        return None
    return from_local(parsed, tz)


def parse_email(value: object, *, errors: dict[str, Any]) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 254:
        errors["email"] = _l("Enter a valid e-mail address, such as name@example.kz.")
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors["email"] = _l("Enter a valid e-mail address, such as name@example.kz.")
        return None


def parse_phone(value: object, *, errors: dict[str, Any]) -> str | None:
    """Kazakhstan numbers, written any usual way (8 701 …, +7 (701) …) -> +77011234567."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    message = _l("Enter a phone number such as +7 701 234 56 78.")
    if not isinstance(value, str) or len(value) > 30:
        errors["phone"] = message
        return None
    raw = value.strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.startswith("8") and len(digits) == 11:
        raw = "+7" + digits[1:]
    try:
        number = phonenumbers.parse(raw, "KZ")
    except phonenumbers.NumberParseException:
        errors["phone"] = message
        return None
    if number.country_code != 7 or not phonenumbers.is_valid_number(number):
        errors["phone"] = message
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
