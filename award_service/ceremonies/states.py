"""The ceremony's and the registration's states: each defined once, with its
labels and its transition table (models' CHECK constraints, services, forms,
pages and the API all read these)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..states import Labelled, machine


@machine("ceremony")
class CeremonyStatus(Labelled):
    DRAFT = "draft", _l("Draft"), _l("draft")
    PUBLISHED = "published", _l("Published"), _l("published")
    CLOSED = "closed", _l("Registration closed"), _l("closed")
    CANCELLED = "cancelled", _l("Cancelled"), _l("cancelled")


@machine("ceremony_action")
class CeremonyAction(Labelled):
    PUBLISH = "publish", _l("Publish")
    CLOSE = "close", _l("Close registration")
    CANCEL = "cancel", _l("Cancel the ceremony")


C = CeremonyStatus
# action -> (states it may start from, state it leads to)
CEREMONY_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    CeremonyAction.PUBLISH: (frozenset({C.DRAFT, C.CLOSED}), C.PUBLISHED),
    CeremonyAction.CLOSE: (frozenset({C.PUBLISHED}), C.CLOSED),
    CeremonyAction.CANCEL: (frozenset({C.DRAFT, C.PUBLISHED, C.CLOSED}), C.CANCELLED),
}


@machine("registration")
class RegistrationStatus(Labelled):
    CONFIRMED = "confirmed", _l("Confirmed")
    WAITLISTED = "waitlisted", _l("On the waiting list")
    CANCELLED = "cancelled", _l("Registration cancelled")


R = RegistrationStatus
# What may follow what: a seat is taken (registering, or promotion from the
# waiting list) or given up; a cancelled registration stays cancelled.
REGISTRATION_TRANSITIONS: dict[str, frozenset[str]] = {
    R.CONFIRMED: frozenset({R.CANCELLED}),
    R.WAITLISTED: frozenset({R.CONFIRMED, R.CANCELLED}),
    R.CANCELLED: frozenset(),
}
