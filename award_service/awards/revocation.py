"""Revoking a certificate and reissuing it under a new serial, with the name
it prints corrected if need be (the nominee's record is left as approved)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from ..actor import Actor
from ..audit import record
from ..errors import Conflict, ValidationFailed
from ..extensions import DbSession
from ..nominations.models import Nomination
from ..text import text_field
from ..timeutil import utcnow
from .corrections import corrected_name
from .models import Award
from .service import _allocate, _check_may, _new_award, _snapshot


def _reason(value: object, errors: dict[str, Any], *, required: bool, message: object = None) -> str:
    data = {"reason": value}
    return text_field(
        data, "reason", errors, max_length=1000, multiline=True, required=required, required_message=message
    )


def revoke(
    session: DbSession,
    actor: Actor,
    award: Award,
    reason: object,
    *,
    reissue: bool = False,
    corrections: object = None,
) -> Award:
    """Revoke a certificate (admin): it then verifies as revoked.  With
    ``reissue`` a new certificate with a new serial takes its place, printing
    the name with ``corrections`` applied (see :func:`reissue`)."""
    _check_may(actor, "awards.revoke", award)
    errors: dict[str, Any] = {}
    reason = _reason(reason, errors, required=True)
    name = corrected_name(session, award, corrections, errors)
    if corrections is not None and not reissue:
        errors["reissue"] = _l("A corrected name is printed on a new certificate: ask for the reissue too.")
    if errors:
        raise ValidationFailed(errors)
    if award.status == "revoked":
        raise Conflict(_l("Certificate %(serial)s is already revoked.", serial=award.serial), code="revoked")
    _revoke_row(session, actor, award, reason)
    replacement = _reissue(session, actor, award, name=name, reason=reason) if reissue else None
    session.commit()
    session.refresh(award)
    return replacement or award


def reissue(
    session: DbSession, actor: Actor, award: Award, *, reason: object = None, corrections: object = None
) -> Award:
    """A new certificate (new serial and code) in place of this one, printing
    its name with ``corrections`` applied (surname, given_name, patronymic;
    each optional).  A valid certificate is revoked by the reissue, so it
    needs a reason; so does a correction.  A revoked one with no correction
    needs none (the reason was given at the revocation)."""
    _check_may(actor, "awards.revoke", award)
    errors: dict[str, Any] = {}
    if award.status == "valid":
        reason = _reason(
            reason, errors, required=True, message=_l("Give the reason: the reissue revokes this certificate.")
        )
    else:
        reason = _reason(
            reason, errors, required=corrections is not None, message=_l("Give the reason for the correction.")
        )
    name = corrected_name(session, award, corrections, errors)
    if errors:
        raise ValidationFailed(errors)
    if award.status == "valid":
        _revoke_row(session, actor, award, reason)
    replacement = _reissue(session, actor, award, name=name, reason=reason)
    session.commit()
    session.refresh(award)
    return replacement


def _revoke_row(session: DbSession, actor: Actor, award: Award, reason: str) -> None:
    changed: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE
        update(Award)
        .where(Award.id == award.id, Award.status == "valid")
        .values(
            status="revoked",
            revoked_at=utcnow(),
            revoked_by_id=actor.user.id if actor.user else None,
            revoke_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        session.rollback()
        raise Conflict(
            _l("Someone else has just changed certificate %(serial)s. Reload the page.", serial=award.serial),
            code="conflict",
        )
    record(
        session,
        actor,
        "award.revoke",
        "award",
        award.serial,
        before={"status": "valid"},
        after={"status": "revoked"},
        reason=reason,
    )


def _reissue(session: DbSession, actor: Actor, old: Award, *, name: dict[str, str], reason: str) -> Award:
    already = _l("Certificate %(serial)s was already reissued.", serial=old.serial)
    if session.scalar(select(Award.serial).where(Award.reissue_of_id == old.id)):
        session.rollback()
        raise Conflict(already, code="conflict")
    nomination = session.get_one(Nomination, old.nomination_id)
    if nomination.status not in ("approved", "awarded"):
        session.rollback()
        raise Conflict(_l("The nomination is no longer approved."), code="invalid_transition")
    prefix, (number,) = _allocate(session, old.medal_id, 1)
    new = _new_award(
        nomination,
        prefix,
        number,
        actor,
        old.decree_number,
        old.decree_date,
        name=name,
        reissue_of_id=old.id,
        ceremony_id=old.ceremony_id,
    )
    session.add(new)
    try:
        session.flush()
    except IntegrityError:  # another reissue of the same certificate at the same moment
        session.rollback()
        raise Conflict(already, code="conflict") from None
    before: dict[str, Any] = {"serial": old.serial}
    after = _snapshot(new)
    if name != old.name_parts:  # the correction, part by part, beside the new serial
        before.update(old.name_parts, full_name=old.full_name)
        after.update(name, full_name=new.full_name)
    record(session, actor, "award.reissue", "award", new.serial, before=before, after=after, reason=reason or None)
    return new
