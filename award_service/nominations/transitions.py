"""Deciding on nominations: one workflow step (a row of :mod:`.workflow`'s
table) applied with a conditional UPDATE, alone or to a list under one decree,
with separation of duties, quotas, the awards issued (through
:mod:`.events`) and the nominator told -- in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from ..accounts.permissions import can
from ..actor import ActingUser, Actor
from ..audit import record
from ..dates import local_today
from ..dates import parse_date as _date
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..medals.models import Medal, MedalQuota
from ..telemetry import APPROVALS
from ..text import text_field
from ..timeutil import utcnow
from . import events, messages, workflow
from .duplicates import likely_duplicates
from .models import Nomination
from .quotas import quota_error, take_places
from .service import changed_meanwhile
from .workflow import ACTION_LABELS, STATUS_LABELS

ROLE_NAMES = {
    "nominator": _l("nominator"),
    "reviewer": _l("reviewer"),
    "commission": _l("commission"),
    "clerk": _l("clerk"),
}


def _invalid_transition(nomination: Nomination, action: str) -> Conflict:
    return Conflict(
        _l(
            "A nomination that is %(status)s cannot be changed this way (%(action)s).",
            status=STATUS_LABELS.get(nomination.status, nomination.status),
            action=ACTION_LABELS.get(action, action),
        ),
        code="invalid_transition",
    )


def check_transition(user: ActingUser | None, nomination: Nomination, action: str) -> workflow.Transition:
    """The table row for this action from the nomination's state, if ``user`` may take it."""
    if action not in workflow.ACTIONS:
        raise ValidationFailed({"action": _l("Unknown action.")})
    step = workflow.find(action, nomination.status)
    if step is None:
        raise _invalid_transition(nomination, action)
    if user is not None:
        if not can(user, "nominations.view", nomination):
            raise Forbidden(_l("This step is for the %(role)s of the district.", role=ROLE_NAMES[step.role]))
        if step.role not in user.roles:
            if any(t.role in user.roles for t in workflow.TRANSITIONS if t.action == action):
                # The user's role takes this action from another state (a reviewer
                # rejects a submitted nomination; this one was recommended meanwhile):
                # the state is what stands in the way, not the user's rights.
                raise _invalid_transition(nomination, action)
            raise Forbidden(_l("This step is for the %(role)s of the district.", role=ROLE_NAMES[step.role]))
        if action in ("recommend", "approve") and nomination.created_by_id == user.id:
            raise Forbidden(_l("You entered this nomination, so someone else must recommend or approve it."))
        if action == "approve" and nomination.recommended_by_id == user.id:
            raise Forbidden(_l("You recommended this nomination, so someone else must approve it."))
    return step


def _decision_fields(
    step: workflow.Transition,
    comment: object,
    decree_number: object,
    decree_date: object,
    medals: Iterable[Medal] = (),
) -> tuple[str, str | None, date | None]:
    """The comment and decree of a decision, checked; ``medals``: those being
    approved, whose years of award the decree's date must fall in."""
    errors: dict[str, Any] = {}
    if isinstance(decree_number, int) and not isinstance(decree_number, bool):
        decree_number = str(decree_number)  # {"decree_number": 45} in JSON means № 45
    comment = text_field(
        {"comment": comment}, "comment", errors, max_length=2000, multiline=True, required=step.needs_reason
    )
    if step.needs_reason and "comment" in errors and not comment:
        errors["comment"] = _l("Say why: the reason is sent to the nominator.")
    number: str | None = None
    dd: date | None = None
    if step.needs_decree:
        number = text_field({"decree_number": decree_number}, "decree_number", errors, max_length=50, required=True)
        if decree_date in (None, ""):
            errors["decree_date"] = _l("Give the decree's date.")
        else:
            dd = _date(decree_date, "decree_date", errors)
            if dd is not None and dd > local_today():
                errors["decree_date"] = _l("The decree's date is in the future.")
            elif dd is not None:
                for medal in medals:
                    last = medal.award_year_to or dd.year
                    if not medal.award_year_from <= dd.year <= last:
                        errors["decree_date"] = _l(
                            "This medal is awarded in %(years)s; a decree of %(year)d cannot award it.",
                            years=f"{medal.award_year_from}–{medal.award_year_to or ''}",
                            year=dd.year,
                        )
    if errors:
        raise ValidationFailed(errors)
    return comment, number or None, dd


