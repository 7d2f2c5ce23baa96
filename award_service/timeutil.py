"""Time: stored in UTC, shown and entered in the deployment's zone.

Kazakhstan moved to a single zone, UTC+5, on 1 March 2024.  Operating systems
with older zone data still put Almaty at UTC+6, so the zone is read from the
``tzdata`` package (a pinned dependency) rather than from the OS.
"""

from __future__ import annotations

import importlib.resources
from datetime import UTC, datetime
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
