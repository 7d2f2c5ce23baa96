"""A lost manage link, sent again to the e-mail address registered with it.

Whoever types an address gets the same answer whether or not it has a
registration, so the page tells no one who registered; the links go only to
the address itself.  One message an address in a quarter of an hour however
often it is asked (the outbox's dedupe key, a keyed hash of the address: no
address in clear), and the page is rate-limited per client.  Each
registration whose link is sent gets an audit event (by its id: no address,
no name)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..actor import Actor
from ..audit import record
from ..errors import ValidationFailed
from ..extensions import DbSession
from ..parsing import parse_email
from ..timeutil import utcnow
from . import messages
from .models import Ceremony, Registration

# At most this many links in one message (the soonest ceremonies first).
MAX_LINKS = 20
# One message an address in this many seconds.
RESEND_WINDOW = 15 * 60


def address_key(email: str) -> str:
    """The address as a keyed hash: the same for one address, useless without the key."""
    key = hashlib.sha256(str(current_app.config["SECRET_KEY"]).encode()).digest()
    return hashlib.blake2b(email.encode(), key=key, digest_size=16).hexdigest()


def resend_links(
    session: DbSession, actor: Actor, email: object, *, language: str = "kk", now: datetime | None = None
) -> int:
    """E-mail the manage links of the active registrations for ceremonies still
    to come made with ``email``; how many (0: nothing sent -- the caller must
    not tell).  ValidationFailed for an address that is not one."""
    errors: dict = {}
    address = parse_email(email, errors=errors)
    if address is None:
        raise ValidationFailed(errors or {"email": _l("Enter the e-mail address you registered with.")})
    now = now or utcnow()
    found = session.scalars(
        select(Registration)
        .join(Ceremony, Ceremony.id == Registration.ceremony_id)
        .where(
            Registration.email == address,
            Registration.status != "cancelled",
            Ceremony.status != "draft",
            Ceremony.starts_at > now,
        )
        .order_by(Ceremony.starts_at, Registration.id)
        .limit(MAX_LINKS)
    ).all()
    if not found:
        return 0
    window = int(now.timestamp()) // RESEND_WINDOW
    message_id = messages.registration_links(
        session,
        found,
        address,
        language,
        dedupe_key=f"registration_links:{address_key(address)}:{window}",
        now=now,
    )
    if message_id is not None:  # not sent already in this quarter of an hour
        for registration in found:
            record(
                session,
                actor,
                "registration.link_resent",
                "registration",
                registration.id,
                after={"message": message_id},
            )
    session.commit()
    return len(found) if message_id is not None else 0