def _apply(
    session: Session,
    actor: Actor,
    nomination: Nomination,
    step: workflow.Transition,
    comment: str,
    number: str | None,
    dd: date | None,
    *,
    confirm_duplicate: bool,
    expected_version: int | None,
    take_quota: bool = True,
    tell_nominator: bool = True,
) -> None:
    """One transition inside the caller's transaction; raises without committing.
    ``take_quota=False``: an approval's place in the quota is the caller's to take
    (after every nomination row, see bulk_transition); ``tell_nominator=False``:
    so is the message to the nominator (one for the whole list)."""
    now = utcnow()
    if (
        step.action == "submit"
        and nomination.possible_duplicate
        and not (nomination.duplicate_confirmed or confirm_duplicate)
    ):
        similar = likely_duplicates(
            session,
            nomination.medal_id,
            nomination.nominee.birth_date,
            nomination.nominee.name_skeleton,
            exclude_id=nomination.id,
        )
        if similar:
            raise Conflict(
                _l(
                    "This may be the same person as nomination № %(ids)s (same birth date, similar "
                    "name). Check, then confirm that it is a different person to submit.",
                    ids=", ".join(map(str, similar)),
                ),
                code="duplicate_nominee",
                possible_duplicates=similar,
            )
    values: dict[str, Any] = {
        "status": step.target,
        "version": Nomination.version + 1,
        "updated_at": now,
        "last_comment": comment or "",
    }
    if step.action == "submit":
        values.update(submitted_at=now, duplicate_confirmed=bool(nomination.duplicate_confirmed or confirm_duplicate))
    elif step.action == "recommend":
        values.update(recommended_by_id=actor.user.id if actor.user else None, recommended_at=now)
    elif step.action == "approve":
        values.update(
            approved_by_id=actor.user.id if actor.user else None, approved_at=now, decree_number=number, decree_date=dd
        )
    conditions = [Nomination.id == nomination.id, Nomination.status == step.source]
    if expected_version is not None:
        conditions.append(Nomination.version == expected_version)
    else:
        conditions.append(Nomination.version == nomination.version)
    changed = cast(
        "CursorResult[Any]",
        session.execute(
            update(Nomination).where(*conditions).values(**values).execution_options(synchronize_session=False)
        ),
    )
    if changed.rowcount != 1:
        raise changed_meanwhile(nomination.id)
    if step.action == "approve" and take_quota:
        if not take_places(session, nomination.medal_id, nomination.district_id, 1):
            raise quota_error(session, nomination)
        assert number is not None and dd is not None  # an approval's decree: required by _decision_fields
        events.send_approved(session, actor, [nomination], decree_number=number, decree_date=dd)
    record(
        session,
        actor,
        f"nomination.{step.action}",
        "nomination",
        nomination.id,
        before={"status": step.source},
        after={"status": step.target, **({"decree_number": number, "decree_date": dd} if number else {})},
        reason=comment or None,
    )
    if tell_nominator and step.action in ("return", "approve", "reject"):
        # To the nominator, after the commit.
        messages.nomination_status_changed(session, nomination.id, step.action, comment=comment)


def transition(
    session: Session,
    actor: Actor,
    nomination: Nomination,
    action: str,
    *,
    comment: object = None,
    decree_number: object = None,
    decree_date: object = None,
    confirm_duplicate: bool = False,
    expected_version: int | None = None,
) -> Nomination:
    step = check_transition(actor.user, nomination, action)
    comment, number, dd = _decision_fields(step, comment, decree_number, decree_date, [nomination.medal])
    try:
        _apply(
            session,
            actor,
            nomination,
            step,
            comment,
            number,
            dd,
            confirm_duplicate=confirm_duplicate,
            expected_version=expected_version,
        )
    except Conflict:
        session.rollback()
        raise
    session.commit()
    if step.action == "approve":
        APPROVALS.inc()
    session.refresh(nomination)
    return nomination


@dataclass
class BulkApproval:
    """What :func:`approve_what_fits` did: ``approved`` under the decree, and
    ``not_approved``, the rows a district's quota had no place for (they stay
    recommended, in the queue), with the quota that stopped each group."""

    approved: list[Nomination] = field(default_factory=list)
    not_approved: list[Nomination] = field(default_factory=list)
    # (medal id, district id) -> the quota now full, for each group that did not fit.
    full_quotas: dict[tuple[int, int], int] = field(default_factory=dict)


def bulk_transition(
    session: Session,
    actor: Actor,
    ids: Iterable[Any],
    action: str,
    *,
    comment: object = None,
    decree_number: object = None,
    decree_date: object = None,
) -> list[Nomination]:
    """Take one action on many nominations with one comment (and decree): all or
    nothing, so that a decree never covers half of its list (the API and the
    demo; the queue's approval takes what fits, :func:`approve_what_fits`)."""
    return _bulk(
        session, actor, ids, action, comment=comment, decree_number=decree_number, decree_date=decree_date
    ).approved


