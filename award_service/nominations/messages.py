"""The messages to nominators: a nomination returned, approved (with the
decree) or rejected, and one message per nominator for a decision on a list.
Decided inside the workflow's transaction, composed by the sender, registered
by kind with the mail registry."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, bindparam, cast, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..mail import registry
from ..mail.outbox import enqueue_from, first_id, id_of, insert_from
from ..mail.registry import Composed
from ..mail.render import link, render
from .models import Nomination
from .workflow import STATUS_LABELS

NOMINATION_ACTIONS = {
    "return": "returned",
    "returned": "returned",
    "approve": "approved",
    "approved": "approved",
    "reject": "rejected",
    "rejected": "rejected",
}
QUIET_NOMINATION_ACTIONS = frozenset(
    {"submit", "submitted", "recommend", "recommended", "withdraw", "withdrawn", "award", "awarded", "create", "update"}
)

_TO_NOMINATOR = insert_from(
    select(User.email, User.language, cast(Nomination.id, String), Nomination.district_id)
    .join(User, User.id == Nomination.created_by_id)
    .where(
        Nomination.id == bindparam("nomination_id", type_=Integer),
        User.active.is_(True),
        User.email.is_not(None),
        User.email != "",
    )
)
_TO_USER = insert_from(
    select(
        User.email, User.language, bindparam("object_id", type_=String), bindparam("district_id", type_=Integer)
    ).where(
        User.id == bindparam("user_id", type_=Integer), User.active.is_(True), User.email.is_not(None), User.email != ""
    )
)


def nomination_status_changed(
    session, nomination, action: str, *, comment: str | None = None, now: datetime | None = None
) -> int | None:
    """Tell the nominator who entered the nomination that it was returned,
    approved (with the decree) or rejected, with ``comment`` (the reason; by
    default the nomination's last comment when the message is composed).
    ``action`` is the workflow action (``return``, ``approve``, ``reject``) or
    the state it led to (``returned``, ``approved``, ``rejected``); the other
    steps send nothing."""
    if action in QUIET_NOMINATION_ACTIONS:
        return None
    if action not in NOMINATION_ACTIONS:
        raise ValueError(f"unknown nomination action {action!r}")
    params = {"status": NOMINATION_ACTIONS[action]}
    if comment is not None:
        params["comment"] = comment
    return first_id(
        enqueue_from(
            session,
            _TO_NOMINATOR,
            kind="nomination_status_changed",
            object_type="nomination",
            params=params,
            now=now,
            nomination_id=id_of(nomination),
        )
    )


def nominations_decided(
    session, nominations, action: str, *, comment: str | None = None, now: datetime | None = None
) -> list[int]:
    """A decision on many nominations at once (a decree's list, a bulk return):
    one message per nominator, listing theirs -- not one per nomination.  A
    nominator with one nomination in the list gets the ordinary message."""
    if action in QUIET_NOMINATION_ACTIONS:
        return []
    if action not in NOMINATION_ACTIONS:
        raise ValueError(f"unknown nomination action {action!r}")
    by_nominator: dict[int, list[Nomination]] = {}
    for nomination in nominations:
        if nomination.created_by_id is not None:
            by_nominator.setdefault(nomination.created_by_id, []).append(nomination)
    ids = []
    for user_id, theirs in sorted(by_nominator.items()):
        theirs.sort(key=lambda n: n.id)
        if len(theirs) == 1:
            one = nomination_status_changed(session, theirs[0].id, action, comment=comment, now=now)
            ids.extend([one] if one is not None else [])
            continue
        districts = {n.district_id for n in theirs}
        district_id = districts.pop() if len(districts) == 1 else None  # several: region-wide organisers see it
        params = {"status": NOMINATION_ACTIONS[action], "nominations": [n.id for n in theirs]}
        if comment is not None:
            params["comment"] = comment
        ids.extend(
            enqueue_from(
                session,
                _TO_USER,
                kind="nominations_decided",
                object_type="nomination",
                params=params,
                now=now,
                user_id=user_id,
                object_id=str(theirs[0].id),
                district_id=district_id,
            )
        )
    return ids


# ------------------------------------------------------------------ composing (by the sender)


def _nomination(session, message, subject, language, params, now) -> Composed:
    user = session.get(User, subject.created_by_id)
    status = params["status"]
    rendered = render(
        "nomination_status_changed",
        language,
        name=user.name,
        nomination_id=subject.id,
        nominee=subject.nominee.full_name,
        medal=subject.medal.name(language),
        status=status,
        status_label=STATUS_LABELS[status],
        comment=params.get("comment", subject.last_comment) or "",
        decree_number=subject.decree_number,
        decree_date=subject.decree_date,
        link=link(f"/staff/nominations/{subject.id}", language),
    )
    return Composed(rendered.subject, rendered.text, rendered.html)


def _nominations(session, message, subject, language, params, now) -> Composed:
    rows = list(
        session.scalars(
            select(Nomination)
            .where(Nomination.id.in_(params["nominations"]))
            .options(selectinload(Nomination.nominee), selectinload(Nomination.medal))
            .order_by(Nomination.id)
        )
    )
    if not rows:
        raise LookupError(f"nominations {params['nominations']} do not exist")
    user = session.get(User, rows[0].created_by_id)
    status = params["status"]
    first = rows[0]
    rendered = render(
        "nominations_decided",
        language,
        name=user.name,
        count=len(rows),
        status=status,
        status_label=STATUS_LABELS[status],
        comment=params.get("comment", first.last_comment) or "",
        decree_number=first.decree_number,
        decree_date=first.decree_date,
        nominations=[{"id": n.id, "nominee": n.nominee.full_name, "medal": n.medal.name(language)} for n in rows],
        link=link("/staff/nominations/", language, status=status),
    )
    return Composed(rendered.subject, rendered.text, rendered.html)


def _load_nomination(session, object_id: str) -> Nomination | None:
    return session.get(Nomination, int(object_id))


registry.register(
    "nomination_status_changed",
    label=_l("Nomination decision"),
    object_type="nomination",
    load=_load_nomination,
    compose=_nomination,
)
registry.register(
    "nominations_decided",
    label=_l("Decision on several nominations"),
    object_type="nomination",
    load=_load_nomination,
    compose=_nominations,
)
