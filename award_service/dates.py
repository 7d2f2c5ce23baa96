"""Dates as people type them, and today's date where the service runs."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from .timeutil import to_local, utcnow

DEFAULT_ZONE = "Asia/Almaty"
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def local_today() -> date:
    """Today in the deployment's zone (Kazakhstan, UTC+5): from 19:00 UTC it is
    already tomorrow there, and a decree signed that morning bears that date."""
    try:
        zone_name = current_app.config.get("AWARD_TIMEZONE") or DEFAULT_ZONE
    except RuntimeError:  # no app (a script): the service's own default
        zone_name = DEFAULT_ZONE
    return to_local(utcnow(), zone_name).date()


def parse_date(value, field: str, errors: dict) -> date | None:
    """A date from an ISO string (API, date inputs) or dd.mm.yyyy (typed, and
    how dates are written here); a message in ``errors[field]`` otherwise."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and value.strip():
        raw = value.strip()
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(raw, fmt).date()  # noqa: DTZ007  (only the date is kept)
            except ValueError:
                continue
    errors[field] = _l("Enter a date such as 14.03.1927 or 1927-03-14.")
    return None
