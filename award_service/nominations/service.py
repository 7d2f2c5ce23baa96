"""Nominations: entering, checking and deciding on jubilee-medal nominations.

Like every service here: plain arguments (the acting user included), domain
errors, the audit event in the same transaction, commit at the end.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.permissions import can
from ..actor import ActingUser, Actor
from ..audit import diff, record
from ..dates import local_today
from ..districts.models import District
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..text import TextError, clean_text, text_field
from ..timeutil import utcnow
from .duplicates import active_with_iin, duplicate_nominee_error, likely_duplicates
from .models import Nomination, NominationDocument, Nominee
from .nominees import medal_by_code, parse_nominee

MAX_DOCUMENT_SIZE = 10 * 1024 * 1024
DOCUMENT_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


# ------------------------------------------------------------- duplicates


# ------------------------------------------------------------- nominations


def _nomination_snapshot(n: Nomination) -> dict[str, Any]:
    nominee = n.nominee
    return {
        "surname": nominee.surname,
        "given_name": nominee.given_name,
        "patronymic": nominee.patronymic,
        "iin": nominee.iin,
        "birth_date": nominee.birth_date,
        "category": nominee.category,
        "district": nominee.district.code,
        "address": nominee.address,
        "phone": nominee.phone,
        "medal": n.medal.code,
        "grounds": n.grounds,
    }


def _check_may_enter(actor: Actor, district: District) -> None:
    if actor.user is None:
        return
    if not can(actor.user, "nominations.create", district):
        raise Forbidden(
            _l("You can enter nominations only for your own district."),
            fields={"district": _l("Outside your district.")},
        )


def _nominee_fields(
    session: Session, data: dict[str, Any], today: date, errors: dict[str, Any]
) -> dict[str, Any] | None:
    """parse_nominee inside a nomination: its field errors go to ``errors`` as nominee.<field>."""
    try:
        return parse_nominee(session, data, today=today)
    except ValidationFailed as exc:
        errors.update({f"nominee.{k}": v for k, v in exc.fields.items()})
        return None


def create_nomination(session: Session, actor: Actor, data: dict[str, Any], *, today: date | None = None) -> Nomination:
    """A new draft nomination.  ``data``: {nominee: {...}, medal, grounds}."""
    today = today or local_today()
    given = data.get("nominee")
    nominee_data: dict[str, Any] = given if isinstance(given, dict) else {}
    errors: dict[str, Any] = {}
    clean = _nominee_fields(session, nominee_data, today, errors)
    medal = medal_by_code(session, data.get("medal"))
    if medal is None:
        errors["medal"] = _l("Choose a medal.") if not data.get("medal") else _l("Unknown medal.")
    elif not medal.active:
        errors["medal"] = _l("This medal is no longer awarded.")
    grounds = text_field(data, "grounds", errors, max_length=5000, multiline=True, required=True)
    if not isinstance(data.get("nominee"), dict):
        errors["nominee"] = _l("Give the nominee's details.")
    if errors:
        raise ValidationFailed(errors)
    # No errors: the nominee parsed and the medal was found.
    assert clean is not None and medal is not None
    _check_may_enter(actor, clean["district"])
    existing = active_with_iin(session, medal.id, clean["iin"])
    if existing:
        raise duplicate_nominee_error(existing)
    district = clean.pop("district")
    nominee = Nominee(district_id=district.id, **clean)
    session.add(nominee)
    session.flush()
    similar = likely_duplicates(session, medal.id, nominee.birth_date, nominee.name_skeleton)
    nomination = Nomination(
        nominee_id=nominee.id,
        medal_id=medal.id,
        district_id=district.id,
        iin=nominee.iin,
        search_key=nominee.search_key,
        grounds=grounds,
        status="draft",
        version=1,
        possible_duplicate=bool(similar),
        created_by_id=actor.user.id if actor.user else None,
    )
    session.add(nomination)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = active_with_iin(session, medal.id, clean["iin"])
        if existing:
            raise duplicate_nominee_error(existing) from None
        raise
    record(
        session,
        actor,
        "nomination.create",
        "nomination",
        nomination.id,
        after={**_nomination_snapshot(nomination), "status": "draft", "possible_duplicate_of": similar},
    )
    session.commit()
    return nomination


def update_nomination(
    session: Session,
    actor: Actor,
    nomination: Nomination,
    data: dict[str, Any],
    *,
    today: date | None = None,
) -> Nomination:
    """Edit a draft or returned nomination (the nominator's)."""
    today = today or local_today()
    if nomination.status not in ("draft", "returned"):
        raise Conflict(_l("Only a draft or returned nomination can be edited."), code="invalid_transition")
    if actor.user is not None and not (
        "nominator" in actor.user.roles and can(actor.user, "nominations.create", nomination)
    ):
        raise Forbidden()
    before = _nomination_snapshot(nomination)
    merged = {**before, **(data.get("nominee") or {})} if isinstance(data.get("nominee"), dict) else before
    errors: dict[str, Any] = {}
    clean = _nominee_fields(session, merged, today, errors)
    grounds = text_field(
        {"grounds": data.get("grounds", nomination.grounds)},
        "grounds",
        errors,
        max_length=5000,
        multiline=True,
        required=True,
    )
    if errors:
        raise ValidationFailed(errors)
    assert clean is not None  # no errors: the nominee parsed
    _check_may_enter(actor, clean["district"])
    existing = active_with_iin(session, nomination.medal_id, clean["iin"], exclude_id=nomination.id)
    if existing:
        raise duplicate_nominee_error(existing)
    # Take the row only if it is still the draft or returned version this edit
    # was read from: a submission (or another edit) that got in first wins, and
    # this edit is refused rather than silently applied to a submitted nomination.
    version = nomination.version
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(Nomination)
            .where(
                Nomination.id == nomination.id,
                Nomination.version == version,
                Nomination.status.in_(("draft", "returned")),
            )
            .values(version=version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise changed_meanwhile(nomination.id)
    set_committed_value(nomination, "version", version + 1)
    district = clean.pop("district")
    nominee = nomination.nominee
    try:
        for key, value in clean.items():
            setattr(nominee, key, value)
        nominee.district_id = district.id
        nomination.district_id = district.id
        nomination.iin = nominee.iin
        nomination.search_key = nominee.search_key
        nomination.grounds = grounds
        similar = likely_duplicates(
            session, nomination.medal_id, nominee.birth_date, nominee.name_skeleton, exclude_id=nomination.id
        )
        nomination.possible_duplicate = bool(similar)
        if not similar:
            nomination.duplicate_confirmed = False
        session.flush()
        session.expire(nominee, ["district"])
        b, a = diff(before, _nomination_snapshot(nomination))
        if a:
            record(session, actor, "nomination.update", "nomination", nomination.id, before=b, after=a)
        session.commit()
    except IntegrityError:  # the same IIN entered for this medal at the same moment
        session.rollback()
        existing = active_with_iin(session, nomination.medal_id, clean["iin"], exclude_id=nomination.id)
        if existing:
            raise duplicate_nominee_error(existing) from None
        raise Conflict(code="conflict") from None
    return nomination


def changed_meanwhile(nomination_id: int) -> Conflict:
    return Conflict(
        _l("Someone else has just changed nomination № %(id)d. Reload it to see its state.", id=nomination_id),
        code="conflict",
    )


def get_nomination(session: Session, nomination_id: Any) -> Nomination:
    """``nomination_id``: whatever the caller got (URL, JSON, form); not a number is not found."""
    try:
        nomination_id = int(nomination_id)
    except (TypeError, ValueError):
        raise NotFound(_l("No such nomination.")) from None
    nomination = session.get(Nomination, nomination_id) if 0 < nomination_id < 2**31 else None
    if nomination is None:
        raise NotFound(_l("No such nomination."))
    return nomination


def visible_to(user: ActingUser, nomination: Nomination) -> bool:
    return can(user, "nominations.view", nomination)


# -------------------------------------------------------------- workflow


# --------------------------------------------------------------- documents


def sniff_document(data: bytes) -> str | None:
    for signature, content_type in DOCUMENT_SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None


def add_document(
    session: Session, actor: Actor, nomination: Nomination, filename: str, data: bytes
) -> NominationDocument:
    """A supporting document, added by a nominator of the nomination's district."""
    if actor.user is not None and not (
        "nominator" in actor.user.roles and can(actor.user, "nominations.create", nomination)
    ):
        raise Forbidden(_l("Documents are added by the nominators of the nomination's district."))
    if nomination.status not in ("draft", "returned", "submitted"):
        raise Conflict(_l("Documents can be added until the nomination is recommended."), code="invalid_transition")
    if not data:
        raise ValidationFailed({"document": _l("The file is empty.")})
    if len(data) > MAX_DOCUMENT_SIZE:
        raise ValidationFailed({"document": _l("The file is larger than 10 MB.")})
    content_type = sniff_document(data)
    if content_type is None:
        raise ValidationFailed(
            {
                "document": _l(
                    "Only PDF, JPEG and PNG files are accepted; this file is none of them, whatever its name says."
                )
            }
        )
    try:
        name = clean_text(filename or "document", max_length=200) or "document"
    except TextError:
        name = "document"
    document = NominationDocument(
        nomination_id=nomination.id,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_id=actor.user.id if actor.user else None,
    )
    session.add(document)
    session.flush()
    record(
        session,
        actor,
        "nomination.document_add",
        "nomination",
        nomination.id,
        after={"document_id": document.id, "filename": name, "content_type": content_type, "size": len(data)},
    )
    session.commit()
    return document


# ----------------------------------------------------------------- lists
