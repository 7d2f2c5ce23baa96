"""What the history pages of a ceremony and of a registration call things."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..audit.display import HistoryLabels

CEREMONY_FIELDS = {
    "title_kk": _l("Title (Kazakh)"),
    "title_ru": _l("Title (Russian)"),
    "title_en": _l("Title (English)"),
    "description_kk": _l("Description (Kazakh)"),
    "description_ru": _l("Description (Russian)"),
    "starts_at": _l("Starts at"),
    "venue": _l("Venue"),
    "venue_kk": _l("Venue (Kazakh)"),
    "venue_ru": _l("Venue (Russian)"),
    "venue_en": _l("Venue (English)"),
    "address": _l("Address"),
    "district": _l("District"),
    "capacity": _l("Capacity (seats)"),
    "registration_opens_at": _l("Registration opens"),
    "registration_closes_at": _l("Registration closes"),
    "waitlist": _l("Keep a waiting list when full"),
    "status": _l("Status"),
}

CEREMONY_HISTORY = HistoryLabels(
    fields=CEREMONY_FIELDS,
    actions={
        "ceremony.create": _l("Created"),
        "ceremony.update": _l("Changed"),
        "ceremony.publish": _l("Published"),
        "ceremony.close": _l("Registration closed"),
        "ceremony.cancel": _l("Cancelled"),
    },
    machines={"status": "ceremony"},
)

REGISTRATION_HISTORY = HistoryLabels(
    fields={
        "ceremony_id": _l("Ceremony"),
        "seats": _l("Seats"),
        "status": _l("Status"),
        "source": _l("Registered by"),
        "position": _l("Place on the waiting list"),
        "companions_arrived": _l("Companions who came"),
    },
    actions={
        "registration.create": _l("Registered"),
        "registration.waitlist": _l("Added to the waiting list"),
        "registration.promote": _l("Given a seat from the waiting list"),
        "registration.waitlist_move": _l("Moved on the waiting list"),
        "registration.cancel": _l("Registration cancelled"),
        "registration.checkin": _l("Checked in"),
    },
    machines={"status": "registration"},
    values={"source": {"online": _l("the person, online"), "api": _l("the API"), "staff": _l("staff, by phone")}},
)
