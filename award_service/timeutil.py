"""Time: stored in UTC, shown and entered in the deployment's zone.

Kazakhstan moved to a single zone, UTC+5, on 1 March 2024.  Operating systems
with older zone data still put Almaty at UTC+6, so the zone is read from the
``tzdata`` package (a pinned dependency) rather than from the OS.
"""

from __future__ import annotations

import importlib.resources
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    try:
        resource = importlib.resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
        with resource.open("rb") as fh:
            return ZoneInfo.from_file(fh, key=name)
    except (ModuleNotFoundError, FileNotFoundError):
        return ZoneInfo(name)


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def to_local(value: datetime, zone_name: str) -> datetime: ...
@overload
def to_local(value: None, zone_name: str) -> None: ...
@overload
def to_local(value: datetime | None, zone_name: str) -> datetime | None: ...
def to_local(value: datetime | None, zone_name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(zone_name))


@overload
def from_local(value: datetime, zone_name: str) -> datetime: ...
@overload
def from_local(value: None, zone_name: str) -> None: ...
@overload
def from_local(value: datetime | None, zone_name: str) -> datetime | None: ...
def from_local(value: datetime | None, zone_name: str) -> datetime | None:
    """A wall-clock time in the deployment's zone (naive or aware) -> aware UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(zone_name))
    return value.astimezone(UTC)


# ---------------------------------------------------------------- showing dates and times
#
# One format on pages, PDFs and mail alike: 09.05.2027, 19:00, the 24-hour
# clock, in the deployment's zone.  Kazakh and Russian write dates so; English
# pages use the same form on purpose: it is the form every date field asks for
# ("Day.month.year"), the one printed on the bilingual certificates and
# tickets, and staff compare the three; the four-digit year and the dots keep
# it from reading as an American month/day.  A language that needs another
# form gets its pattern here.  Pure functions (no Flask), so the PDF kit uses
# them too; ``i18n`` gives them the page's language and zone.

DATE_PATTERNS = {"kk": "%d.%m.%Y", "ru": "%d.%m.%Y", "en": "%d.%m.%Y"}


def show_date(value: date | datetime | None, language: str, zone_name: str | None = None) -> str:
    """A date as people read it in ``language`` (a datetime: its local day in ``zone_name``)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value, zone_name).date() if zone_name else value.date()
    return value.strftime(DATE_PATTERNS.get(language, "%d.%m.%Y"))


def show_time(value: datetime | None, zone_name: str) -> str:
    """The local hour and minute, 19:00."""
    if value is None:
        return ""
    return f"{to_local(value, zone_name):%H:%M}"


def show_datetime(value: datetime | None, language: str, zone_name: str) -> str:
    """A moment in the deployment's zone: 09.05.2027, 19:00."""
    if value is None:
        return ""
    return f"{show_date(value, language, zone_name)}, {show_time(value, zone_name)}"


def iso_local(value: date | datetime | None, zone_name: str) -> str:
    """For files that machines read (CSV, XLSX): ISO 8601 with the zone's offset,
    2027-05-09T19:00:00+05:00; a date alone as 2027-05-09."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_local(value, zone_name).replace(microsecond=0).isoformat()
    return value.isoformat()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite returns naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
