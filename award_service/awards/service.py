"""The award register: issuing awards on approval, attaching them to the
ceremony where they are presented, marking them presented, revoking and
reissuing them, and public verification.

Like every service here: plain arguments (the acting user included), domain
errors, the audit event in the same transaction; the caller of
:func:`issue_awards` commits (it runs inside the approval's transaction).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from .. import codes
from ..accounts.permissions import can
from ..actor import Actor
from ..audit import record
from ..ceremonies.models import Ceremony
from ..dates import local_today, parse_date
from ..errors import Conflict, Forbidden, ValidationFailed
from ..extensions import DbSession
from ..i18n import local_date
from ..medals.models import Medal
from ..nominations import events as nomination_events
from ..nominations.models import Nomination
from ..timeutil import utcnow
from .collation import sort_key
from .corrections import printed_name
from .models import Award

MAX_SERIALS = 1000


def _snapshot(award: Award) -> dict[str, Any]:
    return {
        "serial": award.serial,
        "nomination_id": award.nomination_id,
        "status": award.status,
        "ceremony_id": award.ceremony_id,
    }


# ------------------------------------------------------------------ issuing


def _allocate(session: DbSession, medal_id: int, count: int) -> tuple[str, list[int]]:
    """``count`` consecutive numbers of the medal's counter: one conditional
    UPDATE ... RETURNING in the caller's transaction, so a rollback gives them
    back and two approvals never get the same one (the row lock orders them)."""
    row = session.execute(
        update(Medal)
        .where(Medal.id == medal_id)
        .values(serial_counter=Medal.serial_counter + count)
        .returning(Medal.serial_counter, Medal.serial_prefix)
        .execution_options(synchronize_session=False)
    ).one()
    last, prefix = row
    return prefix, list(range(last - count + 1, last + 1))


def _new_award(
    nomination: Nomination,
    prefix: str,
    number: int,
    actor: Actor,
    decree_number: str,
    decree_date: date,
    name: dict[str, str] | None = None,
    **extra: Any,
) -> Award:
    """An award for the nomination; it prints ``name`` (surname, given_name,
    patronymic), by default the nominee's as approved."""
    nominee = nomination.nominee
    if name is None:
        name = {"surname": nominee.surname, "given_name": nominee.given_name, "patronymic": nominee.patronymic or ""}
    return Award(
        serial=f"{prefix}-{number:05d}",
        medal_id=nomination.medal_id,
        number=number,
        nomination_id=nomination.id,
        district_id=nomination.district_id,
        **name,
        full_name=printed_name(name),
        sort_key=sort_key(name["surname"], name["given_name"], name["patronymic"]),
        decree_number=decree_number,
        decree_date=decree_date,
        verify_code=codes.new_code(),
        status="valid",
        created_by_id=actor.user.id if actor.user else None,
        **extra,
    )


def issue_awards(
    session: DbSession, actor: Actor, nominations: list[Nomination], *, decree_number: str, decree_date: date
) -> list[Award]:
    """An award for each nomination just approved under this decree, inside the
    approval's transaction; numbers follow the order given (the caller's id
    order), so a decree's list gets consecutive numbers."""
    awards: list[Award] = []
    by_medal: dict[int, list[Nomination]] = {}
    for n in nominations:
        by_medal.setdefault(n.medal_id, []).append(n)
    for medal_id in sorted(by_medal):  # counter rows locked in one order
        group = by_medal[medal_id]
        prefix, numbers = _allocate(session, medal_id, len(group))
        for n, number in zip(group, numbers):
            awards.append(_new_award(n, prefix, number, actor, decree_number, decree_date))
    session.add_all(awards)
    session.flush()
    for a in awards:
        record(session, actor, "award.issue", "award", a.serial, after=_snapshot(a))
    return awards


@nomination_events.approved.connect
def _issue_on_approval(
    session: DbSession, *, actor: Actor, nominations: list[Nomination], decree_number: str, decree_date: date
) -> None:
    """The workflow approved these under a decree: issue their certificates in its transaction."""
    issue_awards(session, actor, nominations, decree_number=decree_number, decree_date=decree_date)


# ------------------------------------------------------------------ reading


# ------------------------------------------------------------------ changes


def _check_may(actor: Actor, permission: str, award: Award) -> None:
    if actor.user is not None and not can(actor.user, permission, award):
        raise Forbidden()


def parse_presented_date(value: object, award_dates: list[date], *, today: date | None = None) -> date:
    errors: dict[str, Any] = {}
    day = parse_date(value, "date", errors)
    if day is not None:
        today = today or local_today()
        if day > today:
            errors["date"] = _l("The date is in the future.")
        elif award_dates and day < max(award_dates):
            errors["date"] = _l("The date comes before the decree (%(date)s).", date=local_date(max(award_dates)))
    if errors or day is None:  # no day: parse_date said why in errors
        raise ValidationFailed(errors)
    return day


EARLY_MARGIN = timedelta(days=1)