def approve_what_fits(
    session: Session,
    actor: Actor,
    ids: Iterable[Any],
    *,
    comment: object = None,
    decree_number: object = None,
    decree_date: object = None,
) -> BulkApproval:
    """Approve many nominations under one decree, as many as each district's
    quota has places for; the rest are named, not approved, and stay in the queue.

    The order rows are taken in: by nomination number, oldest first -- the
    queue's own order, so whoever has waited longest gets the last places.
    Every other refusal (a row in the wrong state, a right the user lacks, a bad
    decree) still changes nothing.  If no row fits at all, it is the quota's
    Conflict, as before.  If another approval takes places between the count
    and the taking, nothing is approved (the same Conflict): try again."""
    return _bulk(
        session,
        actor,
        ids,
        "approve",
        comment=comment,
        decree_number=decree_number,
        decree_date=decree_date,
        fit_quota=True,
    )


def _places_left(session: Session, medal_id: int, district_id: int) -> tuple[int, int]:
    quota = session.scalar(
        select(MedalQuota)
        .where(MedalQuota.medal_id == medal_id, MedalQuota.district_id == district_id)
        .execution_options(populate_existing=True)
    )
    return (quota.quota, quota.used) if quota else (0, 0)


def _bulk(
    session: Session,
    actor: Actor,
    ids: Iterable[Any],
    action: str,
    *,
    comment: object = None,
    decree_number: object = None,
    decree_date: object = None,
    fit_quota: bool = False,
) -> BulkApproval:
    try:
        wanted = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ValidationFailed({"ids": _l("Choose nominations from the list.")}) from None
    if not wanted:
        raise ValidationFailed({"ids": _l("Choose at least one nomination.")})
    if len(wanted) > 1000:
        raise ValidationFailed({"ids": _l("At most 1000 nominations at once.")})
    rows = {n.id: n for n in session.scalars(select(Nomination).where(Nomination.id.in_(wanted)))}
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise NotFound(_l("No such nomination: %(ids)s.", ids=", ".join(map(str, missing[:20]))))
    steps = {i: check_transition(actor.user, rows[i], action) for i in wanted}
    first = steps[wanted[0]]
    medals = {rows[i].medal_id: rows[i].medal for i in wanted}
    comment, number, dd = _decision_fields(first, comment, decree_number, decree_date, medals.values())
    outcome = BulkApproval()
    taking = wanted
    if fit_quota:
        # How many each district's quota has room for, counted before any row is
        # written; the rows beyond it, in number order, are left out.
        groups: dict[tuple[int, int], list[int]] = {}
        for i in wanted:
            if steps[i].action == "approve":
                groups.setdefault((rows[i].medal_id, rows[i].district_id), []).append(i)
        left_out: set[int] = set()
        for key, members in groups.items():
            total, used = _places_left(session, *key)
            room = max(total - used, 0)
            if room < len(members):
                left_out.update(members[room:])
                outcome.full_quotas[key] = total
        if left_out and len(left_out) == len(wanted):
            session.rollback()
            raise quota_error(session, rows[wanted[0]])
        taking = [i for i in wanted if i not in left_out]
        outcome.not_approved = [rows[i] for i in wanted if i in left_out]
    try:
        # Every nomination row first, in id order, then the quota rows in key
        # order: the locks are taken in the order a single approval takes them
        # (its nomination, then its quota), so a decree and a single approval of
        # one of its nominations cannot deadlock.
        places: dict[tuple[int, int], list[Nomination]] = {}
        for i in taking:
            _apply(
                session,
                actor,
                rows[i],
                steps[i],
                comment,
                number,
                dd,
                confirm_duplicate=False,
                expected_version=None,
                take_quota=False,
                tell_nominator=False,
            )
            if steps[i].action == "approve":
                places.setdefault((rows[i].medal_id, rows[i].district_id), []).append(rows[i])
        for (medal_id, district_id), approving in sorted(places.items()):
            if not take_places(session, medal_id, district_id, len(approving)):
                raise quota_error(session, approving[0], requested=len(approving))
        # Last, the medals' certificate counters: the lock order of a single
        # approval (nomination, quota, counter); numbers in id order.
        approved = [rows[i] for i in taking if steps[i].action == "approve"]
        if approved:
            assert number is not None and dd is not None  # an approval's decree: required by _decision_fields
            events.send_approved(session, actor, approved, decree_number=number, decree_date=dd)
        # Each nominator is told once, of all theirs in the list, after the commit.
        messages.nominations_decided(session, [rows[i] for i in taking], first.action, comment=comment)
    except Conflict:
        session.rollback()
        raise
    session.commit()
    APPROVALS.inc(sum(1 for i in taking if steps[i].action == "approve"))
    for n in rows.values():
        session.refresh(n)
    outcome.approved = [rows[i] for i in taking]
    return outcome
