"""The calendar invitation (.ics) sent with a ticket, written here per RFC 5545.

Written by hand rather than with the ``icalendar`` library: we need one VEVENT
with a dozen properties, and the format rules that matter are few (CRLF line
ends, lines folded at 75 octets without splitting a UTF-8 character, TEXT
values escaped, times in UTC with a ``Z``).  That is less code than a runtime
dependency; the tests parse what we write with ``icalendar`` as an independent
reader.

METHOD:PUBLISH (RFC 5546), not REQUEST: the attendee adds the ceremony to the
calendar, there is nothing to accept or decline.  The UID is fixed per
registration, and SEQUENCE grows with time, so a later message about the same
registration (a changed time, a cancellation) updates or removes the event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_DURATION = timedelta(hours=2)
_SEQUENCE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets (3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    limit = 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append("".join(current))
            current, size, limit = [], 0, 74  # continuation lines start with one space
        current.append(ch)
        size += n
    out.append("".join(current))
    return "\r\n ".join(out)


def utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def sequence_at(now: datetime) -> int:
    """A SEQUENCE that grows with every message (seconds since 2024: fits an INTEGER until 2092)."""
    return max(0, int((now - _SEQUENCE_EPOCH).total_seconds()))


def event(
    *,
    uid: str,
    starts_at: datetime,
    summary: str,
    location: str,
    description: str,
    url: str,
    organizer_name: str,
    organizer_email: str,
    now: datetime,
    cancelled: bool = False,
    duration: timedelta = DEFAULT_DURATION,
) -> bytes:
    """One VEVENT in a VCALENDAR, as the bytes of an .ics file."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Award Service//Ceremonies//KK",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{utc_stamp(now)}",
        f"SEQUENCE:{sequence_at(now)}",
        f"DTSTART:{utc_stamp(starts_at)}",
        f"DTEND:{utc_stamp(starts_at + duration)}",
        f"SUMMARY:{escape_text(summary)}",
        f"LOCATION:{escape_text(location)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        f'ORGANIZER;CN="{organizer_name.replace(chr(34), "")}":mailto:{organizer_email}',
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
