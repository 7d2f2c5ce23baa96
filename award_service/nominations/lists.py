"""The lists of nominations a user may see: filters, search and the queue of
what waits for them, all within the user's district scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from .. import names
from ..accounts.models import User
from ..accounts.permissions import scoped_district_id
from ..districts.models import District
from ..errors import ValidationFailed
from ..medals.models import Medal
from . import workflow
from .models import NOMINEE_CATEGORIES, STATUSES, Nomination, Nominee


def list_query(
    user: User | None,
    *,
    status: str | None = None,
    district: str | None = None,
    medal: str | None = None,
    category: str | None = None,
    q: str | None = None,
    join_nominee: bool = False,
) -> Select[tuple[Nomination]]:
    """Nominations visible to ``user`` with the filters; newest first.

    Nominees are joined only when a filter needs them (or the caller selects
    their columns, ``join_nominee``): a queue's COUNT otherwise joins every
    nominee for nothing (bench/nominations.py, 50,000 rows).  The name and IIN
    search uses the nomination's own copies, so a search within a status and
    district reads one table.
    """
    stmt = select(Nomination)
    if join_nominee or category:
        stmt = stmt.join(Nominee, Nominee.id == Nomination.nominee_id)
    scope = scoped_district_id(user)
    if scope is not None:
        stmt = stmt.where(Nomination.district_id == scope)
    if status:
        stmt = stmt.where(Nomination.status == status)
    if district:
        stmt = stmt.where(Nomination.district.has(District.code == district))
    if medal:
        stmt = stmt.where(Nomination.medal.has(Medal.code == medal))
    if category:
        stmt = stmt.where(Nominee.category == category)
    if q:
        key = names.search_key(q)
        conditions: list[ColumnElement[bool]] = []
        if key:
            conditions.append(and_(*[Nomination.search_key.like(f"%{word}%") for word in key.split()]))
        # An IIN typed in groups ("2801 0230"): its start.  Only when the query is
        # a number: in "Сәуле 2801" the digits narrow the name search instead.
        digits = "".join(ch for ch in q if ch.isdigit())
        if len(digits) >= 4 and all(ch.isdigit() or ch in " -" for ch in q.strip()):
            conditions.append(Nomination.iin.like(f"{digits}%"))
        stmt = stmt.where(or_(*conditions)) if conditions else stmt.where(false())
    return stmt.order_by(Nomination.id.desc())


def queue_query(user: User, *, district: str | None = None) -> Select[tuple[Nomination]]:
    """What waits for ``user``: by role, within the user's district scope;
    ``district``: one district's only (a code)."""
    states: list[str] = []
    for role, role_states in workflow.QUEUE_STATES.items():
        if user.has_role(role):
            states.extend(role_states)
    stmt = list_query(user, district=district).where(Nomination.status.in_(states or ["-"]))
    if user.has_role("nominator") and not user.has_role("reviewer", "commission", "clerk"):
        stmt = stmt.where(Nomination.created_by_id == user.id)
    return stmt


def validate_filters(args: Mapping[str, str]) -> dict[str, str | None]:
    errors: dict[str, Any] = {}
    status = args.get("status") or None
    if status and status not in STATUSES:
        errors["status"] = _l("Unknown status.")
    category = args.get("category") or None
    if category and category not in NOMINEE_CATEGORIES:
        errors["category"] = _l("Unknown category.")
    q = args.get("q") or None
    if q and len(q) > 100:
        errors["q"] = _l("Must be at most %(n)d characters.", n=100)
    if errors:
        raise ValidationFailed(errors)
    return {
        "status": status,
        "district": args.get("district") or None,
        "medal": args.get("medal") or None,
        "category": category,
        "q": q,
    }