def _check_not_early(awards: list[Award]) -> None:
    """Marking presented an award whose ceremony is more than a day away is
    most likely a slip (the wrong row ticked, the wrong ceremony): ask first."""
    limit = utcnow() + EARLY_MARGIN
    for award in awards:
        ceremony = award.ceremony
        if ceremony is not None and ceremony.starts_at > limit:
            raise Conflict(
                _l(
                    "Certificate %(serial)s is to be presented at the ceremony of %(date)s, which has not taken "
                    "place yet. Mark it presented anyway?",
                    serial=award.serial,
                    date=local_date(ceremony.starts_at),
                ),
                code="ceremony_in_future",
            )


def mark_presented(
    session: DbSession, actor: Actor, serials: object, on: object, *, confirm_early: bool = False
) -> list[Award]:
    """The medal was handed over: the award is presented on that day and its
    nomination moves to ``awarded``.  All or nothing.  If an award's ceremony
    is more than a day away, refused (``ceremony_in_future``) unless
    ``confirm_early``."""
    awards = _awards_for(session, serials)
    for award in awards:
        _check_may(actor, "awards.present", award)
    day = parse_presented_date(on, [a.decree_date for a in awards])
    for award in awards:
        if award.status != "valid":
            raise Conflict(
                _l("Certificate %(serial)s is revoked; it cannot be presented.", serial=award.serial), code="revoked"
            )
        if award.presented_on is not None:
            raise Conflict(
                _l(
                    "Certificate %(serial)s was already presented on %(date)s.",
                    serial=award.serial,
                    date=local_date(award.presented_on),
                ),
                code="already_presented",
            )
    if not confirm_early:
        _check_not_early(awards)
    user_id = actor.user.id if actor.user else None
    try:
        for award in awards:
            changed: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE
                update(Award)
                .where(Award.id == award.id, Award.status == "valid", Award.presented_on.is_(None))
                .values(presented_on=day, presented_by_id=user_id)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:
                raise Conflict(
                    _l("Someone else has just changed certificate %(serial)s. Reload the page.", serial=award.serial),
                    code="conflict",
                )
            record(
                session,
                actor,
                "award.presented",
                "award",
                award.serial,
                before={"presented_on": None},
                after={"presented_on": day},
            )
            moved: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # an UPDATE
                update(Nomination)
                .where(Nomination.id == award.nomination_id, Nomination.status == "approved")
                .values(status="awarded", version=Nomination.version + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount == 1:
                record(
                    session,
                    actor,
                    "nomination.award",
                    "nomination",
                    award.nomination_id,
                    before={"status": "approved"},
                    after={"status": "awarded", "serial": award.serial, "presented_on": day},
                )
    except Conflict:
        session.rollback()
        raise
    session.commit()
    for award in awards:
        session.refresh(award)
    return awards


def _awards_for(session: DbSession, serials: object) -> list[Award]:
    if isinstance(serials, str):
        serials = [serials]
    if not isinstance(serials, (list, tuple)) or not all(isinstance(s, str) for s in serials):
        raise ValidationFailed({"serials": _l("Give a list of serial numbers.")})
    wanted = sorted({s.strip().upper() for s in serials if s.strip()})
    if not wanted:
        raise ValidationFailed({"serials": _l("Choose at least one certificate.")})
    if len(wanted) > MAX_SERIALS:
        raise ValidationFailed({"serials": _l("At most %(n)d certificates at once.", n=MAX_SERIALS)})
    found = {a.serial: a for a in session.scalars(select(Award).where(Award.serial.in_(wanted)).order_by(Award.id))}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise ValidationFailed(
            {"serials": _l("No award has the serial number %(serial)s.", serial=", ".join(missing[:20]))}
        )
    return [found[s] for s in wanted]


def attach_to_ceremony(session: DbSession, actor: Actor, ceremony: Ceremony, serials: object) -> list[Award]:
    """These awards will be presented at this ceremony.  All or nothing."""
    awards = _awards_for(session, serials)
    for award in awards:
        _check_may(actor, "awards.present", award)
    if ceremony.status == "cancelled":
        raise Conflict(_l("This ceremony is cancelled."), code="ceremony_cancelled")
    for award in awards:
        if award.status != "valid":
            raise Conflict(_l("Certificate %(serial)s is revoked.", serial=award.serial), code="revoked")
        if award.presented_on is not None and award.ceremony_id != ceremony.id:
            raise Conflict(
                _l(
                    "Certificate %(serial)s was already presented on %(date)s.",
                    serial=award.serial,
                    date=local_date(award.presented_on),
                ),
                code="already_presented",
            )
    for award in awards:
        if award.ceremony_id != ceremony.id:
            record(
                session,
                actor,
                "award.attach",
                "award",
                award.serial,
                before={"ceremony_id": award.ceremony_id},
                after={"ceremony_id": ceremony.id},
            )
            award.ceremony_id = ceremony.id
    session.commit()
    return awards
